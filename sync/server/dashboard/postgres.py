"""The PostgreSQL statements of the dashboard: the rollup filled by INSERT ... SELECT grouped in
the database, VALUES relations joined to a table, and the per-device burst windows (SQLite
folds the same figures in Python: sync.server.dashboard.buckets)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    String,
    case,
    cast,
    column,
    func,
    insert,
    literal,
    literal_column,
    select,
    true,
    values,
)
from sqlalchemy.orm import Session, aliased

from sync.protocol import ReasonCode
from sync.server.dashboard.common import (
    WINDOW_SECONDS,
    CampaignInfo,
    live,
)
from sync.server.models import (
    DashboardRollup,
    Entry,
)


def values_of(name: str, cols: Sequence[tuple[str, object]], rows: Sequence[tuple]):
    """A VALUES relation (PostgreSQL): joined to a table, one index probe per row."""
    return values(*(column(c, type_) for c, type_ in cols), name=name).data(list(rows))


_ROLLUP_COLUMNS = ["campaign_id", "device_id", "day", "entries", "duplicates", "rejected",
                   "outside", "counted", "max_window", "windows", "last_received"]


def pg_fill(s: Session, campaign_id: str, tz: str, settle: datetime, ranges=None) -> None:
    """INSERT ... SELECT the rollup rows of settled entries (of ``ranges`` only, if given):
    grouped by device, local day and window, then by device and day, all in PostgreSQL."""
    e = Entry
    outside = (e.status == "rejected") & (e.reason_code == int(ReasonCode.ZIP_OUTSIDE_JURISDICTION))
    inner = select(
        (e.device_id if ranges is None else ranges.c.device_id).label("dev"),
        func.to_char(func.timezone(tz, e.captured_at), "YYYY-MM-DD").label("day"),
        func.floor(func.date_part("epoch", e.captured_at)
                   / literal_column(str(WINDOW_SECONDS))).label("w"),
        func.count().label("n"),
        func.sum(case((e.status == "duplicate", 1), else_=0)).label("dup"),
        func.sum(case((e.status == "rejected", 1), else_=0)).label("rej"),
        func.sum(case((outside, 1), else_=0)).label("outside"),
        func.sum(case((e.counted.is_(True), 1), else_=0)).label("cnt"),
        func.max(e.received_at).label("last"),
    ).where(*live(campaign_id), e.received_at < settle)
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


def pg_bursts(s: Session, info: CampaignInfo, settled: datetime | None) -> dict[str, int]:
    """PostgreSQL: per device, the most entries in one 10-minute window among the windows
    holding a recent entry (each such window counted whole, settled entries included); every
    window when there is no rollup."""
    e = Entry
    w = func.floor(func.date_part("epoch", e.captured_at) / literal_column(str(WINDOW_SECONDS)))
    if settled is None:
        per = (select(e.device_id.label("dev"), w.label("w"), func.count().label("n"))
               .where(*live(info.id)).group_by(e.device_id, literal_column("w")).subquery())
        return {d: int(n) for d, n in s.execute(select(per.c.dev, func.max(per.c.n))
                                                .group_by(per.c.dev))}
    touched = (select(e.device_id.label("dev"), w.label("w"))
               .where(*live(info.id), e.received_at >= settled).distinct().subquery())
    e2 = aliased(Entry)
    start = touched.c.w * WINDOW_SECONDS
    whole = (select(func.count()).where(
        e2.campaign_id == info.id, e2.device_id == touched.c.dev, e2.superseded_by.is_(None),
        e2.captured_at >= func.to_timestamp(start),
        e2.captured_at < func.to_timestamp(start + WINDOW_SECONDS)).scalar_subquery())
    return {d: int(n or 0) for d, n in s.execute(
        select(touched.c.dev, func.max(whole)).group_by(touched.c.dev))}
