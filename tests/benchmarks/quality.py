"""Deduplication quality: Canvass's server decisions against ground truth, on synthetic drives.

Canvass's decisions come from the server's real intake function (``sync.server.ingest.
handle_batch``: validation, blind-index exact match, blocking + fuzzy scorer, claims) run
in-process against a real SQLite database, in stream order, in batches of 500 from one device.
(Throughput over HTTP is ingest.py's job; the decisions do not depend on the transport.)

Metrics are per entry, in stream order ("the first signature counts"):
- a true repeat is an entry whose signer already appears earlier in the stream;
- a flag (``duplicate`` or ``possible_duplicate``) is correct when the entry it points at
  (duplicate_of / candidate_of) is the same signer;
- precision = correct flags / flags; recall = correct flags / true repeats.
``duplicate`` and ``possible_duplicate`` are reported separately and together ("any flag").
The peer tools (peers.py) are reduced to the same per-entry decisions.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sync.synthetic import Drive, SynthEntry

BATCH = 500


@dataclass
class Scores:
    system: str
    decision: str
    flagged: int
    correct: int
    true_repeats: int
    seconds: float = 0.0
    note: str = ""

    @property
    def precision(self) -> float:
        return self.correct / self.flagged if self.flagged else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.true_repeats if self.true_repeats else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def row(self) -> dict:
        return {**asdict(self), "precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "f1": round(self.f1, 4)}


def score_decisions(drive: Drive, system: str, decisions: dict[int, tuple[str, int]],
                    seconds: float = 0.0, note: str = "") -> list[Scores]:
    """decisions: entry index -> (decision, index of the earlier entry it points at)."""
    person = [e.person_id for e in drive.entries]
    truth = drive.true_duplicates()
    out = []
    kinds = sorted({d for d, _ in decisions.values()})
    groups = [(k, {k}) for k in kinds]
    if len(kinds) > 1:
        groups.append(("any flag", set(kinds)))
    for label, accepted in groups:
        flagged = correct = 0
        for index, (decision, target) in decisions.items():
            if decision in accepted:
                flagged += 1
                correct += person[target] == person[index]
        out.append(Scores(system, label, flagged, correct, truth, seconds, note))
    if not decisions:
        out.append(Scores(system, "any flag", 0, 0, truth, seconds, note))
    return out


# ------------------------------------------------------------------------------ Canvass


def _wire_batches(drive: Drive) -> Iterable[list]:
    from sync.ids import new_uuid7
    from sync.protocol import EntryWire

    start = datetime(2024, 6, 1, 16, 0, tzinfo=UTC)
    lines: dict[int, int] = {}
    batch: list = []
    for entry in drive.entries:
        # Sections of 10 lines per circulator, like the paper booklets.
        n = lines[entry.circulator] = lines.get(entry.circulator, 0) + 1
        section = f"C{entry.circulator:04d}-{(n - 1) // 10 + 1:04d}"
        batch.append(EntryWire(entry_id=new_uuid7(), device_seq=entry.index + 1, section=section,
                               line=(n - 1) % 10 + 1, captured_at=start + timedelta(seconds=7 * entry.index),
                               **entry.fields))
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def canvass_decisions(drive: Drive, db_url: str | None = None) -> tuple[dict[int, tuple[str, int]], dict]:
    """Run the drive through the server's intake (handle_batch) on a fresh SQLite database."""
    from sync.crypto import new_key
    from sync.domain import utcnow
    from sync.ids import new_uuid7
    from sync.protocol import PROTOCOL_VERSION, BatchRequest
    from sync.server import admin
    from sync.server.auth import DeviceIdentity
    from sync.server.config import RateLimits, Settings
    from sync.server.ingest import handle_batch
    from sync.server.keys import ServerKeys
    from sync.server.migrate import upgrade_head
    from sync.server.models import Device
    from sync.server.services import Services

    with tempfile.TemporaryDirectory(prefix="canvass-quality-") as tmp:
        url = db_url or f"sqlite:///{Path(tmp) / 'quality.db'}"
        upgrade_head(url)
        # The drive's one device sends a whole campaign: no circulator's entry budget (the
        # limit lives in the database now, and refused the drive with 429 past 2,000 entries).
        unlimited = RateLimits(device_capacity=1e12, device_per_second=1e12)
        settings = Settings(db_url=url, keys=ServerKeys(new_key(), new_key()), rate_limits=unlimited)
        svc = Services.build(settings)
        try:
            campaign_id = admin.create_campaign(svc.db, settings.keys, name="Quality", goal=100_000,
                                                deadline="2030-01-01", actor="bench")
            device_id = new_uuid7()
            with svc.db.write() as s:
                s.add(Device(id=device_id, campaign_id=campaign_id, circulator="bench", name="bench",
                             token_hash=new_uuid7(), enrolled_at=utcnow()))
            device = DeviceIdentity(device_id=device_id, campaign_id=campaign_id)
            index_of: dict[str, int] = {}
            statuses: dict[str, int] = {}
            decisions: dict[int, tuple[str, int]] = {}
            latencies: list[float] = []
            for batch in _wire_batches(drive):
                for wire in batch:
                    index_of[wire.entry_id] = wire.device_seq - 1
                req = BatchRequest(protocol_version=PROTOCOL_VERSION, batch_id=new_uuid7(), entries=batch)
                t0 = time.perf_counter()
                response = handle_batch(svc, device, req)
                latencies.append(time.perf_counter() - t0)
                for result in response.results:
                    statuses[result.status.value] = statuses.get(result.status.value, 0) + 1
                    target = result.duplicate_of or result.candidate_of
                    if target is not None:
                        decisions[index_of[result.entry_id]] = (result.status.value, index_of[target])
        finally:
            svc.db.dispose()
    return decisions, {"statuses": statuses, "batch_seconds": latencies}


def run_canvass(drive: Drive) -> list[Scores]:
    t0 = time.perf_counter()
    decisions, info = canvass_decisions(drive)
    seconds = time.perf_counter() - t0
    rejected = info["statuses"].get("rejected", 0)
    note = "server intake (handle_batch), SQLite" + (f"; {rejected} rejected" if rejected else "")
    return score_decisions(drive, "Canvass", decisions, seconds, note)


def error_breakdown(drive: Drive, decisions: dict[int, tuple[str, int]]) -> dict[str, dict[str, int]]:
    """Per error kind of the true repeats: how many were caught (any flag, right target)."""
    person = [e.person_id for e in drive.entries]
    out: dict[str, dict[str, int]] = {}
    for entry in drive.entries:
        if not entry.is_repeat:
            continue
        caught = entry.index in decisions and person[decisions[entry.index][1]] == entry.person_id
        for kind in entry.errors or ("identical",):
            row = out.setdefault(kind, {"repeats": 0, "caught": 0})
            row["repeats"] += 1
            row["caught"] += caught
    return dict(sorted(out.items()))


def false_flag_kinds(drive: Drive, decisions: dict[int, tuple[str, int]]) -> dict[str, int]:
    """Why wrong flags happen (no personal data): same address or not, same surname or not."""
    out: dict[str, int] = {}
    entries: list[SynthEntry] = drive.entries
    for index, (decision, target) in decisions.items():
        a, b = entries[index], entries[target]
        if a.person_id == b.person_id:
            continue
        same_addr = a.fields["zip"][:5] == b.fields["zip"][:5] and a.fields["street"].split()[:1] == \
            b.fields["street"].split()[:1]
        same_last = a.fields["last_name"].lower() == b.fields["last_name"].lower()
        key = f"{decision}: {'same' if same_addr else 'other'} address, " \
              f"{'same' if same_last else 'other'} surname"
        out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items()))
