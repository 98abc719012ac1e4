"""SQL aggregation for the team lead dashboard, over the server's tables (SQLite and PostgreSQL).

Every query groups in the database; Python sees one row per device, per day, per
(device, 5-minute slot) of recent entries, never one per entry. No personal field is ever read.

Teams: a device's team is ``Device.team``, copied from its enrollment code
(``canvass-server enroll-code --team T``). A team lead sees the devices of their own team(s)
(``User.team``, several separated by commas); an admin sees all. Drive progress is the
campaign's, for everyone who may see the dashboard (aggregate figures, no personal data).

Entries counted: every stored entry not superseded by a correction (conflicts are never
stored). Raw = those; unique signers = ``counted``; duplicates = status ``duplicate``;
rejected = status ``rejected``; outside jurisdiction = rejected with reason 103. Days and
"today" are campaign-local dates of ``captured_at`` (America/Los_Angeles, or the
CANVASS_TIMEZONE environment variable).

Speed (1,000,000 entries, docs/BENCHMARKS.md "Dashboard queries"): a rollup the dashboard keeps
itself, never ingest. ``refresh_rollup`` folds *settled* entries -- received more than
``SETTLE_SECONDS`` ago -- into ``dashboard_rollup`` (per device and local day: counts, the
10-minute window counts behind the burst flag, the last arrival) and ``dashboard_sections``;
the queries read the rollup and add the entries received since, grouped live. A settled
entry's figures change only through (a) a correction, which arrives as a new entry naming it
in ``supersedes``, and (b) a review decision or a registration re-match, which writes the
outcomes feed in the same transaction; each refresh recomputes the (device, day) buckets those
touch, so the figures are exactly those of a full scan. Assumed: ``received_at`` is the
server's clock at arrival and the arriving transaction commits within ``SETTLE_SECONDS``.
Without a rollup (never refreshed, or the time zone changed) the queries scan everything.
Days are exact for any UTC offset that is a whole multiple of 5 minutes (all of them today);
the 10-minute windows never straddle a local midnight when the offset is a multiple of 10.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    String,
    and_,
    case,
    cast,
    column,
    delete,
    distinct,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    values,
)
from sqlalchemy.orm import Session, aliased

from sync.domain import as_utc, utcnow
from sync.protocol import ReasonCode
from sync.reports.devices import DeviceStats
from sync.reports.progress import DayCount
from sync.reports.quality import BURST_WINDOW_MINUTES, CirculatorActivity
from sync.server.doorstep import checks_by_device
from sync.server.models import (
    Campaign,
    DashboardRollup,
    DashboardRollupState,
    DashboardSection,
    Device,
    Entry,
    OutcomeRow,
    SectionCheckIn,
)

DEFAULT_TIMEZONE = os.environ.get("CANVASS_TIMEZONE", "America/Los_Angeles")
SETTLE_SECONDS = 120  # entries received longer ago than this go into the rollup
SLOT_SECONDS = 300  # grouping grain: divides the burst window and every UTC offset
WINDOW_SLOTS = BURST_WINDOW_MINUTES * 60 // SLOT_SECONDS
_CHUNK = 400  # (device, day) keys per statement


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


def local_day_start(now: datetime, tz: str) -> datetime:
    local = now.astimezone(ZoneInfo(tz))
    start = datetime(local.year, local.month, local.day, tzinfo=ZoneInfo(tz))
    return start.astimezone(UTC)


def _sqlite(s: Session) -> bool:
    return s.get_bind().dialect.name == "sqlite"


def _slot(s: Session, column):
    """Start of the UTC 5-minute slot, as slot number (seconds since the epoch // 300)."""
    if _sqlite(s):
        return cast(func.strftime("%s", column), Integer) / SLOT_SECONDS  # integer division
    # date_part is double precision; EXTRACT would be numeric (several times slower).
    return func.floor(func.date_part("epoch", column) / literal_column(str(SLOT_SECONDS)))


def _live(campaign_id: str):
    return (Entry.campaign_id == campaign_id, Entry.superseded_by.is_(None))


def snapshot(s: Session) -> None:
    """Make the session's reads one snapshot (PostgreSQL REPEATABLE READ; SQLite's read
    transactions already are), so the rollup and the live part agree on the watermark.
    Call before the session's first statement."""
    if not _sqlite(s):
        s.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def _chunks(items: Sequence, size: int = _CHUNK):
    for i in range(0, len(items), size):
        yield items[i:i + size]


@dataclass
class _Bucket:
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


def _slot_rows(s: Session, campaign_id: str, *where):
    slot = _slot(s, Entry.captured_at).label("slot")
    outside = (Entry.status == "rejected") & (
        Entry.reason_code == int(ReasonCode.ZIP_OUTSIDE_JURISDICTION))
    return s.execute(
        select(Entry.device_id, slot, func.count(),
               func.sum(case((Entry.status == "duplicate", 1), else_=0)),
               func.sum(case((Entry.status == "rejected", 1), else_=0)),
               func.sum(case((outside, 1), else_=0)),
               func.sum(case((Entry.counted.is_(True), 1), else_=0)),
               func.max(Entry.received_at))
        .where(*_live(campaign_id), *where).group_by(Entry.device_id, slot))


class _Days:
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


def _fold(rows: Iterable, days: _Days) -> dict[tuple[str, str], _Bucket]:
    out: dict[tuple[str, str], _Bucket] = {}
    for device_id, slot, n, dup, rej, out_, cnt, last in rows:
        slot = int(slot)
        key = (device_id, days.of_slot(slot))
        bucket = out.get(key)
        if bucket is None:
            bucket = out[key] = _Bucket()
        bucket.add_slot(n, dup, rej, out_, cnt, last, slot // WINDOW_SLOTS)
    return out


def _rollup_row(campaign_id: str, key: tuple[str, str], b: _Bucket) -> dict:
    return {"campaign_id": campaign_id, "device_id": key[0], "day": key[1], "entries": b.entries,
            "duplicates": b.duplicates, "rejected": b.rejected, "outside": b.outside,
            "counted": b.counted, "max_window": max(b.windows.values(), default=0),
            "windows": " ".join(f"{w}:{n}" for w, n in sorted(b.windows.items())),
            "last_received": b.last_received}


def _parse_windows(text: str) -> dict[int, int]:
    out = {}
    for part in (text or "").split():
        w, n = part.split(":")
        out[int(w)] = int(n)
    return out


# ------------------------------------------------------------------------------ the rollup
def refresh_rollup(db, info: CampaignInfo, now: datetime | None = None) -> None:
    """Bring the campaign's rollup up to date (one write transaction; cheap when little
    changed). The first call, or a change of time zone, rebuilds it from every entry."""
    now = now or utcnow()
    settle = now - timedelta(seconds=SETTLE_SECONDS)
    with db.write() as s:
        if not _sqlite(s):  # one refresher per campaign at a time (SQLite: BEGIN IMMEDIATE)
            s.execute(select(func.pg_advisory_xact_lock(
                func.hashtext("canvass-dashboard:" + info.id))))
        seq_top = int(s.scalar(select(func.max(OutcomeRow.seq))) or 0)
        state = s.get(DashboardRollupState, info.id)
        days = _Days(info.timezone)
        if state is None or state.timezone != info.timezone:
            _rebuild(s, info.id, settle, days)
            if state is None:
                state = DashboardRollupState(campaign_id=info.id)
                s.add(state)
        else:
            old = as_utc(state.settled_before)
            settle = max(settle, old)  # never moves back (clock steps)
            buckets, sections = _dirty(s, info.id, old, settle, int(state.outcome_seq), seq_top, days)
            _recompute(s, info.id, settle, sorted(buckets), sorted(sections), days)
        state.timezone, state.settled_before = info.timezone, settle
        state.outcome_seq, state.updated_at = seq_top, now


def rollup_is_current(s: Session, info: CampaignInfo) -> bool:
    """Whether reads of the rollup plus the live tail are exact without a refresh first: a
    rollup exists in the campaign's time zone, and nothing since its last refresh changed a
    settled entry (no outcomes-feed row after its ``outcome_seq``, no correction in the tail).
    Cheap and read-only, so a dashboard GET writes only in the rare case it is not
    (the refresh itself runs in the background: sync.server.background)."""
    state = s.get(DashboardRollupState, info.id)
    if state is None or state.timezone != info.timezone:
        return False
    if int(s.scalar(select(func.max(OutcomeRow.seq))) or 0) > int(state.outcome_seq):
        return False
    return s.scalar(select(Entry.id).where(
        Entry.campaign_id == info.id, Entry.received_at >= as_utc(state.settled_before),
        Entry.supersedes.is_not(None)).limit(1)) is None


def _rebuild(s: Session, campaign_id: str, settle: datetime, days: _Days) -> None:
    s.execute(delete(DashboardRollup).where(DashboardRollup.campaign_id == campaign_id))
    s.execute(delete(DashboardSection).where(DashboardSection.campaign_id == campaign_id))
    if not _sqlite(s):
        _pg_fill(s, campaign_id, days.tz.key, settle)
        s.execute(insert(DashboardSection).from_select(
            ["campaign_id", "device_id", "section"],
            select(literal(campaign_id, String(36)), Entry.device_id, Entry.section)
            .where(*_live(campaign_id), Entry.received_at < settle).distinct()))
        return
    buckets = _fold(_slot_rows(s, campaign_id, Entry.received_at < settle), days)
    rows = [_rollup_row(campaign_id, key, b) for key, b in buckets.items()]
    for chunk in _chunks(rows, 5000):
        s.execute(insert(DashboardRollup), list(chunk))
    pairs = [{"campaign_id": campaign_id, "device_id": d, "section": sec} for d, sec in s.execute(
        select(Entry.device_id, Entry.section).where(*_live(campaign_id), Entry.received_at < settle)
        .distinct())]
    for chunk in _chunks(pairs, 5000):
        s.execute(insert(DashboardSection), list(chunk))


def _keys(name: str, cols: Sequence[tuple[str, object]], rows: Sequence[tuple]):
    """A VALUES relation (PostgreSQL): joined to a table, one index probe per row."""
    return values(*(column(c, type_) for c, type_ in cols), name=name).data(list(rows))


_WINDOW_SECONDS = BURST_WINDOW_MINUTES * 60
_ROLLUP_COLUMNS = ["campaign_id", "device_id", "day", "entries", "duplicates", "rejected",
                   "outside", "counted", "max_window", "windows", "last_received"]


def _pg_fill(s: Session, campaign_id: str, tz: str, settle: datetime, ranges=None) -> None:
    """INSERT ... SELECT the rollup rows of settled entries (of ``ranges`` only, if given):
    grouped by device, local day and window, then by device and day, all in PostgreSQL."""
    e = Entry
    outside = (e.status == "rejected") & (e.reason_code == int(ReasonCode.ZIP_OUTSIDE_JURISDICTION))
    inner = select(
        (e.device_id if ranges is None else ranges.c.device_id).label("dev"),
        func.to_char(func.timezone(tz, e.captured_at), "YYYY-MM-DD").label("day"),
        func.floor(func.date_part("epoch", e.captured_at)
                   / literal_column(str(_WINDOW_SECONDS))).label("w"),
        func.count().label("n"),
        func.sum(case((e.status == "duplicate", 1), else_=0)).label("dup"),
        func.sum(case((e.status == "rejected", 1), else_=0)).label("rej"),
        func.sum(case((outside, 1), else_=0)).label("outside"),
        func.sum(case((e.counted.is_(True), 1), else_=0)).label("cnt"),
        func.max(e.received_at).label("last"),
    ).where(*_live(campaign_id), e.received_at < settle)
    if ranges is None:
        c = inner.group_by(e.device_id, literal_column("day"), literal_column("w")).subquery().c
    else:
        # LATERAL: one index range scan per (device, day), whatever the planner would guess.
        lat = (inner.where(e.device_id == ranges.c.device_id, e.captured_at >= ranges.c.lo,
                           e.captured_at < ranges.c.hi)
               .group_by(literal_column("day"), literal_column("w")).lateral("l"))
        c = select(ranges.c.device_id.label("dev"), *(lat.c[k] for k in (
            "day", "w", "n", "dup", "rej", "outside", "cnt", "last"))).select_from(
            ranges.join(lat, true())).subquery().c
    window_text = cast(cast(c.w, BigInteger), String) + literal(":", String) + cast(c.n, String)
    outer = select(literal(campaign_id, String(36)), c.dev, c.day, func.sum(c.n), func.sum(c.dup),
                   func.sum(c.rej), func.sum(c.outside), func.sum(c.cnt), func.max(c.n),
                   func.string_agg(window_text, literal(" ", String)), func.max(c.last)
                   ).group_by(c.dev, c.day)
    s.execute(insert(DashboardRollup).from_select(_ROLLUP_COLUMNS, outer))


def _dirty(s: Session, campaign_id: str, old: datetime, settle: datetime, old_seq: int,
           seq_top: int, days: _Days) -> tuple[set, set]:
    """The (device, day) buckets and (device, section) pairs whose settled figures may have
    changed since the last refresh."""
    touched = list(s.execute(select(Entry.device_id, Entry.captured_at, Entry.section).where(
        Entry.campaign_id == campaign_id, Entry.received_at >= old, Entry.received_at < settle)))
    target = aliased(Entry)
    touched += s.execute(select(target.device_id, target.captured_at, target.section)
                         .join(Entry, Entry.supersedes == target.id)
                         .where(Entry.campaign_id == campaign_id, Entry.received_at >= old,
                                Entry.supersedes.is_not(None)))
    if seq_top > old_seq:
        touched += s.execute(select(Entry.device_id, Entry.captured_at, Entry.section)
                             .join(OutcomeRow, OutcomeRow.entry_id == Entry.id)
                             .where(OutcomeRow.seq > old_seq, OutcomeRow.seq <= seq_top,
                                    Entry.campaign_id == campaign_id))
    buckets = {(d, days.of(captured)) for d, captured, _ in touched}
    sections = {(d, section) for d, _, section in touched}
    return buckets, sections


def _recompute(s: Session, campaign_id: str, settle: datetime, buckets: list, sections: list,
               days: _Days) -> None:
    if not _sqlite(s):
        r, ds = DashboardRollup, DashboardSection
        for chunk in _chunks(buckets, 2000):
            keys = _keys("k", [("device_id", String(36)), ("day", String(10))], chunk)
            s.execute(delete(r).where(r.campaign_id == campaign_id, r.device_id == keys.c.device_id,
                                      r.day == keys.c.day))
            ranges = _keys("rng", [("device_id", String(36)), ("lo", DateTime(timezone=True)),
                                   ("hi", DateTime(timezone=True))],
                           [(d, *days.bounds(day)) for d, day in chunk])
            _pg_fill(s, campaign_id, days.tz.key, settle, ranges)
        for chunk in _chunks(sections, 2000):
            keys = _keys("k", [("device_id", String(36)), ("section", String(2000))], chunk)
            s.execute(delete(ds).where(ds.campaign_id == campaign_id,
                                       ds.device_id == keys.c.device_id,
                                       ds.section == keys.c.section))
            s.execute(insert(ds).from_select(
                ["campaign_id", "device_id", "section"],
                select(literal(campaign_id, String(36)), Entry.device_id, Entry.section)
                .join(keys, and_(Entry.device_id == keys.c.device_id,
                                 Entry.section == keys.c.section))
                .where(*_live(campaign_id), Entry.received_at < settle).distinct()))
        return
    for chunk in _chunks(buckets):
        ranges = []
        for device_id, day in chunk:
            lo, hi = days.bounds(day)
            ranges.append(and_(Entry.device_id == device_id, Entry.captured_at >= lo,
                               Entry.captured_at < hi))
        fresh = _fold(_slot_rows(s, campaign_id, Entry.received_at < settle, or_(*ranges)), days)
        s.execute(delete(DashboardRollup).where(
            DashboardRollup.campaign_id == campaign_id,
            tuple_(DashboardRollup.device_id, DashboardRollup.day).in_(list(chunk))))
        if fresh:
            s.execute(insert(DashboardRollup),
                      [_rollup_row(campaign_id, key, b) for key, b in fresh.items()])
    for chunk in _chunks(sections):
        present = s.execute(select(Entry.device_id, Entry.section).where(
            *_live(campaign_id), Entry.received_at < settle,
            tuple_(Entry.device_id, Entry.section).in_(list(chunk))).distinct()).all()
        s.execute(delete(DashboardSection).where(
            DashboardSection.campaign_id == campaign_id,
            tuple_(DashboardSection.device_id, DashboardSection.section).in_(list(chunk))))
        if present:
            s.execute(insert(DashboardSection), [
                {"campaign_id": campaign_id, "device_id": d, "section": sec} for d, sec in present])


def _settled_before(s: Session, info: CampaignInfo, use_rollup: bool) -> datetime | None:
    """The rollup's watermark, or None to scan everything (no usable rollup)."""
    if not use_rollup:
        return None
    state = s.get(DashboardRollupState, info.id)
    if state is None or state.timezone != info.timezone:
        return None
    return as_utc(state.settled_before)


def _recent(s: Session, info: CampaignInfo, settled: datetime | None,
            days: _Days) -> dict[tuple[str, str], _Bucket]:
    """Buckets of the entries the rollup does not hold (all of them without a rollup)."""
    where = () if settled is None else (Entry.received_at >= settled,)
    return _fold(_slot_rows(s, info.id, *where), days)

def _recent_by(s: Session, info: CampaignInfo, settled: datetime | None, days: _Days,
               by: str, today_start: datetime | None = None,
               device_ids: set[str] | None = None) -> dict[str, list]:
    """The entries the rollup does not hold, per device (``by="device"``) or per local day
    (``"day"``): [entries, duplicates, rejected, outside, counted, captured since
    ``today_start``, last received]. PostgreSQL groups them itself; SQLite folds slots."""
    if _sqlite(s):
        out: dict[str, list] = {}
        today = days.of(today_start) if today_start is not None else None
        for (device_id, day), b in _recent(s, info, settled, days).items():
            if device_ids is not None and device_id not in device_ids:
                continue
            a = out.setdefault(device_id if by == "device" else day, [0, 0, 0, 0, 0, 0, None])
            for i, v in enumerate((b.entries, b.duplicates, b.rejected, b.outside, b.counted)):
                a[i] += v
            a[5] += b.entries if today is not None and day >= today else 0
            if b.last_received is not None and (
                    a[6] is None or as_utc(b.last_received) > as_utc(a[6])):
                a[6] = b.last_received
        return out
    e = Entry
    key = e.device_id if by == "device" else func.to_char(
        func.timezone(info.timezone, e.captured_at), "YYYY-MM-DD")
    outside = (e.status == "rejected") & (e.reason_code == int(ReasonCode.ZIP_OUTSIDE_JURISDICTION))
    since = e.captured_at >= today_start if today_start is not None else literal(False)
    where = () if settled is None else (e.received_at >= settled,)
    if device_ids is not None:
        where += (e.device_id.in_(sorted(device_ids)),)
    rows = s.execute(
        select(key.label("k"), func.count(),
               func.sum(case((e.status == "duplicate", 1), else_=0)),
               func.sum(case((e.status == "rejected", 1), else_=0)),
               func.sum(case((outside, 1), else_=0)),
               func.sum(case((e.counted.is_(True), 1), else_=0)),
               func.sum(case((since, 1), else_=0)), func.max(e.received_at))
        .where(*_live(info.id), *where).group_by(literal_column("k")))
    return {k: [int(v or 0) for v in rest[:6]] + [rest[6]] for k, *rest in rows}


def _pg_bursts(s: Session, info: CampaignInfo, settled: datetime | None) -> dict[str, int]:
    """PostgreSQL: per device, the most entries in one 10-minute window among the windows
    holding a recent entry (each such window counted whole, settled entries included); every
    window when there is no rollup."""
    e = Entry
    w = func.floor(func.date_part("epoch", e.captured_at) / literal_column(str(_WINDOW_SECONDS)))
    if settled is None:
        per = (select(e.device_id.label("dev"), w.label("w"), func.count().label("n"))
               .where(*_live(info.id)).group_by(e.device_id, literal_column("w")).subquery())
        return {d: int(n) for d, n in s.execute(select(per.c.dev, func.max(per.c.n))
                                                .group_by(per.c.dev))}
    touched = (select(e.device_id.label("dev"), w.label("w"))
               .where(*_live(info.id), e.received_at >= settled).distinct().subquery())
    e2 = aliased(Entry)
    start = touched.c.w * _WINDOW_SECONDS
    whole = (select(func.count()).where(
        e2.campaign_id == info.id, e2.device_id == touched.c.dev, e2.superseded_by.is_(None),
        e2.captured_at >= func.to_timestamp(start),
        e2.captured_at < func.to_timestamp(start + _WINDOW_SECONDS)).scalar_subquery())
    return {d: int(n or 0) for d, n in s.execute(
        select(touched.c.dev, func.max(whole)).group_by(touched.c.dev))}


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


def device_stats(s: Session, info: CampaignInfo, devices: list[DeviceRef], now: datetime,
                 *, use_rollup: bool = True) -> list[DeviceStats]:
    """The rollup grouped by device, plus the recent entries; open sections likewise."""
    days = _Days(info.timezone)
    today = days.of(now)
    settled = _settled_before(s, info, use_rollup)
    # device -> [entries, duplicates, rejected, today, last received]
    agg: dict[str, list] = defaultdict(lambda: [0, 0, 0, 0, None])

    def last(a, b):
        if a is None or (b is not None and as_utc(b) > as_utc(a)):
            return b
        return a

    if settled is not None:
        r = DashboardRollup
        for device_id, n, dup, rej, td, lr in s.execute(
                select(r.device_id, func.sum(r.entries), func.sum(r.duplicates),
                       func.sum(r.rejected), func.sum(case((r.day >= today, r.entries), else_=0)),
                       func.max(r.last_received))
                .where(r.campaign_id == info.id).group_by(r.device_id)):
            a = agg[device_id]
            a[0], a[1], a[2], a[3] = int(n or 0), int(dup or 0), int(rej or 0), int(td or 0)
            a[4] = lr
    today_start = days.bounds(today)[0]
    for device_id, (n, dup, rej, _out, _cnt, td, lr) in _recent_by(
            s, info, settled, days, "device", today_start).items():
        a = agg[device_id]
        a[0] += n
        a[1] += dup
        a[2] += rej
        a[3] += td
        a[4] = last(a[4], lr)
    open_sections = _open_sections(s, info, settled)
    out = []
    for d in devices:
        a = agg.get(d.id) or [0, 0, 0, 0, None]
        out.append(DeviceStats(
            device_id=d.id, device_name=d.name, circulator=d.circulator, team=d.team,
            last_sync=a[4], last_heartbeat=d.last_heartbeat, pending_reported=d.pending,
            entries_today=a[3], entries_total=a[0], duplicates=a[1], rejected=a[2],
            open_sections=int(open_sections.get(d.id, 0)), revoked=d.revoked))
    return out


def _open_sections(s: Session, info: CampaignInfo, settled: datetime | None) -> dict[str, int]:
    """Per device: distinct sections with a current entry, not checked in at the office."""
    checked_in = select(SectionCheckIn.serial).where(SectionCheckIn.campaign_id == info.id)
    if settled is None:
        return dict(s.execute(
            select(Entry.device_id, func.count(distinct(Entry.section)))
            .where(*_live(info.id), Entry.section.not_in(checked_in))
            .group_by(Entry.device_id)).all())
    ds = DashboardSection
    counts = defaultdict(int, s.execute(
        select(ds.device_id, func.count()).where(ds.campaign_id == info.id,
                                                 ds.section.not_in(checked_in))
        .group_by(ds.device_id)).all())
    # Sections of recent entries the rollup does not already hold, in one grouped query.
    held = select(ds.section).where(ds.campaign_id == info.id, ds.device_id == Entry.device_id,
                                    ds.section == Entry.section).exists()
    for device_id, n in s.execute(
            select(Entry.device_id, func.count(distinct(Entry.section)))
            .where(*_live(info.id), Entry.received_at >= settled,
                   Entry.section.not_in(checked_in), ~held)
            .group_by(Entry.device_id)):
        counts[device_id] += int(n)
    return dict(counts)


@dataclass(frozen=True)
class DriveTotals:
    raw: int
    unique: int
    rejected: int
    checked: int
    registered: int
    days: list[DayCount]
    voter_file: bool = False
    withdrawn: int = 0  # lines whose signers withdrew (EC 11303): in raw, not in unique


def drive_totals(s: Session, info: CampaignInfo, *, use_rollup: bool = True,
                 devices: list[DeviceRef] | None = None) -> DriveTotals:
    """Totals and the per-day counts: campaign-wide, or of ``devices`` only (a team lead's
    devices, devices_in_scope). With an active voter file, ``checked`` / ``registered`` are
    voters.registrations.registration_summary's (counted entries matched against the active file;
    registered here), per day as well; of those devices' entries when scoped."""
    device_ids = None if devices is None else {d.id for d in devices}
    days = _Days(info.timezone)
    settled = _settled_before(s, info, use_rollup)
    per_day: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # raw, unique, rejected
    if settled is not None:
        r = DashboardRollup
        for day, n, cnt, rej in s.execute(
                select(r.day, func.sum(r.entries), func.sum(r.counted), func.sum(r.rejected))
                .where(r.campaign_id == info.id,
                       *(() if device_ids is None else (r.device_id.in_(sorted(device_ids)),)))
                .group_by(r.day)):
            per_day[day] = [int(n or 0), int(cnt or 0), int(rej or 0)]
    for day, (n, _dup, rej, _out, cnt, _td, _lr) in _recent_by(s, info, settled, days, "day",
                                                                    device_ids=device_ids).items():
        acc = per_day[day]
        acc[0] += n
        acc[1] += cnt
        acc[2] += rej
    checked = registered = 0
    reg_days: dict[str, tuple[int, int]] = {}
    voter_file = False
    from sync.server.voters.registrations import registration_summary
    from sync.server.voters.store import active_file_id

    file_id = active_file_id(s, info.id)
    if file_id is not None:
        summary = registration_summary(s, info.id)
        voter_file = bool(summary["voter_file"])
        by_match = summary["by_match"]
        checked = int(summary["counted"]) - int(by_match.get("unknown", 0))
        registered = int(by_match.get("registered_here", 0))
        reg_days = _registration_by_day(s, info, file_id, days, device_ids)
        if device_ids is not None:  # the summary is the campaign's: the devices' own sums
            checked = sum(c for c, _ in reg_days.values())
            registered = sum(r for _, r in reg_days.values())
    out = []
    raw = unique = rejected = 0
    for day in sorted(set(per_day) | set(reg_days)):
        n, cnt, rej = per_day.get(day, (0, 0, 0))
        chk, reg = reg_days.get(day, (0, 0))
        raw, unique, rejected = raw + n, unique + cnt, rejected + rej
        if n or chk:
            out.append(DayCount(date.fromisoformat(day), raw=n, unique=cnt, checked=chk,
                                registered=reg))
    return DriveTotals(raw, unique, rejected, checked, registered, out, voter_file,
                       _withdrawn(s, info.id, device_ids))


def _withdrawn(s: Session, campaign_id: str, device_ids: set[str] | None) -> int:
    """Withdrawn lines, read live: they are few, and the rollup need not know them (a
    withdrawal's change of ``counted`` reaches it through the outcomes feed)."""
    from sync.server.models import WithdrawnLine

    where = () if device_ids is None else (Entry.device_id.in_(sorted(device_ids)),)
    return int(s.scalar(select(func.count()).select_from(WithdrawnLine).join(
        Entry, Entry.id == WithdrawnLine.entry_id).where(*_live(campaign_id), *where)) or 0)


def _registration_by_day(s: Session, info: CampaignInfo, file_id: int, days: _Days,
                         device_ids: set[str] | None = None) -> dict[str, tuple[int, int]]:
    """Counted entries matched against the active voter file, and those registered here, by
    local day of capture (the same entries registration_summary counts)."""
    from sync.server.models import EntryRegistration

    slot = _slot(s, Entry.captured_at).label("slot")
    known = EntryRegistration.match != "unknown"
    here = EntryRegistration.match == "registered_here"
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for sl, chk, reg in s.execute(
            select(slot, func.sum(case((known, 1), else_=0)), func.sum(case((here, 1), else_=0)))
            .join(EntryRegistration, EntryRegistration.entry_id == Entry.id)
            .where(Entry.campaign_id == info.id, Entry.counted.is_(True),
                   EntryRegistration.file_id == file_id,
                   *(() if device_ids is None else (Entry.device_id.in_(sorted(device_ids)),)))
            .group_by(slot)):
        acc = out[days.of_slot(int(sl))]
        acc[0] += int(chk or 0)
        acc[1] += int(reg or 0)
    return {day: (v[0], v[1]) for day, v in out.items()}


def circulator_activity(s: Session, info: CampaignInfo, devices: list[DeviceRef], *,
                        use_rollup: bool = True) -> list[CirculatorActivity]:
    """Per circulator (over their devices in scope): entries, duplicates, outside-jurisdiction
    rejections, and the most entries captured in one fixed 10-minute window."""
    by_device = {d.id: d for d in devices}
    days = _Days(info.timezone)
    settled = _settled_before(s, info, use_rollup)
    per_dev: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    if settled is not None:
        r = DashboardRollup
        for device_id, n, dup, out_, burst in s.execute(
                select(r.device_id, func.sum(r.entries), func.sum(r.duplicates),
                       func.sum(r.outside), func.max(r.max_window))
                .where(r.campaign_id == info.id).group_by(r.device_id)):
            per_dev[device_id] = [int(n or 0), int(dup or 0), int(out_ or 0), int(burst or 0)]
    if not _sqlite(s):
        for device_id, (n, dup, _rej, out_, _cnt, _td, _lr) in _recent_by(
                s, info, settled, days, "device").items():
            a = per_dev[device_id]
            a[0], a[1], a[2] = a[0] + n, a[1] + dup, a[2] + out_
        for device_id, burst in _pg_bursts(s, info, settled).items():
            a = per_dev[device_id]
            a[3] = max(a[3], burst)
    else:
        _sqlite_recent_activity(s, info, settled, days, per_dev)
    # Door-step checks count for a device with no entry too (checks far above entries).
    checks = checks_by_device(s, by_device)
    acc: dict[tuple[str, str], list[int]] = {}
    for device_id in set(per_dev) | set(checks):
        n, dup, outside, burst = per_dev.get(device_id, (0, 0, 0, 0))
        d = by_device.get(device_id)
        if d is None or (n == 0 and not checks.get(device_id)):
            continue
        a = acc.setdefault((d.team, d.circulator), [0, 0, 0, 0, 0])
        a[0] += n
        a[1] += dup
        a[2] += outside
        a[3] = max(a[3], burst)
        a[4] += checks.get(device_id, 0)
    return [CirculatorActivity(circ, team, *v) for (team, circ), v in sorted(acc.items())]


def _sqlite_recent_activity(s: Session, info: CampaignInfo, settled: datetime | None,
                            days: _Days, per_dev: dict[str, list[int]]) -> None:
    """SQLite: the recent entries folded in Python, each window they touch counted whole from
    the rollup's window counts."""
    recent = _recent(s, info, settled, days)
    settled_windows: dict[tuple[str, str], dict[int, int]] = {}
    if settled is not None and recent:
        r = DashboardRollup
        for chunk in _chunks(sorted(recent)):
            for device_id, day, text in s.execute(select(r.device_id, r.day, r.windows).where(
                    r.campaign_id == info.id, tuple_(r.device_id, r.day).in_(list(chunk)))):
                settled_windows[(device_id, day)] = _parse_windows(text)
    for key, b in recent.items():
        a = per_dev[key[0]]
        a[0] += b.entries
        a[1] += b.duplicates
        a[2] += b.outside
        old = settled_windows.get(key, {})
        a[3] = max(a[3], max((n + old.get(w, 0) for w, n in b.windows.items()), default=0))
