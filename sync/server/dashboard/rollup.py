"""The dashboard's rollup of *settled* entries (received more than SETTLE_SECONDS ago), per
device and local day, kept by the dashboard itself, never by ingest: ``refresh_rollup``
folds new settled entries in and recomputes the buckets corrections, review decisions and
re-matches touched; ``rollup_is_current`` says whether reads are exact without a refresh."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import (
    DateTime,
    String,
    and_,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session, aliased

from sync.domain import as_utc, utcnow
from sync.server.dashboard.buckets import (
    fold,
    rollup_row,
    slot_rows,
)
from sync.server.dashboard.common import (
    SETTLE_SECONDS,
    CampaignInfo,
    Days,
    chunks,
    is_sqlite,
    live,
)
from sync.server.dashboard.postgres import pg_fill, values_of
from sync.server.models import (
    DashboardRollup,
    DashboardRollupState,
    DashboardSection,
    Entry,
    OutcomeRow,
)


def refresh_rollup(db, info: CampaignInfo, now: datetime | None = None) -> None:
    """Bring the campaign's rollup up to date (one write transaction; cheap when little
    changed). The first call, or a change of time zone, rebuilds it from every entry."""
    now = now or utcnow()
    settle = now - timedelta(seconds=SETTLE_SECONDS)
    with db.write() as s:
        if not is_sqlite(s):  # one refresher per campaign at a time (SQLite: BEGIN IMMEDIATE)
            s.execute(select(func.pg_advisory_xact_lock(
                func.hashtext("canvass-dashboard:" + info.id))))
        seq_top = int(s.scalar(select(func.max(OutcomeRow.seq))) or 0)
        state = s.get(DashboardRollupState, info.id)
        days = Days(info.timezone)
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


def _rebuild(s: Session, campaign_id: str, settle: datetime, days: Days) -> None:
    s.execute(delete(DashboardRollup).where(DashboardRollup.campaign_id == campaign_id))
    s.execute(delete(DashboardSection).where(DashboardSection.campaign_id == campaign_id))
    if not is_sqlite(s):
        pg_fill(s, campaign_id, days.tz.key, settle)
        s.execute(insert(DashboardSection).from_select(
            ["campaign_id", "device_id", "section"],
            select(literal(campaign_id, String(36)), Entry.device_id, Entry.section)
            .where(*live(campaign_id), Entry.received_at < settle).distinct()))
        return
    buckets = fold(slot_rows(s, campaign_id, Entry.received_at < settle), days)
    rows = [rollup_row(campaign_id, key, b) for key, b in buckets.items()]
    for chunk in chunks(rows, 5000):
        s.execute(insert(DashboardRollup), list(chunk))
    pairs = [{"campaign_id": campaign_id, "device_id": d, "section": sec} for d, sec in s.execute(
        select(Entry.device_id, Entry.section).where(*live(campaign_id), Entry.received_at < settle)
        .distinct())]
    for chunk in chunks(pairs, 5000):
        s.execute(insert(DashboardSection), list(chunk))


def _dirty(s: Session, campaign_id: str, old: datetime, settle: datetime, old_seq: int,
           seq_top: int, days: Days) -> tuple[set, set]:
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
               days: Days) -> None:
    if not is_sqlite(s):
        r, ds = DashboardRollup, DashboardSection
        for chunk in chunks(buckets, 2000):
            keys = values_of("k", [("device_id", String(36)), ("day", String(10))], chunk)
            s.execute(delete(r).where(r.campaign_id == campaign_id, r.device_id == keys.c.device_id,
                                      r.day == keys.c.day))
            ranges = values_of("rng", [("device_id", String(36)), ("lo", DateTime(timezone=True)),
                                   ("hi", DateTime(timezone=True))],
                           [(d, *days.bounds(day)) for d, day in chunk])
            pg_fill(s, campaign_id, days.tz.key, settle, ranges)
        for chunk in chunks(sections, 2000):
            keys = values_of("k", [("device_id", String(36)), ("section", String(2000))], chunk)
            s.execute(delete(ds).where(ds.campaign_id == campaign_id,
                                       ds.device_id == keys.c.device_id,
                                       ds.section == keys.c.section))
            s.execute(insert(ds).from_select(
                ["campaign_id", "device_id", "section"],
                select(literal(campaign_id, String(36)), Entry.device_id, Entry.section)
                .join(keys, and_(Entry.device_id == keys.c.device_id,
                                 Entry.section == keys.c.section))
                .where(*live(campaign_id), Entry.received_at < settle).distinct()))
        return
    for chunk in chunks(buckets):
        ranges = []
        for device_id, day in chunk:
            lo, hi = days.bounds(day)
            ranges.append(and_(Entry.device_id == device_id, Entry.captured_at >= lo,
                               Entry.captured_at < hi))
        fresh = fold(slot_rows(s, campaign_id, Entry.received_at < settle, or_(*ranges)), days)
        s.execute(delete(DashboardRollup).where(
            DashboardRollup.campaign_id == campaign_id,
            tuple_(DashboardRollup.device_id, DashboardRollup.day).in_(list(chunk))))
        if fresh:
            s.execute(insert(DashboardRollup),
                      [rollup_row(campaign_id, key, b) for key, b in fresh.items()])
    for chunk in chunks(sections):
        present = s.execute(select(Entry.device_id, Entry.section).where(
            *live(campaign_id), Entry.received_at < settle,
            tuple_(Entry.device_id, Entry.section).in_(list(chunk))).distinct()).all()
        s.execute(delete(DashboardSection).where(
            DashboardSection.campaign_id == campaign_id,
            tuple_(DashboardSection.device_id, DashboardSection.section).in_(list(chunk))))
        if present:
            s.execute(insert(DashboardSection), [
                {"campaign_id": campaign_id, "device_id": d, "section": sec} for d, sec in present])
