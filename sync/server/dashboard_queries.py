"""SQL aggregation for the team lead dashboard, over the server's tables (SQLite and PostgreSQL).

Every query groups in the database; Python only sees one row per device, per circulator, per
hour or per (device, 10-minute window). No personal field is ever read.

Teams: a device's team is ``Device.team``, copied from its enrollment code
(``canvass-server enroll-code --team T``). A team lead sees the devices of their own team(s)
(``User.team``, several separated by commas); an admin sees all. Drive progress is the
campaign's, for everyone who may see the dashboard (aggregate figures, no personal data).

Entries counted: every stored entry not superseded by a correction (conflicts are never
stored). Raw = those; unique signers = ``counted``; duplicates = status ``duplicate``;
rejected = status ``rejected``; outside jurisdiction = rejected with reason 103. Days and
"today" are campaign-local dates of ``captured_at`` (America/Los_Angeles, or the
CANVASS_TIMEZONE environment variable), bucketed by UTC hour in SQL then mapped to local dates in Python.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, case, cast, distinct, func, select
from sqlalchemy.orm import Session

from sync.protocol import ReasonCode
from sync.reports.devices import DeviceStats
from sync.reports.progress import DayCount
from sync.reports.quality import BURST_WINDOW_MINUTES, CirculatorActivity
from sync.server.intake_models import SectionCheckIn
from sync.server.models import Campaign, Device, Entry

DEFAULT_TIMEZONE = os.environ.get("CANVASS_TIMEZONE", "America/Los_Angeles")
_REGISTRATION = getattr(Entry, "registration", None)


@dataclass(frozen=True)
class CampaignInfo:
    id: str
    name: str
    goal: int
    deadline: date
    validity_rate: float
    stale_after_minutes: int
    timezone: str


def campaign_info(s: Session, campaign_id: str) -> CampaignInfo | None:
    c = s.get(Campaign, campaign_id)
    if c is None:
        return None
    try:
        extra = json.loads(c.settings_json or "{}")
    except ValueError:
        extra = {}
    tz = DEFAULT_TIMEZONE
    return CampaignInfo(
        id=c.id, name=c.name, goal=c.goal, deadline=date.fromisoformat(c.deadline),
        validity_rate=c.validity_rate,
        stale_after_minutes=int(extra.get("stale_after_minutes", 60)), timezone=tz,
    )


def first_campaign_id(s: Session) -> str | None:
    return s.scalar(select(Campaign.id).order_by(Campaign.created_at).limit(1))


def parse_teams(text: str) -> set[str]:
    return {t.strip() for t in (text or "").split(",") if t.strip()}


def local_day_start(now: datetime, tz: str) -> datetime:
    local = now.astimezone(ZoneInfo(tz))
    start = datetime(local.year, local.month, local.day, tzinfo=ZoneInfo(tz))
    return start.astimezone(UTC)


def _epoch(s: Session, column):
    if s.get_bind().dialect.name == "sqlite":
        return cast(func.strftime("%s", column), Integer)
    return func.extract("epoch", column)


def _bucket(s: Session, column, seconds: int):
    if s.get_bind().dialect.name == "sqlite":
        return _epoch(s, column) / seconds  # integer division on SQLite integers
    return func.floor(_epoch(s, column) / seconds)


def _live(campaign_id: str):
    return (Entry.campaign_id == campaign_id, Entry.superseded_by.is_(None))


@dataclass(frozen=True)
class DeviceRef:
    id: str
    name: str
    circulator: str
    team: str
    last_heartbeat: datetime | None
    pending: int
    revoked: bool


def devices_in_scope(s: Session, info: CampaignInfo, teams: set[str] | None) -> list[DeviceRef]:
    """The campaign's devices; only those of ``teams`` unless it is None (all)."""
    query = select(Device.id, Device.name, Device.circulator, Device.team, Device.last_seen_at,
                   Device.pending_count, Device.revoked_at).where(Device.campaign_id == info.id)
    if teams is not None:
        query = query.where(Device.team.in_(sorted(teams)))
    return [DeviceRef(row[0], row[1], row[2], row[3] or "", row[4], row[5] or 0, row[6] is not None)
            for row in s.execute(query)]


def device_stats(s: Session, info: CampaignInfo, devices: list[DeviceRef],
                 now: datetime) -> list[DeviceStats]:
    """One grouped scan of the campaign's entries, one of open sections; joined in Python."""
    today = local_day_start(now, info.timezone)
    agg = {r[0]: r for r in s.execute(
        select(Entry.device_id, func.count(),
               func.sum(case((Entry.status == "duplicate", 1), else_=0)),
               func.sum(case((Entry.status == "rejected", 1), else_=0)),
               func.sum(case((Entry.captured_at >= today, 1), else_=0)),
               func.max(Entry.received_at))
        .where(*_live(info.id)).group_by(Entry.device_id))}
    checked_in = select(SectionCheckIn.serial).where(SectionCheckIn.campaign_id == info.id)
    open_sections = dict(s.execute(
        select(Entry.device_id, func.count(distinct(Entry.section)))
        .where(*_live(info.id), Entry.section.not_in(checked_in)).group_by(Entry.device_id)).all())
    out = []
    for d in devices:
        row = agg.get(d.id)
        out.append(DeviceStats(
            device_id=d.id, device_name=d.name, circulator=d.circulator, team=d.team,
            last_sync=row[5] if row else None, last_heartbeat=d.last_heartbeat,
            pending_reported=d.pending, entries_today=int(row[4] or 0) if row else 0,
            entries_total=int(row[1]) if row else 0, duplicates=int(row[2] or 0) if row else 0,
            rejected=int(row[3] or 0) if row else 0, open_sections=int(open_sections.get(d.id, 0)),
            revoked=d.revoked))
    return out


@dataclass(frozen=True)
class DriveTotals:
    raw: int
    unique: int
    rejected: int
    checked: int
    registered: int
    days: list[DayCount]


def drive_totals(s: Session, info: CampaignInfo) -> DriveTotals:
    """Campaign-wide totals and the per-day counts (one grouped scan by UTC hour)."""
    hour = _bucket(s, Entry.captured_at, 3600).label("hour")
    cols = [hour, func.count(), func.sum(case((Entry.counted.is_(True), 1), else_=0)),
            func.sum(case((Entry.status == "rejected", 1), else_=0))]
    if _REGISTRATION is not None:
        known = (Entry.counted.is_(True)) & (_REGISTRATION != "unknown")
        cols += [func.sum(case((known, 1), else_=0)),
                 func.sum(case(((Entry.counted.is_(True)) & (_REGISTRATION == "registered_here"),
                                1), else_=0))]
    tz = ZoneInfo(info.timezone)
    per_day: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    raw = unique = rejected = checked = registered = 0
    for row in s.execute(select(*cols).where(*_live(info.id)).group_by(hour)):
        day = datetime.fromtimestamp(int(row[0]) * 3600, UTC).astimezone(tz).date()
        vals = [int(row[1] or 0), int(row[2] or 0), int(row[3] or 0)]
        chk = int(row[4] or 0) if _REGISTRATION is not None else 0
        reg = int(row[5] or 0) if _REGISTRATION is not None else 0
        acc = per_day[day]
        acc[0] += vals[0]
        acc[1] += vals[1]
        acc[2] += chk
        acc[3] += reg
        raw, unique, rejected = raw + vals[0], unique + vals[1], rejected + vals[2]
        checked, registered = checked + chk, registered + reg
    days = [DayCount(d, raw=v[0], unique=v[1], checked=v[2], registered=v[3])
            for d, v in sorted(per_day.items())]
    return DriveTotals(raw, unique, rejected, checked, registered, days)


def circulator_activity(s: Session, info: CampaignInfo,
                        devices: list[DeviceRef]) -> list[CirculatorActivity]:
    """Per circulator (over their devices in scope): entries, duplicates, outside-jurisdiction
    rejections, and the most entries captured in one fixed 10-minute window."""
    by_device = {d.id: d for d in devices}
    window = _bucket(s, Entry.captured_at, BURST_WINDOW_MINUTES * 60).label("w")
    counts = s.execute(
        select(Entry.device_id, func.count(),
               func.sum(case((Entry.status == "duplicate", 1), else_=0)),
               func.sum(case(((Entry.status == "rejected")
                              & (Entry.reason_code == int(ReasonCode.ZIP_OUTSIDE_JURISDICTION)),
                              1), else_=0)))
        .where(*_live(info.id)).group_by(Entry.device_id)).all()
    per_window = (select(Entry.device_id.label("device_id"), window, func.count().label("n"))
                  .where(*_live(info.id)).group_by(Entry.device_id, window).subquery())
    bursts = dict(s.execute(select(per_window.c.device_id, func.max(per_window.c.n))
                            .group_by(per_window.c.device_id)).all())
    acc: dict[tuple[str, str], list[int]] = {}
    for device_id, n, dup, outside in counts:
        d = by_device.get(device_id)
        if d is None:
            continue
        a = acc.setdefault((d.team, d.circulator), [0, 0, 0, 0])
        a[0] += int(n)
        a[1] += int(dup or 0)
        a[2] += int(outside or 0)
        a[3] = max(a[3], int(bursts.get(device_id) or 0))
    return [CirculatorActivity(circ, team, *v) for (team, circ), v in sorted(acc.items())]


