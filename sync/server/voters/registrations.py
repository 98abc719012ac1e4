"""Each entry's registration match against the active voter file: matched at intake inside the
batch's chunk transaction (``match_new_entries``, then ``PendingRegistrations.write``), and
for every stored entry after an import (``rematch_campaign``); read back by the outcomes feed
(``registrations_for``) and the dashboard (``registration_summary``). The batch answer carries
no registration, so each match known at intake, and each match a re-match changes, adds an
outcome row: the device learns it from its outcomes feed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sync.crypto import FieldCipher
from sync.domain import utcnow
from sync.matching import blocking_keys
from sync.normalize import NormalizedRecord, normalized_record
from sync.protocol import EntryResult, EntryStatus, RegistrationMatch
from sync.server.admin import campaign_index_key
from sync.server.dedup import bulk_insert, decrypt_fields, next_counter
from sync.server.models import (
    Campaign,
    Entry,
    EntryRegistration,
    OutcomeRow,
    VoterFilePointer,
)
from sync.server.review import OUTCOMES_COUNTER
from sync.server.voters.candidates import BulkVoterSource
from sync.server.voters.store import (
    VoterImportError,
    active_file_id,
    cipher_for,
    slices,
)
from sync.voters.keys import probe_keys, registration_subkey
from sync.voters.matcher import MatchResult, match_entry

log = logging.getLogger("canvass.server.voters")


def match_records(s: Session, cipher: FieldCipher, index_key: bytes, file_id: int,
                  records: Sequence[tuple[str, NormalizedRecord]]) -> dict[str, MatchResult]:
    """entry id -> match against generation ``file_id``, for a page of entries (bulk reads)."""
    reg_key = registration_subkey(index_key)
    wanted = []
    for _entry_id, record in records:
        if record.first and record.last:
            probes = probe_keys(reg_key, record)
            wanted.append(([*blocking_keys(index_key, record), *(k.hex() for k in probes.address)],
                           probes.person))
    source = BulkVoterSource(s, cipher, file_id, wanted)
    return {entry_id: match_entry(index_key, record, source, reg_key=reg_key)
            for entry_id, record in records}


def _store_matches(s: Session, campaign_id: str, file_id: int, results: Mapping[str, MatchResult], *,
                   fresh: bool = False) -> list[str]:
    """Upsert the matches; returns the entry ids whose stored match changed (new rows included).
    ``fresh``: entries stored by this very transaction (no row can exist yet): a bulk insert."""
    now = utcnow()
    existing = {} if fresh else {
        row.entry_id: row for part in slices(results)
        for row in s.scalars(select(EntryRegistration).where(EntryRegistration.entry_id.in_(part)))}
    new_rows, changed = [], []
    for entry_id, result in results.items():
        row = existing.get(entry_id)
        if row is None:
            new_rows.append({"entry_id": entry_id, "campaign_id": campaign_id, "file_id": file_id,
                             "match": result.match.value, "how": result.how, "matched_at": now})
            changed.append(entry_id)
            continue
        if row.match != result.match.value:
            changed.append(entry_id)
        row.file_id, row.match, row.how, row.matched_at = file_id, result.match.value, result.how, now
    bulk_insert(s, EntryRegistration.__table__, new_rows)
    return changed


def _add_outcomes(s: Session, rows: Sequence[dict]) -> None:
    """Outcome rows (device_id, entry_id, status, duplicate_of, candidate_of, reason_code) with
    one counter reservation; the feed adds each entry's current registration when read."""
    if not rows:
        return
    last = next_counter(s, OUTCOMES_COUNTER, len(rows))
    now = utcnow()
    bulk_insert(s, OutcomeRow.__table__, [dict(row, seq=last - len(rows) + 1 + i, created_at=now)
                                          for i, row in enumerate(rows)])


@dataclass(frozen=True)
class NewEntry:
    """An entry the intake transaction just stored (not rejected), and its batch answer."""

    entry_id: str
    device_id: str
    record: NormalizedRecord
    result: EntryResult


@dataclass
class PendingRegistrations:
    """Matches computed for a chunk's new entries, written by ``write`` once the entries are."""

    campaign_id: str = ""
    file_id: int | None = None
    entries: Sequence[NewEntry] = ()
    results: dict[str, MatchResult] = field(default_factory=dict)

    def write(self, s: Session, *, outcomes: bool = True) -> None:
        """``outcomes=False``: the batch's results carry the matches (protocol 2), so no
        outcome row repeats them to the device."""
        if self.file_id is None or not self.results:
            return
        _store_matches(s, self.campaign_id, self.file_id, self.results, fresh=True)
        if not outcomes:
            return
        _add_outcomes(s, [{"device_id": e.device_id, "entry_id": e.entry_id, "status": e.result.status.value,
                           "duplicate_of": e.result.duplicate_of, "candidate_of": e.result.candidate_of,
                           "reason_code": e.result.reason_code} for e in self.entries
                          if self.results[e.entry_id].match != RegistrationMatch.UNKNOWN])


def match_new_entries(s: Session, cipher: FieldCipher, index_key: bytes, campaign_id: str,
                      entries: Sequence[NewEntry]) -> PendingRegistrations:
    """Batch intake, inside a chunk's transaction, before its writes: the reads and the CPU work
    of matching the chunk's new entries against the active voter file (so the feed counters the
    writes lock stay locked only until the commit). Without an active voter file: one
    primary-key read, and ``write`` does nothing."""
    if not entries:
        return PendingRegistrations()
    file_id = active_file_id(s, campaign_id)
    if file_id is None:
        return PendingRegistrations()
    results = match_records(s, cipher, index_key, file_id, [(e.entry_id, e.record) for e in entries])
    return PendingRegistrations(campaign_id, file_id, entries, results)


def rematch_campaign(db, server_keys, campaign_id: str, *, page: int = 500,
                     emit: Callable[[Session, Entry], None] | None = None, cipher=None) -> dict[str, int]:
    """Match every stored, non-rejected entry of the campaign against the active file.

    Entries whose match changed get an outcome row (``emit(session, entry)`` when given), so
    devices learn the new match through the outcomes feed. A last pass picks up entries that no
    row of the active file covers yet: a batch whose transaction read the voter-file pointer
    before the flip, and committed after the first pass went by its entry ids."""
    with db.read() as s:
        campaign = s.get(Campaign, campaign_id)
        if campaign is None:
            raise VoterImportError("unknown campaign")
        index_key = campaign_index_key(server_keys, campaign)
        file_id = active_file_id(s, campaign_id)
    counts: dict[str, int] = {}
    if file_id is None:
        return counts
    live = (Entry.campaign_id == campaign_id, Entry.status != EntryStatus.REJECTED.value)
    uncovered = ~select(EntryRegistration.entry_id).where(
        EntryRegistration.entry_id == Entry.id, EntryRegistration.file_id == file_id).exists()
    with cipher_for(db, server_keys, cipher) as data:
        for condition in (None, uncovered):
            after = ""
            while True:
                with db.write() as s:
                    stmt = select(Entry).where(*live, Entry.id > after).order_by(Entry.id).limit(page)
                    entries = s.scalars(stmt if condition is None else stmt.where(condition)).all()
                    if not entries:
                        break
                    _rematch_page(s, data, index_key, campaign_id, file_id, entries, counts, emit)
                    after = entries[-1].id
    return counts


def _rematch_page(s: Session, cipher, index_key: bytes, campaign_id: str, file_id: int,
                  entries: Sequence[Entry], counts: dict[str, int], emit) -> None:
    results = match_records(s, cipher, index_key, file_id,
                            [(e.id, normalized_record(decrypt_fields(cipher, e))) for e in entries])
    for result in results.values():
        counts[result.match.value] = counts.get(result.match.value, 0) + 1
    changed = set(_store_matches(s, campaign_id, file_id, results))
    moved = [e for e in entries if e.id in changed]
    if emit is not None:
        for entry in moved:
            emit(s, entry)
        return
    _add_outcomes(s, [{"device_id": e.device_id, "entry_id": e.id, "status": e.status,
                       "duplicate_of": e.duplicate_of, "candidate_of": e.candidate_of,
                       "reason_code": e.reason_code} for e in moved])


def registrations_for(s: Session, entry_ids: Iterable[str]) -> dict[str, RegistrationMatch]:
    """Current match of each entry (entries matched against a retired file are left out)."""
    ids = list(entry_ids)
    if not ids:
        return {}
    rows = s.execute(select(EntryRegistration.entry_id, EntryRegistration.match)
                     .join(VoterFilePointer, (VoterFilePointer.campaign_id == EntryRegistration.campaign_id)
                           & (VoterFilePointer.file_id == EntryRegistration.file_id))
                     .where(EntryRegistration.entry_id.in_(ids))).all()
    return {entry_id: RegistrationMatch(match) for entry_id, match in rows}


def registration_summary(s: Session, campaign_id: str) -> dict:
    """Counted entries by registration match, and the projected valid count.

    projected_valid = registered_here + unknown x the campaign's expected validity rate
    (entries not yet matched, or no voter file). "Registered elsewhere" and "not found" are
    projected invalid: a county checks registration at the address written."""
    campaign = s.get(Campaign, campaign_id)
    if campaign is None:
        raise VoterImportError("unknown campaign")
    file_id = active_file_id(s, campaign_id)
    counted = s.scalar(select(func.count()).select_from(Entry).where(
        Entry.campaign_id == campaign_id, Entry.counted.is_(True))) or 0
    counts = dict.fromkeys((m.value for m in RegistrationMatch), 0)
    if file_id is not None:
        rows = s.execute(select(EntryRegistration.match, func.count())
                         .join(Entry, Entry.id == EntryRegistration.entry_id)
                         .where(Entry.campaign_id == campaign_id, Entry.counted.is_(True),
                                EntryRegistration.file_id == file_id)
                         .group_by(EntryRegistration.match)).all()
        for match, n in rows:
            counts[match] = n
    counts[RegistrationMatch.UNKNOWN.value] = counted - sum(
        v for k, v in counts.items() if k != RegistrationMatch.UNKNOWN.value)
    here = counts[RegistrationMatch.REGISTERED_HERE.value]
    projected = here + counts[RegistrationMatch.UNKNOWN.value] * campaign.validity_rate
    return {"voter_file": file_id is not None, "counted": counted, "by_match": counts,
            "projected_valid": round(projected)}
