"""Figures of (device, local day) buckets folded in Python from grouped 5-minute slot rows: how
SQLite builds the rollup and reads the entries it does not hold yet (PostgreSQL groups in the
database: sync.server.dashboard.postgres)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    case,
    func,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from sync.domain import as_utc
from sync.protocol import ReasonCode
from sync.server.dashboard.common import (
    WINDOW_SLOTS,
    CampaignInfo,
    Days,
    chunks,
    live,
    slot_of,
)
from sync.server.models import (
    DashboardRollup,
    Entry,
)


@dataclass
class Bucket:
    """Figures of one (device, local day) over some set of entries."""

    entries: int = 0
    duplicates: int = 0
    rejected: int = 0
    outside: int = 0
    counted: int = 0
    last_received: datetime | None = None
    windows: dict[int, int] = field(default_factory=dict)

    def add_slot(self, n, dup, rej, out, cnt, last, window: int) -> None:
        self.entries += int(n)
        self.duplicates += int(dup or 0)
        self.rejected += int(rej or 0)
        self.outside += int(out or 0)
        self.counted += int(cnt or 0)
        if last is not None and (self.last_received is None
                                 or as_utc(last) > as_utc(self.last_received)):
            self.last_received = last
        self.windows[window] = self.windows.get(window, 0) + int(n)


def slot_rows(s: Session, campaign_id: str, *where):
    slot = slot_of(s, Entry.captured_at).label("slot")
    outside = (Entry.status == "rejected") & (
        Entry.reason_code == int(ReasonCode.ZIP_OUTSIDE_JURISDICTION))
    return s.execute(
        select(Entry.device_id, slot, func.count(),
               func.sum(case((Entry.status == "duplicate", 1), else_=0)),
               func.sum(case((Entry.status == "rejected", 1), else_=0)),
               func.sum(case((outside, 1), else_=0)),
               func.sum(case((Entry.counted.is_(True), 1), else_=0)),
               func.max(Entry.received_at))
        .where(*live(campaign_id), *where).group_by(Entry.device_id, slot))


def fold(rows: Iterable, days: Days) -> dict[tuple[str, str], Bucket]:
    out: dict[tuple[str, str], Bucket] = {}
    for device_id, slot, n, dup, rej, out_, cnt, last in rows:
        slot = int(slot)
        key = (device_id, days.of_slot(slot))
        bucket = out.get(key)
        if bucket is None:
            bucket = out[key] = Bucket()
        bucket.add_slot(n, dup, rej, out_, cnt, last, slot // WINDOW_SLOTS)
    return out


def rollup_row(campaign_id: str, key: tuple[str, str], b: Bucket) -> dict:
    return {"campaign_id": campaign_id, "device_id": key[0], "day": key[1], "entries": b.entries,
            "duplicates": b.duplicates, "rejected": b.rejected, "outside": b.outside,
            "counted": b.counted, "max_window": max(b.windows.values(), default=0),
            "windows": " ".join(f"{w}:{n}" for w, n in sorted(b.windows.items())),
            "last_received": b.last_received}


def parse_windows(text: str) -> dict[int, int]:
    out = {}
    for part in (text or "").split():
        w, n = part.split(":")
        out[int(w)] = int(n)
    return out


def recent_buckets(s: Session, info: CampaignInfo, settled: datetime | None,
                   days: Days) -> dict[tuple[str, str], Bucket]:
    """Buckets of the entries the rollup does not hold (all of them without a rollup)."""
    where = () if settled is None else (Entry.received_at >= settled,)
    return fold(slot_rows(s, info.id, *where), days)


def sqlite_recent_activity(s: Session, info: CampaignInfo, settled: datetime | None,
                            days: Days, per_dev: dict[str, list[int]]) -> None:
    """SQLite: the recent entries folded in Python, each window they touch counted whole from
    the rollup's window counts."""
    recent = recent_buckets(s, info, settled, days)
    settled_windows: dict[tuple[str, str], dict[int, int]] = {}
    if settled is not None and recent:
        r = DashboardRollup
        for chunk in chunks(sorted(recent)):
            for device_id, day, text in s.execute(select(r.device_id, r.day, r.windows).where(
                    r.campaign_id == info.id, tuple_(r.device_id, r.day).in_(list(chunk)))):
                settled_windows[(device_id, day)] = parse_windows(text)
    for key, b in recent.items():
        a = per_dev[key[0]]
        a[0] += b.entries
        a[1] += b.duplicates
        a[2] += b.outside
        old = settled_windows.get(key, {})
        a[3] = max(a[3], max((n + old.get(w, 0) for w, n in b.windows.items()), default=0))
