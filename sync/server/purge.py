"""Purge a campaign's signer data, leaving nothing but the figures it must keep.

``purge_campaign(db, campaign_id)`` is the one implementation behind ``canvass-server purge
--campaign ID`` and ``POST /v1/intake/retention/purge``. What it removes, and why each:

- entries: every sealed field and the sealed match record (``SEALED_ENTRY_FIELDS``), the
  keyed content fingerprint, the duplicate / candidate links (which line is the same person
  as which); office-keyed and imported entries
  also get a fresh random id, because theirs is an HMAC of their content
  (``importer.stable_entry_id``);
- matching, blocking and dedup-index keys (``signer_keys``, ``block_keys``,
  ``dedup_index``): HMACs of content; the feed's counters are moved to a round value and the
  index reset floor set to it, so every device of the campaign drops its index at its next
  pull (``routes/feeds.py``: ``0 < since <= floor`` answers ``reset``);
- outcome rows: their duplicate / candidate links (the status stays); an office entry's
  outcome rows go (nobody pulls the office pseudo-device's feed, and they name its old id);
- stored batch answers of the campaign's devices (``batches``: a keyed fingerprint of the
  body and every answer's links; ``batch_parts``, the first results of unfinished batches:
  their links). They are the only stored first results (migration 0970); a replay after the
  purge finds its entries' fingerprints cleared and answers ``conflict`` without them;
- the voter file: records, keys, device registration indexes, the active pointer and every
  entry's registration match (the ``voter_files`` rows stay, with their counts, as
  ``purged``);
- import jobs' sealed rejection files;
- withdrawal requests: the sealed signer and the scored candidates (which lines the request
  resembled); the withdrawn lines stay, under the entries' new ids where those change.

What stays, and why: each line's position and standing (campaign, device, section, line,
capture and arrival times, status, counted, reason code and field: the categories the
per-section and per-day figures are counted from), the dashboard rollup (per device and
campaign-local day; brought up to date first, so no entry is left to the live part), paper
sections and check-ins, import jobs' counts, the audit log. None of these holds a value that
would differ had a signer written other words while their line kept its standing
(tests/test_purge_server.py compares three databases to show it).

SQLite: the purge ends with ``VACUUM`` and ``wal_checkpoint(TRUNCATE)``, so neither freed
pages nor old WAL frames keep a copy. PostgreSQL: dead row versions stay in the table files
until VACUUM reuses them (``pg_dump`` shows none); backups and WAL archives are the
operator's (SECURITY.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from sync.domain import utcnow
from sync.ids import new_uuid7
from sync.server import dashboard, dedup, withdrawals
from sync.server.audit import audit
from sync.server.caches import SharedCache
from sync.server.db import Database
from sync.server.intake.office import office_device_id  # the office pseudo-device's id
from sync.server.models import (
    SEALED_ENTRY_FIELDS,
    AuditLog,
    BatchPart,
    BatchRecord,
    BlockKey,
    Counter,
    Device,
    Entry,
    EntryRegistration,
    ImportJob,
    IndexKey,
    IntakeSettings,
    OutcomeRow,
    RegistrationIndexRow,
    SignerKey,
    VoterFile,
    VoterFilePointer,
    VoterKey,
    VoterRecord,
    Withdrawal,
    WithdrawnLine,
)
from sync.server.rotation import _set_counter, index_reset_name

log = logging.getLogger("canvass.server")

# The dedup-index counter is moved up to a multiple of this: its old value (how many keys
# were ever claimed) depends a little on what signers wrote (entries with fewer keys).
COUNTER_ROUND = 1 << 24
_CHUNK = 500


class PurgeError(Exception):
    """The purge cannot run (no such campaign). Messages carry ids only."""


@dataclass(frozen=True)
class PurgeReport:
    campaign_id: str
    entries: int
    reidentified: int  # office / imported entries given a random id
    voter_records: int
    import_jobs: int
    index_floor: int  # devices whose index cursor is at or below this reset at their next pull
    compacted: bool  # SQLite: VACUUM and WAL truncation done


def purge_campaign(db: Database, campaign_id: str, *, timezone: str, actor: str = "cli",
                   now: datetime | None = None,
                   progress: Callable[[str], None] | None = None,
                   candidates: SharedCache | None = None) -> PurgeReport:
    """Purge ``campaign_id``'s signer data (see the module docstring). Idempotent: a second
    run finds nothing left and changes nothing that matters. ``progress(step)`` is told each
    step as it starts ("rollup", "purge", "compact"): a large campaign takes minutes.
    ``timezone`` (Settings.timezone): the days the rollup counts in. ``candidates``: the
    serving process's candidate cache (Services.candidates), emptied once the data is gone
    (the CLI's process has decoded none)."""
    now = now or utcnow()
    step = progress or (lambda _name: None)
    with db.read() as s:
        info = dashboard.campaign_info(s, campaign_id, timezone=timezone)
    if info is None:
        raise PurgeError("unknown campaign")
    # Every entry received so far goes into the per-day rollup before its links go.
    step("rollup")
    dashboard.refresh_rollup(
        db, info, now=now + timedelta(seconds=dashboard.SETTLE_SECONDS + 1))
    step("purge")
    with db.write() as s:  # one transaction: a failure leaves the campaign as it was
        report = _purge(s, campaign_id, actor, now)
    if candidates is not None:
        candidates.clear()  # decoded candidates of this process's memory
    step("compact")
    compacted = compact(db)
    log.info("campaign purged: %d entries, %d voter records", report.entries, report.voter_records)
    return replace(report, compacted=compacted)


def _purge(s: Session, cid: str, actor: str, now: datetime) -> PurgeReport:
    office = office_device_id(cid)
    entries = int(s.scalar(select(func.count()).select_from(Entry).where(Entry.campaign_id == cid)) or 0)
    s.execute(update(Entry).where(Entry.campaign_id == cid).values(
        fingerprint="", duplicate_of=None, candidate_of=None,
        **{column: None for column, _field in SEALED_ENTRY_FIELDS}))
    s.execute(delete(EntryRegistration).where(EntryRegistration.campaign_id == cid))
    s.execute(delete(OutcomeRow).where(OutcomeRow.device_id == office))
    devices = select(Device.id).where(Device.campaign_id == cid)
    s.execute(update(OutcomeRow).where(OutcomeRow.device_id.in_(devices))
              .values(duplicate_of=None, candidate_of=None))
    s.execute(delete(BatchRecord).where(BatchRecord.device_id.in_(devices)))
    s.execute(delete(BatchPart).where(BatchPart.device_id.in_(devices)))
    reidentified = _reidentify(s, cid, office)
    withdrawals.purge_withdrawals(s, cid)
    for model in (SignerKey, BlockKey, IndexKey):
        s.execute(delete(model).where(model.campaign_id == cid))
    floor = _reset_index_feed(s, cid)
    voter_records = _drop_voter_file(s, cid)
    jobs = s.execute(update(ImportJob).where(ImportJob.campaign_id == cid,
                                             ImportJob.enc_rejections.is_not(None))
                     .values(enc_rejections=None)).rowcount
    row = s.get(IntakeSettings, cid)
    if row is None:
        row = IntakeSettings(campaign_id=cid, retention_days=90, filed_on="")
        s.add(row)
    row.purged, row.purged_at = True, now
    audit(s, actor, "retention.purge", cid, f"{entries} entries")
    return PurgeReport(cid, entries, reidentified, voter_records, int(jobs or 0), floor, False)


def _reidentify(s: Session, cid: str, office: str) -> int:
    """Office entries' ids are HMACs of their content: give each a random one (its outcome
    rows and registrations are gone already; corrections point at the new ids)."""
    old_ids = list(s.scalars(select(Entry.id).where(Entry.campaign_id == cid, Entry.device_id == office)))
    if not old_ids:
        return 0
    new = {old: new_uuid7() for old in old_ids}
    table = Entry.__table__
    for start in range(0, len(old_ids), _CHUNK):
        chunk = old_ids[start:start + _CHUNK]
        s.execute(update(table).where(table.c.id == bindparam("b_old")).values(id=bindparam("b_new")),
                  [{"b_old": o, "b_new": new[o]} for o in chunk])
    for column in ("supersedes", "superseded_by"):
        col = table.c[column]
        refs = [(i, v) for i, v in s.execute(select(table.c.id, col).where(
            table.c.campaign_id == cid, col.is_not(None))) if v in new]
        if refs:
            s.execute(update(table).where(table.c.id == bindparam("b_id")).values(
                {column: bindparam("b_ref")}), [{"b_id": i, "b_ref": new[v]} for i, v in refs])
    # The audit log names keyed lines and review decisions by entry id, and a withdrawal
    # names the line it withdrew: they keep naming them, by the new ids.
    for table_, column in ((AuditLog.__table__, "target"), (Withdrawal.__table__, "entry_id"),
                           (WithdrawnLine.__table__, "entry_id")):
        col = table_.c[column]
        for start in range(0, len(old_ids), _CHUNK):
            chunk = old_ids[start:start + _CHUNK]
            s.execute(update(table_).where(col == bindparam("b_old")).values({column: bindparam("b_new")}),
                      [{"b_old": o, "b_new": new[o]} for o in chunk])
    return len(old_ids)


def _reset_index_feed(s: Session, cid: str) -> int:
    """Move the feed's counter to a round value and make it the reset floor: every device
    that pulled any of the campaign's index gets ``reset`` (and an empty index) next time."""
    name = dedup.index_counter_name(cid)
    current = int(s.scalar(select(Counter.value).where(Counter.name == name)) or 0)
    floor = -(-max(current, 1) // COUNTER_ROUND) * COUNTER_ROUND
    _set_counter(s, name, floor)
    _set_counter(s, index_reset_name(cid), floor)
    return floor


def _drop_voter_file(s: Session, cid: str) -> int:
    files = list(s.scalars(select(VoterFile.id).where(VoterFile.campaign_id == cid)))
    records = 0
    for file_id in files:
        records += int(s.execute(delete(VoterRecord).where(VoterRecord.file_id == file_id)).rowcount or 0)
        s.execute(delete(VoterKey).where(VoterKey.file_id == file_id))
    s.execute(delete(RegistrationIndexRow).where(RegistrationIndexRow.campaign_id == cid))
    s.execute(delete(VoterFilePointer).where(VoterFilePointer.campaign_id == cid))
    if files:
        s.execute(update(VoterFile).where(VoterFile.campaign_id == cid).values(state="purged"))
    return records


def compact(db: Database, *, attempts: int = 20) -> bool:
    """SQLite: rebuild the file (VACUUM: no freed page keeps old bytes) and truncate the WAL
    (its frames held the old pages). True when both were done. PostgreSQL: nothing here."""
    if not db.sqlite:
        return False
    raw = db.engine.raw_connection()
    try:
        driver = raw.driver_connection
        driver.execute("VACUUM")
        for _ in range(attempts):
            busy = driver.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            if not busy:
                return True
            time.sleep(0.1)  # a reader still holds an old snapshot
        log.warning("purge: the WAL could not be truncated (readers kept it busy)")
        return False
    finally:
        raw.close()
