"""Load: many simulated devices syncing at once against `canvass-server serve --workers 2` on
PostgreSQL, from this (second) process, over loopback. Bounded in count (devices x batches x
entries) and time (a deadline per request and for the whole run).

    python tests/benchmarks/load_devices.py                  # 500 devices x 2 batches x 25
    python tests/benchmarks/load_devices.py --devices 200 --batches 4 --entries 50

Every device is provisioned straight in the database (as ``canvass-server enroll-code`` plus
an enrollment would, without spending the per-IP enrollment limit), then all devices push
their batches concurrently, replay their last batch once (must get the same answer), and pull
their outcomes and dedup index. Afterwards the database is checked: every entry stored exactly
once, none missing, every answer ``accepted``. Prints p50/p95/max batch latency and throughput.

``run_load`` is what tests/test_load_small.py runs with 50 devices.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import func, select

TESTS = Path(__file__).resolve().parent.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from fault_layer import pronounceable  # noqa: E402

from sync.domain import SignerEntry, utcnow  # noqa: E402
from sync.ids import new_uuid7  # noqa: E402
from sync.protocol import IDEMPOTENCY_HEADER, PROTOCOL_VERSION  # noqa: E402
from sync.server.models import Device, Entry  # noqa: E402
from sync.server.tokens import new_token, token_hash  # noqa: E402

MAX_ATTEMPTS = 8


@dataclass
class LoadResult:
    devices: int
    batches_sent: int = 0
    entries_sent: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds per answered batch POST
    statuses: dict[str, int] = field(default_factory=dict)  # entry status -> count
    http_errors: dict[int, int] = field(default_factory=dict)  # non-200 answers (429 retried)
    failures: list[str] = field(default_factory=list)  # requests that never got a 200
    replay_mismatches: int = 0
    transport_errors: list[str] = field(default_factory=list)  # connection errors, retried
    elapsed: float = 0.0
    stored: int = 0
    stored_distinct: int = 0
    missing: int = 0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]

    def figures(self) -> dict:
        return {
            "devices": self.devices, "batches": self.batches_sent, "entries": self.entries_sent,
            "elapsed_s": round(self.elapsed, 2),
            "entries_per_s": round(self.entries_sent / self.elapsed, 1) if self.elapsed else 0,
            "batch_p50_ms": round(statistics.median(self.latencies) * 1000, 1) if self.latencies else 0,
            "batch_p95_ms": round(self.percentile(95) * 1000, 1),
            "batch_max_ms": round(max(self.latencies, default=0) * 1000, 1),
            "statuses": self.statuses, "http_non_200": self.http_errors, "failures": len(self.failures),
            "replay_mismatches": self.replay_mismatches, "stored": self.stored,
            "stored_distinct": self.stored_distinct, "missing": self.missing,
        }


def provision_devices(db, campaign_id: str, count: int) -> list[tuple[str, str]]:
    """(device_id, token) for ``count`` devices, as an enrollment would create them."""
    out = []
    with db.write() as s:
        for i in range(count):
            device_id, token = new_uuid7(), new_token()
            s.add(Device(id=device_id, campaign_id=campaign_id, circulator=f"Load circulator {i}",
                         name=f"load-{i}", token_hash=token_hash(token), enrolled_at=utcnow(),
                         pending_count=0, last_device_seq=0, app_version=""))
            out.append((device_id, token))
    return out


def _entries(run: str, device_no: int, batch_no: int, per_batch: int) -> list[dict]:
    wires = []
    for i in range(per_batch):
        n = (device_no * 1_000 + batch_no * per_batch + i) * 7_919 + 17
        entry = SignerEntry(section=f"L{run}{device_no:04d}", line=batch_no * per_batch + i + 1,
                            device_seq=batch_no * per_batch + i + 1,
                            first_name=pronounceable(n, 4), last_name=pronounceable(n * 31 + 5, 5),
                            street=f"{100 + (n % 9_000)} {pronounceable(n, 3)} St", city="Los Angeles",
                            zip="90012")
        wires.append(entry.to_wire().model_dump(mode="json"))
    return wires


async def _post(client: httpx.AsyncClient, url: str, token: str, body: bytes, batch_id: str,
                result: LoadResult, deadline: float) -> dict | None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
               IDEMPOTENCY_HEADER: batch_id}
    for attempt in range(MAX_ATTEMPTS):
        if time.monotonic() > deadline:
            break
        started = time.perf_counter()
        try:
            r = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            result.http_errors[0] = result.http_errors.get(0, 0) + 1  # 0: no answer (retried)
            result.transport_errors.append(type(exc).__name__)
            await asyncio.sleep(min(2.0, 0.1 * 2 ** attempt))
            continue
        if r.status_code == 200:
            result.latencies.append(time.perf_counter() - started)
            return r.json()
        result.http_errors[r.status_code] = result.http_errors.get(r.status_code, 0) + 1
        if r.status_code not in (429, 503):
            result.failures.append(f"HTTP {r.status_code}")
            return None
        await asyncio.sleep(float(r.headers.get("retry-after", "1")))
    result.failures.append("gave up")
    return None


async def _device(client: httpx.AsyncClient, base: str, run: str, device_no: int, token: str,
                  batches: int, per_batch: int, result: LoadResult, deadline: float,
                  sent_ids: set[str]) -> None:
    last: tuple[bytes, str, dict] | None = None
    for b in range(batches):
        wires = _entries(run, device_no, b, per_batch)
        batch_id = new_uuid7()
        body = json.dumps({"protocol_version": PROTOCOL_VERSION, "batch_id": batch_id,
                           "entries": wires}).encode()
        answer = await _post(client, f"{base}/v1/entries/batch", token, body, batch_id, result, deadline)
        if answer is None:
            return
        result.batches_sent += 1
        result.entries_sent += len(wires)
        sent_ids.update(w["entry_id"] for w in wires)
        for item in answer["results"]:
            result.statuses[item["status"]] = result.statuses.get(item["status"], 0) + 1
        last = (body, batch_id, answer)
    if last is not None:  # a lost answer, as a device sees it: the replay must answer the same
        body, batch_id, answer = last
        again = await _post(client, f"{base}/v1/entries/batch", token, body, batch_id, result, deadline)
        if again is None or again["results"] != answer["results"]:
            result.replay_mismatches += 1
    auth = {"Authorization": f"Bearer {token}"}
    for path in ("/v1/outcomes", "/v1/doorstep-filter"):
        for attempt in range(MAX_ATTEMPTS):
            try:
                r = await client.get(f"{base}{path}", headers=auth)
            except httpx.HTTPError as exc:
                result.http_errors[0] = result.http_errors.get(0, 0) + 1
                if attempt == MAX_ATTEMPTS - 1:
                    result.failures.append(f"{path} {type(exc).__name__}")
                await asyncio.sleep(min(2.0, 0.1 * 2 ** attempt))
                continue
            if r.status_code != 200:
                result.failures.append(f"{path} HTTP {r.status_code}")
            break


async def _run(base: str, tokens: list[str], batches: int, per_batch: int, timeout: float,
               result: LoadResult, sent_ids: set[str]) -> None:
    run = uuid.uuid4().hex[:3].upper()
    limits = httpx.Limits(max_connections=len(tokens), max_keepalive_connections=len(tokens))
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=httpx.Timeout(120.0), limits=limits) as client:
        await asyncio.gather(*[_device(client, base, run, i, token, batches, per_batch, result, deadline,
                                       sent_ids) for i, token in enumerate(tokens)])


def run_load(server, campaign_id: str, *, devices: int, batches: int, per_batch: int,
             timeout: float = 600.0) -> LoadResult:
    """Drive ``devices`` concurrent devices against ``server`` (a server_helpers.ServerHandle)
    and check the database afterwards."""
    provisioned = provision_devices(server.db, campaign_id, devices)
    result = LoadResult(devices=devices)
    sent_ids: set[str] = set()
    started = time.perf_counter()
    asyncio.run(_run(server.url, [t for _d, t in provisioned], batches, per_batch, timeout, result, sent_ids))
    result.elapsed = time.perf_counter() - started
    device_ids = [d for d, _t in provisioned]
    with server.db.read() as s:
        stored_ids = list(s.scalars(select(Entry.id).where(Entry.device_id.in_(device_ids))))
        result.stored = len(stored_ids)
        result.stored_distinct = s.scalar(select(func.count(func.distinct(Entry.id)))
                                          .where(Entry.device_id.in_(device_ids)))
    result.missing = len(sent_ids - set(stored_ids))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--batches", type=int, default=2)
    parser.add_argument("--entries", type=int, default=25, help="entries per batch")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=900.0, help="deadline for the whole run (s)")
    args = parser.parse_args(argv)
    if args.batches * args.entries > 900:
        parser.error("batches x entries must fit one section (900 lines)")

    import conftest
    from server_helpers import serve_subprocess

    if not conftest.pg_available():
        print("PostgreSQL not reachable at 127.0.0.1:5432", file=sys.stderr)
        return 2
    name = f"canvass_load_{uuid.uuid4().hex[:12]}"
    with conftest._admin_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = conftest.PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        with serve_subprocess(f"{base}/{name}", workers=args.workers) as server:
            cid = server.create_campaign(name="Load")
            result = run_load(server, cid, devices=args.devices, batches=args.batches,
                              per_batch=args.entries, timeout=args.timeout)
    finally:
        with conftest._admin_connect() as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                         (name,))
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    figures = result.figures()
    print(json.dumps(figures, indent=2))
    ok = (not result.failures and result.replay_mismatches == 0 and result.missing == 0
          and result.stored == result.stored_distinct == result.entries_sent
          and result.entries_sent == args.devices * args.batches * args.entries)
    print("OK: no errors, no lost or doubled entries" if ok else "FAILED", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
