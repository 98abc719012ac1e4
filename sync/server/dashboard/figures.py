"""The dashboard's figures, read from the rollup plus the entries received since, grouped live:
the devices in a lead's scope and their statistics, the drive's totals by day (with the
voter-file registration counts), and the circulators' activity behind the quality flags."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    case,
    distinct,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.orm import Session

from sync.domain import as_utc
from sync.protocol import ReasonCode
from sync.reports.devices import DeviceStats
from sync.reports.progress import DayCount
from sync.reports.quality import CirculatorActivity
from sync.server.dashboard.buckets import (
    recent_buckets,
    sqlite_recent_activity,
)
from sync.server.dashboard.common import (
    CampaignInfo,
    Days,
    is_sqlite,
    live,
    settled_before,
    slot_of,
)
from sync.server.dashboard.postgres import pg_bursts
from sync.server.doorstep import checks_by_device
from sync.server.models import (
    DashboardRollup,
    DashboardSection,
    Device,
    Entry,
    EntryRegistration,
    SectionCheckIn,
    WithdrawnLine,
)
from sync.server.voters.registrations import registration_summary
from sync.server.voters.store import active_file_id


def _recent_by(s: Session, info: CampaignInfo, settled: datetime | None, days: Days,
               by: str, today_start: datetime | None = None,
               device_ids: set[str] | None = None) -> dict[str, list]:
    """The entries the rollup does not hold, per device (``by="device"``) or per local day
    (``"day"``): [entries, duplicates, rejected, outside, counted, captured since
    ``today_start``, last received]. PostgreSQL groups them itself; SQLite folds slots."""
    if is_sqlite(s):
        out: dict[str, list] = {}
        today = days.of(today_start) if today_start is not None else None
        for (device_id, day), b in recent_buckets(s, info, settled, days).items():
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
        .where(*live(info.id), *where).group_by(literal_column("k")))
    return {k: [int(v or 0) for v in rest[:6]] + [rest[6]] for k, *rest in rows}


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
    days = Days(info.timezone)
    today = days.of(now)
    settled = settled_before(s, info, use_rollup)
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
            .where(*live(info.id), Entry.section.not_in(checked_in))
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
            .where(*live(info.id), Entry.received_at >= settled,
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
    days = Days(info.timezone)
    settled = settled_before(s, info, use_rollup)
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
    where = () if device_ids is None else (Entry.device_id.in_(sorted(device_ids)),)
    return int(s.scalar(select(func.count()).select_from(WithdrawnLine).join(
        Entry, Entry.id == WithdrawnLine.entry_id).where(*live(campaign_id), *where)) or 0)


def _registration_by_day(s: Session, info: CampaignInfo, file_id: int, days: Days,
                         device_ids: set[str] | None = None) -> dict[str, tuple[int, int]]:
    """Counted entries matched against the active voter file, and those registered here, by
    local day of capture (the same entries registration_summary counts)."""
    slot = slot_of(s, Entry.captured_at).label("slot")
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
    days = Days(info.timezone)
    settled = settled_before(s, info, use_rollup)
    per_dev: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    if settled is not None:
        r = DashboardRollup
        for device_id, n, dup, out_, burst in s.execute(
                select(r.device_id, func.sum(r.entries), func.sum(r.duplicates),
                       func.sum(r.outside), func.max(r.max_window))
                .where(r.campaign_id == info.id).group_by(r.device_id)):
            per_dev[device_id] = [int(n or 0), int(dup or 0), int(out_ or 0), int(burst or 0)]
    if not is_sqlite(s):
        for device_id, (n, dup, _rej, out_, _cnt, _td, _lr) in _recent_by(
                s, info, settled, days, "device").items():
            a = per_dev[device_id]
            a[0], a[1], a[2] = a[0] + n, a[1] + dup, a[2] + out_
        for device_id, burst in pg_bursts(s, info, settled).items():
            a = per_dev[device_id]
            a[3] = max(a[3], burst)
    else:
        sqlite_recent_activity(s, info, settled, days, per_dev)
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
