"""What every dashboard query shares: the campaign's settings as the dashboard reads them, the
time grains (5-minute slots, 10-minute windows, campaign-local days), the live-entry filter,
the rollup's watermark, and the snapshot that makes a session's reads agree."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Integer,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.orm import Session

from sync.domain import as_utc
from sync.reports.quality import BURST_WINDOW_MINUTES
from sync.server.models import (
    Campaign,
    DashboardRollupState,
    Entry,
)

SETTLE_SECONDS = 120  # entries received longer ago than this go into the rollup

SLOT_SECONDS = 300  # grouping grain: divides the burst window and every UTC offset

WINDOW_SLOTS = BURST_WINDOW_MINUTES * 60 // SLOT_SECONDS

CHUNK = 400  # (device, day) keys per statement


@dataclass(frozen=True)
class CampaignInfo:
    id: str
    name: str
    goal: int
    deadline: date
    validity_rate: float
    stale_after_minutes: int
    timezone: str


def campaign_info(s: Session, campaign_id: str, *, timezone: str) -> CampaignInfo | None:
    """The campaign as the dashboard reads it; ``timezone``: Settings.timezone."""
    c = s.get(Campaign, campaign_id)
    if c is None:
        return None
    try:
        extra = json.loads(c.settings_json or "{}")
    except ValueError:
        extra = {}
    return CampaignInfo(
        id=c.id, name=c.name, goal=c.goal, deadline=date.fromisoformat(c.deadline),
        validity_rate=c.validity_rate,
        stale_after_minutes=int(extra.get("stale_after_minutes", 60)), timezone=timezone,
    )


def first_campaign_id(s: Session) -> str | None:
    return s.scalar(select(Campaign.id).order_by(Campaign.created_at).limit(1))


def is_sqlite(s: Session) -> bool:
    return s.get_bind().dialect.name == "sqlite"


def slot_of(s: Session, column):
    """Start of the UTC 5-minute slot, as slot number (seconds since the epoch // 300)."""
    if is_sqlite(s):
        return cast(func.strftime("%s", column), Integer) / SLOT_SECONDS  # integer division
    # date_part is double precision; EXTRACT would be numeric (several times slower).
    return func.floor(func.date_part("epoch", column) / literal_column(str(SLOT_SECONDS)))


def live(campaign_id: str):
    return (Entry.campaign_id == campaign_id, Entry.superseded_by.is_(None))


def snapshot(s: Session) -> None:
    """Make the session's reads one snapshot (PostgreSQL REPEATABLE READ; SQLite's read
    transactions already are), so the rollup and the live part agree on the watermark.
    Call before the session's first statement."""
    if not is_sqlite(s):
        s.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def chunks(items: Sequence, size: int = CHUNK):
    for i in range(0, len(items), size):
        yield items[i:i + size]


class Days:
    """Local date (ISO) of a UTC slot or moment, cached per slot."""

    def __init__(self, tz: str) -> None:
        self.tz, self._cache = ZoneInfo(tz), {}

    def of_slot(self, slot: int) -> str:
        day = self._cache.get(slot)
        if day is None:
            day = datetime.fromtimestamp(slot * SLOT_SECONDS, UTC).astimezone(self.tz).date().isoformat()
            self._cache[slot] = day
        return day

    def of(self, moment: datetime) -> str:
        return as_utc(moment).astimezone(self.tz).date().isoformat()

    def bounds(self, day: str) -> tuple[datetime, datetime]:
        d = date.fromisoformat(day)
        start = datetime(d.year, d.month, d.day, tzinfo=self.tz)
        nxt = d + timedelta(days=1)
        end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=self.tz)
        return start.astimezone(UTC), end.astimezone(UTC)


WINDOW_SECONDS = BURST_WINDOW_MINUTES * 60


def settled_before(s: Session, info: CampaignInfo, use_rollup: bool) -> datetime | None:
    """The rollup's watermark, or None to scan everything (no usable rollup)."""
    if not use_rollup:
        return None
    state = s.get(DashboardRollupState, info.id)
    if state is None or state.timezone != info.timezone:
        return None
    return as_utc(state.settled_before)
