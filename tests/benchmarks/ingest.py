"""Ingest throughput and growth: batches of 500 over HTTP with deduplication, against a store
already holding N entries, on SQLite and PostgreSQL.

One measurement (``measure``):
1. A fresh database; ``canvass-server serve`` as a subprocess (tests/server_helpers.py).
2. A campaign, then the store pre-filled with N accepted entries by a **bulk path**, not the
   API (1,000,000 entries through the API would take the benchmark's whole budget): rows are
   built with the server's own functions -- ``FieldCipher.encrypt`` under the server's field
   key (Services), ``sync.matching.matching_keys`` / ``blocking_keys`` under the campaign's
   index key, ``content_fingerprint`` -- and written straight into ``entries``,
   ``signer_keys``, ``block_keys`` and ``dedup_index`` (COPY on PostgreSQL, executemany on
   SQLite). The rows are what the intake would have written for those entries.
3. A real device: DeviceStore enrolled through the API, M entries of the same drive (with 6%
   repeat signatures) saved locally, pushed by the real ``SyncClient.sync_once`` (batches of
   500). Per-batch latency is the HTTP round trip of each POST /v1/entries/batch; the
   server's peak RSS is sampled from its process during the push.
4. Baseline in the same run: the same M rows (encrypted the same way) plain-INSERTed into a
   copy of the ``entries`` table in the same database, 500 per transaction, no dedup.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sync.synthetic import Drive, generate_drive

BATCH = 500
PG_ADMIN = os.environ.get("CANVASS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _server_helpers():
    try:
        from tests import server_helpers  # python -m tests.benchmarks.run
    except ImportError:  # under pytest, tests/ itself is on sys.path
        import server_helpers
    return server_helpers


@dataclass
class IngestResult:
    backend: str
    stored: int
    entries: int
    seconds: float
    entries_per_s: float
    p50_batch_ms: float
    p95_batch_ms: float
    server_peak_rss_mb: float
    plain_entries_per_s: float
    cost_ratio: float  # per-entry time with dedup over HTTP / per-entry time of plain inserts
    ms_per_entry: float
    prefill_seconds: float
    statuses: dict
    # The server side alone: entries / the sum of the batch round trips (the device's own work
    # between batches, on the same cores, left out), and CPU per entry of each side. None for
    # several devices: their batches overlap, so the sum of round trips is no measure.
    server_entries_per_s: float | None = None
    server_cpu_ms_per_entry: float = 0.0
    device_cpu_ms_per_entry: float = 0.0
    index_pull_seconds: float = 0.0  # the device's first download of the stored index (untimed)
    devices: int = 1  # devices pushing at once (each its own DeviceStore + SyncClient)
    workers: int = 1  # uvicorn worker processes of the server
    postgres_cpu_ms_per_entry: float | None = None  # all PostgreSQL processes, during the push

    def row(self) -> dict:
        return asdict(self)


# ------------------------------------------------------------------------------ databases


@contextlib.contextmanager
def fresh_database(backend: str, workdir: Path):
    if backend == "sqlite":
        yield f"sqlite:///{workdir / f'ingest-{uuid.uuid4().hex[:8]}.db'}"
        return
    import psycopg

    name = f"canvass_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                         (name,))
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return True
    except Exception:
        return False


# ------------------------------------------------------------------------------ row building


class RowBuilder:
    """Rows exactly as the intake writes them for an accepted entry (see module docstring)."""

    def __init__(self, keys, db, campaign_id: str) -> None:
        from sync.crypto import FieldCipher
        from sync.server.admin import campaign_index_key
        from sync.server.keys import FINGERPRINT_LABEL
        from sync.server.models import Campaign

        self.cipher = FieldCipher(keys.subkey("canvass/field-cipher/v1"))
        self.fingerprint_key = keys.subkey(FINGERPRINT_LABEL)
        with db.read() as s:
            self.index_key = campaign_index_key(keys, s.get(Campaign, campaign_id))
        self.campaign_id = campaign_id
        self.start = datetime(2024, 5, 1, 16, 0, tzinfo=UTC)

    def entry_row(self, i: int, fields: dict[str, str], device_id: str, batch_id: str,
                  status: str = "accepted") -> dict:
        from sync.domain import PERSONAL_FIELDS, content_fingerprint
        from sync.ids import new_uuid7
        from sync.normalize import normalized_record
        from sync.protocol import EntryWire
        from sync.server.match_blob import seal_match

        entry_id = new_uuid7()
        wire = EntryWire(entry_id=entry_id, device_seq=i + 1, section=f"P{i // 10:07d}",
                         line=i % 10 + 1, captured_at=self.start + timedelta(seconds=3 * i), **fields)
        row = {
            "id": entry_id, "campaign_id": self.campaign_id, "device_id": device_id,
            "device_seq": i + 1, "batch_id": batch_id, "section": wire.section, "line": wire.line,
            "captured_at": wire.captured_at, "supersedes": None, "superseded_by": None,
            "fingerprint": content_fingerprint(wire, self.fingerprint_key), "received_at": wire.captured_at,
            "status": status, "duplicate_of": None, "candidate_of": None, "reason_code": None,
            "reason_field": None, "counted": status == "accepted",
        }
        for name in PERSONAL_FIELDS:
            value = fields.get(name, "")
            row[f"enc_{name}"] = (self.cipher.encrypt(value, record_id=entry_id, field=name)
                                  if value else None)
        row["enc_match"] = seal_match(self.cipher, entry_id, normalized_record(fields))
        return row


def prefill(db, keys, campaign_id: str, drive: Drive, count: int) -> tuple[int, float]:
    """Bulk-write the first ``count`` non-repeat entries of ``drive`` as accepted entries."""
    from sqlalchemy import insert

    from sync.domain import utcnow
    from sync.ids import new_uuid7
    from sync.matching import blocking_keys, matching_keys
    from sync.normalize import normalized_record
    from sync.server.dedup import index_counter_name, next_counter
    from sync.server.models import BlockKey, Device, Entry, IndexKey, SignerKey

    t0 = time.perf_counter()
    if count <= 0:
        return 0, 0.0
    builder = RowBuilder(keys, db, campaign_id)
    device_id = new_uuid7()
    with db.write() as s:
        s.add(Device(id=device_id, campaign_id=campaign_id, circulator="bulk", name="bulk prefill",
                     token_hash=uuid.uuid4().hex, enrolled_at=utcnow()))
    claimed: set[str] = set()
    version = 0
    written = 0
    pg = not db.sqlite
    chunk = 20_000
    originals = (e for e in drive.entries if not e.is_repeat)
    while written < count:
        entries, signer, blocks, index = [], [], [], []
        for entry in originals:
            row = builder.entry_row(written, entry.fields, device_id, "bulk-prefill")
            record = normalized_record(entry.fields)
            for k in matching_keys(builder.index_key, record):
                if k in claimed:
                    continue  # e.g. a father and son written identically: the first claims it
                claimed.add(k)
                signer.append({"campaign_id": campaign_id, "key": k, "entry_id": row["id"]})
                version += 1
                index.append({"campaign_id": campaign_id, "version": version, "key": k})
            for b in blocking_keys(builder.index_key, record):
                blocks.append({"campaign_id": campaign_id, "key": b, "entry_id": row["id"]})
            entries.append(row)
            written += 1
            if len(entries) >= chunk or written >= count:
                break
        if not entries:
            break
        tables = [(Entry.__table__, entries), (SignerKey.__table__, signer),
                  (BlockKey.__table__, blocks), (IndexKey.__table__, index)]
        if pg:
            _copy_rows(db, tables)
        else:
            with db.engine.begin() as conn:
                for table, rows in tables:
                    if rows:
                        conn.execute(insert(table), rows)
    with db.write() as s:
        if version:
            next_counter(s, index_counter_name(campaign_id), version)
    if pg:  # a store in steady state has been vacuumed (visibility map set) and analyzed
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    return written, time.perf_counter() - t0


def _copy_rows(db, tables) -> None:
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        for table, rows in tables:
            if not rows:
                continue
            cols = list(rows[0])
            with cur.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[c] for c in cols])
        raw.commit()
    finally:
        raw.close()


def plain_insert_rate(db, keys, campaign_id: str, entries: list) -> float:
    """Entries per second of plain INSERTs of the same (encrypted) rows, 500 per transaction."""
    from sqlalchemy import Column, MetaData, Table, insert

    from sync.server.models import Entry

    md = MetaData()
    table = Table(f"bench_plain_{uuid.uuid4().hex[:6]}", md,
                  *[Column(c.name, c.type, primary_key=c.primary_key) for c in Entry.__table__.columns])
    md.create_all(db.engine)
    builder = RowBuilder(keys, db, campaign_id)
    rows = [builder.entry_row(i, e.fields, "plain", "plain") for i, e in enumerate(entries)]
    t0 = time.perf_counter()
    for start in range(0, len(rows), BATCH):
        with db.engine.begin() as conn:
            conn.execute(insert(table), rows[start:start + BATCH])
    seconds = time.perf_counter() - t0
    md.drop_all(db.engine)
    return len(rows) / seconds if seconds else 0.0


# ------------------------------------------------------------------------------ HTTP ingest


class PeakRss:
    """Samples the peak RSS (MB) of the server processes (children of this process)."""

    def __init__(self, marker: str) -> None:
        import psutil

        servers = [p for p in psutil.Process().children(recursive=True)
                   if marker in " ".join(p.cmdline())]
        # With several uvicorn workers, the workers are the server's children (spawned).
        self.procs = servers + [c for p in servers for c in p.children(recursive=True)]
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def cpu(self) -> float:
        """CPU seconds (user + system) the server processes have used so far."""
        total = 0.0
        for p in self.procs:
            with contextlib.suppress(Exception):
                times = p.cpu_times()
                total += times.user + times.system
        return total

    def _sample(self) -> None:
        total = 0
        for p in self.procs:
            with contextlib.suppress(Exception):
                total += p.memory_info().rss
        self.peak = max(self.peak, total / 2**20)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self._sample()

    def __enter__(self):
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sample()


def push_over_http(server, campaign_id: str, entries: list, workdir: Path,
                   ready: threading.Barrier | None = None, sections: str = "B",
                   done: threading.Barrier | None = None) -> PushTimes:
    """One device pushes ``entries`` (push_fleet counts CPU, for all devices at once).

    With ``ready``, several devices (threads) wait for each other once their entries are
    saved, so their timed pushes start together; each then needs its own ``sections`` prefix
    (circulators never share a petition section). With ``done`` they wait again after their
    pushes, so no device's bookkeeping runs during another's."""
    import requests

    from canvass.store import DeviceStore, KdfParams
    from sync.client import SyncClient
    from sync.device_keys import own_lines_key
    from sync.domain import SignerEntry
    from sync.enroll import enroll
    from sync.matching import matching_keys

    store = DeviceStore.create(workdir / f"device-{uuid.uuid4().hex[:6]}.db", "246813",
                               kdf=KdfParams(64, 1, 1))
    try:
        session = requests.Session()
        enroll(server.url, server.enroll_code(campaign_id, "Bench Circulator"), "bench", store,
               session=session)

        # A device in the field keeps its dedup index up to date from round to round, so the
        # first download of the whole index (3 keys per stored signer: ~3,000,000 keys with
        # 1,000,000 stored) is done, and timed apart, before the device's entries are saved;
        # the timed push then pulls only the keys its own batches claimed.
        client = SyncClient(store, session=session)
        t0 = time.perf_counter()
        for _round in range(1000):  # bounded; each round pulls up to MAX_FEED_PAGES pages
            if client.sync_once().index_keys_applied == 0:
                break
        index_pull_seconds = time.perf_counter() - t0
        index_key = own_lines_key(store)  # the key the app keys its own lines with
        for i, entry in enumerate(entries):
            serial = f"{sections}{i // 10:06d}"
            if i % 10 == 0:
                store.open_section(serial, "Bench Circulator")
            signer = SignerEntry(section=serial, line=i % 10 + 1, **entry.fields)
            store.save_entry(signer, matching_keys(index_key, entry.fields))
        latencies: list[float] = []

        def timed(response, *args, **kwargs):
            if response.request.method == "POST" and "/entries/batch" in response.request.url:
                latencies.append(response.elapsed.total_seconds())

        session.hooks["response"].append(timed)
        if ready is not None:
            ready.wait()
        t0 = time.perf_counter()
        for _round in range(len(entries) // BATCH + 5):  # bounded
            report = client.sync_once()
            if store.pending_count() == 0 or getattr(report, "error_kind", None):
                break
        t_end = time.perf_counter()
        if done is not None:
            done.wait()
        statuses: dict[str, int] = {}
        for stored in store.entries():
            status = getattr(stored, "status", "?")
            statuses[str(status)] = statuses.get(str(status), 0) + 1
        return PushTimes(latencies, statuses, index_pull_seconds, t0, t_end)
    finally:
        store.close()


@dataclass
class PushTimes:
    latencies: list[float]  # per POST /v1/entries/batch: the HTTP round trip
    statuses: dict
    index_pull_seconds: float  # the device's first download of the stored index, untimed above
    started: float  # perf_counter at the start and the end of the timed sync rounds (the push
    ended: float  # and the pulls of what its batches claimed)


@dataclass
class FleetPush:
    """Several devices pushing at once (``push_fleet``)."""

    seconds: float  # from the common start to the last device's end
    latencies: list[float]
    statuses: dict
    index_pull_seconds: float  # the slowest device's first download of the index (untimed)
    device_cpu_seconds: float  # this process (every device and sync client) during the push
    server_cpu_seconds: float  # the server processes during the push
    postgres_cpu_seconds: float  # every PostgreSQL process during the push (0 on SQLite)


def postgres_cpu() -> float:
    """CPU seconds used so far by all PostgreSQL processes of this machine."""
    import psutil

    total = 0.0
    for p in psutil.process_iter(["name"]):
        if p.info["name"] and p.info["name"].startswith("postgres"):
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                total += t.user + t.system
    return total


def push_fleet(server, campaign_id: str, parts: list[list], workdir: Path, rss: PeakRss,
               on_start: Callable[[], None] = lambda: None) -> FleetPush:
    """Each part pushed by its own device (a thread: DeviceStore + SyncClient), all starting
    together once every device has saved its entries -- the peak-day shape: many tablets
    syncing at once. One part is one device, as before."""
    marks: dict = {}
    results: list = [None] * len(parts)
    errors: list[BaseException] = []

    def start() -> None:
        marks.update(t0=time.perf_counter(), me=time.process_time(), server=rss.cpu(),
                     pg=postgres_cpu())
        on_start()

    def finish() -> None:
        marks.update(me_end=time.process_time(), server_end=rss.cpu(), pg_end=postgres_cpu())

    ready = threading.Barrier(len(parts), action=start)
    done = threading.Barrier(len(parts), action=finish)

    def run(d: int) -> None:
        try:
            results[d] = push_over_http(server, campaign_id, parts[d], workdir, ready=ready,
                                        sections=f"B{d}-", done=done)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)
            ready.abort()
            done.abort()

    threads = [threading.Thread(target=run, args=(d,)) for d in range(len(parts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    statuses: dict[str, int] = {}
    for r in results:
        for k, v in r.statuses.items():
            statuses[k] = statuses.get(k, 0) + v
    return FleetPush(
        seconds=max(r.ended for r in results) - marks["t0"],
        latencies=[lat for r in results for lat in r.latencies], statuses=statuses,
        index_pull_seconds=max(r.index_pull_seconds for r in results),
        device_cpu_seconds=marks["me_end"] - marks["me"],
        server_cpu_seconds=marks["server_end"] - marks["server"],
        postgres_cpu_seconds=marks["pg_end"] - marks["pg"])


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(backend: str, stored: int, measured: int, *, seed: int = 7, workdir: Path | None = None,
            drive: Drive | None = None, devices: int = 1, workers: int = 1) -> IngestResult:
    helpers = _server_helpers()
    with contextlib.ExitStack() as stack:
        tmp = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="canvass-ingest-")))
        db_url = stack.enter_context(fresh_database(backend, tmp))
        drive = drive or generate_drive(int((stored + measured) / 0.94) + 10, seed=seed)
        server = stack.enter_context(helpers.serve_subprocess(db_url, workers=workers))
        campaign_id = server.create_campaign(name="Bench", goal=2_000_000, deadline="2030-01-01")
        written, prefill_s = prefill(server.db, server.keys, campaign_id, drive, stored)
        batch_entries = entries_after(drive, written)[:measured]
        parts = [batch_entries[d::devices] for d in range(devices)]
        with PeakRss(f"--port {server.url.rsplit(':', 1)[1]}") as rss:
            push = push_fleet(server, campaign_id, parts, tmp, rss)
        seconds, latencies = push.seconds, push.latencies
        plain = plain_insert_rate(server.db, server.keys, campaign_id, batch_entries)
    n = len(batch_entries)
    rate = n / seconds if seconds else 0.0
    return IngestResult(
        backend=backend, stored=written, entries=n, seconds=round(seconds, 3),
        entries_per_s=round(rate, 1), p50_batch_ms=round(1000 * statistics.median(latencies), 1)
        if latencies else 0.0, p95_batch_ms=round(1000 * _pct(latencies, 0.95), 1),
        server_peak_rss_mb=round(rss.peak, 1), plain_entries_per_s=round(plain, 1),
        cost_ratio=round(plain / rate, 2) if rate else 0.0,
        ms_per_entry=round(1000 / rate, 3) if rate else 0.0, prefill_seconds=round(prefill_s, 1),
        statuses=push.statuses,
        # One device: entries over the sum of its batch round trips (its own work left out).
        server_entries_per_s=round(n / sum(latencies), 1) if latencies and devices == 1 else None,
        server_cpu_ms_per_entry=round(1000 * push.server_cpu_seconds / n, 3) if n else 0.0,
        device_cpu_ms_per_entry=round(1000 * push.device_cpu_seconds / n, 3) if n else 0.0,
        index_pull_seconds=round(push.index_pull_seconds, 1), devices=devices, workers=workers,
        postgres_cpu_ms_per_entry=round(1000 * push.postgres_cpu_seconds / n, 3)
        if n and backend == "postgresql" else None)  # SQLite runs inside the server process


def entries_after(drive: Drive, stored: int) -> list:
    """The drive's stream after its first ``stored`` originals (the pre-filled part), repeats
    of earlier signers included: what devices send next."""
    originals_seen = 0
    for entry in drive.entries:
        originals_seen += not entry.is_repeat
        if originals_seen > stored:
            return drive.entries[entry.index:]
    return []
