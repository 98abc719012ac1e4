"""Voter files on the server: encrypted voter records, their keys, the device index versions,
and each entry's registration match.

Storage (tables below; migration ``0200_voters``):

- ``voter_files``: one row per import (a *generation*): state loading -> active -> retired
  (or failed), row counts, never content.
- ``voter_records``: one row per voter, keyed (file_id, row). The voter's fields (names,
  address, county voter id) are sealed together as one JSON value (field ``voter``, record id
  ``voter:<file>:<row>``): they are only ever used together (scoring), so one AES-GCM seal per
  voter instead of nine keeps the import fast. The cipher is the one entries use: the server's
  rotating data keys (sync.server.rotation; ``svc.cipher`` in the server, a ``ServerCipher`` of
  its own in the CLI), and ``rotate_data`` re-seals voter records with entries, so after a
  rotation no voter is left under a retired key.
- ``voter_keys``: (file_id, key, row, kind): blind keys of each voter. kind 0 = the dedup
  blocking keys (sync.matching, server only), 1 = ``reg_address``, 2 = ``reg_person``
  (sync.voters.keys; the device index is built from kinds 1 and 2 only).
- ``registration_indexes``: the serialized device index of each generation (version = the
  voter file id, so versions only grow), kept for the last KEEP_INDEX_VERSIONS generations
  so devices get deltas.
- ``voter_file_pointer``: per campaign, the active generation. Re-importing loads a new
  generation next to the old one and flips this pointer in one transaction: readers see the
  old file or the new one, never a mix. The old generation's rows are deleted afterwards.
- ``entry_registrations``: the match of each entry against a generation. Rows of another
  generation than the active one are stale (treated as unknown) until re-matched.

When entries are matched: at intake, inside the batch's chunk transaction
(``match_new_entries`` before the chunk's writes, ``PendingRegistrations.write`` after them;
without an active voter file it costs one primary-key read), and for every stored entry
after an import (``rematch_campaign``). The batch answer carries no registration, so each
match known at intake, and each match a re-match changes, adds an outcome row: the device
learns it from its outcomes feed.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import (
    delete,
    func,
    insert,
    select,
    update,
)
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
    RegistrationIndexRow,
    VoterFile,
    VoterFilePointer,
    VoterKey,
    VoterRecord,
)
from sync.server.review import OUTCOMES_COUNTER
from sync.server.rotation import ServerCipher, data_cipher
from sync.server.voters.sealing import open_voter, seal_voter
from sync.voters.columns import ColumnMapping
from sync.voters.keys import probe_keys, registration_subkey, voter_keys
from sync.voters.matcher import MAX_CANDIDATES, MatchResult, match_entry
from sync.voters.reader import Progress, ReadStats, read_voter_file
from sync.voters.regindex import (
    RegistrationIndex,
    SortedIndexBuilder,
    choose_bucket_bits,
    fingerprint,
)

log = logging.getLogger("canvass.server.voters")

KIND_BLOCK, KIND_ADDRESS, KIND_PERSON = 0, 1, 2
KEEP_INDEX_VERSIONS = 3


# ------------------------------------------------------------------------------ helpers
def voter_cipher(db, server_keys) -> FieldCipher:
    """Every data key the database names, sealing under the newest (rotation.data_cipher): the
    keys entries use. A snapshot of the key table; long runs use ``_cipher_for``."""
    return data_cipher(db, server_keys)


@contextmanager
def _cipher_for(db, server_keys, cipher) -> Iterator:
    """``cipher`` when the caller has one (the server passes svc.cipher), else a ServerCipher of
    our own: it follows a data-key rotation that runs meanwhile (seals under the new key within
    its ttl, re-reads the keys when a blob names one it does not hold)."""
    if cipher is not None:
        yield cipher
        return
    own = ServerCipher(db, server_keys)
    try:
        yield own
    finally:
        own.dispose()


def active_file_id(s: Session, campaign_id: str) -> int | None:
    return s.scalar(select(VoterFilePointer.file_id).where(VoterFilePointer.campaign_id == campaign_id))


class VoterImportError(Exception):
    """A refused import (message names no personal data)."""


@dataclass
class ImportResult:
    file_id: int
    rows_read: int
    rows_loaded: int
    skipped: dict
    index_version: int
    index_keys: int
    index_bytes: int
    false_positive_rate: float
    replaced: int | None
    rematched: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


# ------------------------------------------------------------------------------ import
def import_voter_file(db, server_keys, campaign_id: str, path: str | os.PathLike, *,
                      mapping: ColumnMapping | None = None, encoding: str = "utf-8-sig",
                      progress: Progress | None = None, batch_rows: int = 2000,
                      rematch: bool = True, cipher=None) -> ImportResult:
    """Load a voter file as a new generation, build its device index, flip the pointer.

    Streaming: rows go to the database in batches of ``batch_rows``; memory holds one batch
    and the index being built (about 18 bits per key). ``cipher``: the data-key cipher
    (default: a ServerCipher of this call's own, see ``_cipher_for``)."""
    with _cipher_for(db, server_keys, cipher) as data:
        return _import(db, server_keys, campaign_id, path, mapping, encoding, progress, batch_rows,
                       rematch, data)


def _import(db, server_keys, campaign_id, path, mapping, encoding, progress, batch_rows, rematch,
            cipher) -> ImportResult:
    mapping = mapping or ColumnMapping.build()
    with db.read() as s:
        campaign = s.get(Campaign, campaign_id)
        if campaign is None:
            raise VoterImportError("unknown campaign")
        index_key = campaign_index_key(server_keys, campaign)
    reg_key = registration_subkey(index_key)
    with db.write() as s:
        vf = VoterFile(campaign_id=campaign_id, state="loading", source=Path(path).name[:200],
                       created_at=utcnow(), rows_read=0, rows_loaded=0, stats_json="{}")
        s.add(vf)
        s.flush()
        file_id = vf.id
    stats = ReadStats()
    reg_key_rows = 0
    try:
        records: list[dict] = []
        key_rows: list[dict] = []

        def flush() -> None:
            if not records:
                return
            with db.write() as s:
                s.execute(insert(VoterRecord), records)
                s.execute(insert(VoterKey), key_rows)
            records.clear()
            key_rows.clear()

        for vrow in read_voter_file(path, mapping, encoding=encoding, progress=progress, stats=stats):
            row = vrow.line
            record = normalized_record(vrow.fields)
            keys = voter_keys(reg_key, record)
            records.append({"file_id": file_id, "row": row,
                            "enc_fields": seal_voter(cipher, file_id, row, vrow.fields)})
            for kind, values in ((KIND_ADDRESS, keys.address), (KIND_PERSON, keys.person)):
                for key in values:
                    key_rows.append({"file_id": file_id, "key": key.hex(), "row": row, "kind": kind})
                    reg_key_rows += 1
            for block in blocking_keys(index_key, record):
                key_rows.append({"file_id": file_id, "key": block, "row": row, "kind": KIND_BLOCK})
            if len(records) >= batch_rows:
                flush()
        flush()
        index = _build_index(db, campaign_id, file_id, reg_key_rows)
        replaced = _activate(db, campaign_id, file_id, index, stats)
    except BaseException:
        _discard(db, file_id)
        raise
    if replaced is not None:
        drop_generation(db, replaced)
    result = ImportResult(file_id, stats.rows_read, stats.rows_kept, dict(stats.skipped), index.version,
                          len(index), index.nbytes, index.false_positive_rate, replaced)
    if rematch:
        result.rematched = rematch_campaign(db, server_keys, campaign_id, cipher=cipher)
    return result


def _build_index(db, campaign_id: str, file_id: int, estimate: int) -> RegistrationIndex:
    with db.read() as s:
        previous = s.scalar(select(RegistrationIndexRow.bucket_bits)
                            .where(RegistrationIndexRow.campaign_id == campaign_id)
                            .order_by(RegistrationIndexRow.version.desc()).limit(1))
        # Distinct keys are fewer than key rows (namesakes share person keys): about 0.8x.
        bits = choose_bucket_bits(max(1, int(estimate * 0.8)), previous)
        builder = SortedIndexBuilder(bits)
        stmt = (select(VoterKey.key).where(VoterKey.file_id == file_id,
                                           VoterKey.kind.in_((KIND_ADDRESS, KIND_PERSON)))
                .order_by(VoterKey.key).execution_options(yield_per=20_000))
        for key in s.scalars(stmt):
            builder.add(fingerprint(bytes.fromhex(key), bits))
    return builder.build(version=file_id)


def _activate(db, campaign_id: str, file_id: int, index: RegistrationIndex, stats: ReadStats) -> int | None:
    """One transaction: the new index version, the pointer flip, the states."""
    now = utcnow()
    with db.write() as s:
        s.add(RegistrationIndexRow(campaign_id=campaign_id, version=index.version,
                                   bucket_bits=index.bucket_bits, key_count=len(index),
                                   blob=index.to_bytes(), created_at=now))
        pointer = s.get(VoterFilePointer, campaign_id, with_for_update=True)
        replaced = pointer.file_id if pointer is not None else None
        if pointer is None:
            s.add(VoterFilePointer(campaign_id=campaign_id, file_id=file_id,
                                   index_version=index.version, switched_at=now))
        else:
            pointer.file_id, pointer.index_version, pointer.switched_at = file_id, index.version, now
        if replaced is not None:
            s.execute(update(VoterFile).where(VoterFile.id == replaced).values(state="retired"))
        s.execute(update(VoterFile).where(VoterFile.id == file_id).values(
            state="active", finished_at=now, rows_read=stats.rows_read, rows_loaded=stats.rows_kept,
            stats_json=json.dumps(stats.as_dict())))
        old = s.scalars(select(RegistrationIndexRow.version)
                        .where(RegistrationIndexRow.campaign_id == campaign_id)
                        .order_by(RegistrationIndexRow.version.desc())
                        .offset(KEEP_INDEX_VERSIONS)).all()
        if old:
            s.execute(delete(RegistrationIndexRow).where(RegistrationIndexRow.campaign_id == campaign_id,
                                                         RegistrationIndexRow.version.in_(old)))
    return replaced


def drop_generation(db, file_id: int, *, batch: int = 50_000) -> None:
    """Delete a retired or failed generation's records and keys (in slices of rows)."""
    while True:
        with db.write() as s:
            top = s.scalar(select(VoterRecord.row).where(VoterRecord.file_id == file_id)
                           .order_by(VoterRecord.row).offset(batch).limit(1))
            key_cond = [VoterKey.file_id == file_id]
            rec_cond = [VoterRecord.file_id == file_id]
            if top is not None:
                key_cond.append(VoterKey.row < top)
                rec_cond.append(VoterRecord.row < top)
            s.execute(delete(VoterKey).where(*key_cond))
            s.execute(delete(VoterRecord).where(*rec_cond))
        if top is None:
            return


def _discard(db, file_id: int) -> None:
    try:
        drop_generation(db, file_id)
        with db.write() as s:
            s.execute(update(VoterFile).where(VoterFile.id == file_id).values(state="failed",
                                                                              finished_at=utcnow()))
    except Exception:  # the original error matters more; never mask it
        log.exception("could not clean up a failed voter import")


# ------------------------------------------------------------------------------ matching
class DbVoterSource:
    """sync.voters.matcher.VoterSource over one generation, inside an open session."""

    def __init__(self, session: Session, cipher: FieldCipher, file_id: int) -> None:
        self.s, self.cipher, self.file_id = session, cipher, file_id

    def address_candidates(self, blocks: Sequence[str], address_keys: Sequence[bytes]):
        keys = list(blocks) + [k.hex() for k in address_keys]
        if not keys:
            return []
        rows = sorted(set(self.s.scalars(select(VoterKey.row).where(
            VoterKey.file_id == self.file_id, VoterKey.key.in_(keys)))))[:500]
        if not rows:
            return []
        found = self.s.execute(select(VoterRecord.row, VoterRecord.enc_fields).where(
            VoterRecord.file_id == self.file_id, VoterRecord.row.in_(rows)).order_by(VoterRecord.row))
        return [(row, open_voter(self.cipher, self.file_id, row, blob)) for row, blob in found]

    def person_exists(self, person_keys: Sequence[bytes]) -> bool:
        if not person_keys:
            return False
        return self.s.scalar(select(VoterKey.row).where(
            VoterKey.file_id == self.file_id, VoterKey.key.in_([k.hex() for k in person_keys]),
            VoterKey.kind == KIND_PERSON).limit(1)) is not None


class _BulkVoterSource:
    """VoterSource answering a whole page of entries from three bulk reads (DbVoterSource makes
    two or three queries per entry): the voter rows of every entry's blocking and address keys,
    the records of each entry's first MAX_CANDIDATES rows, the person keys that exist. Same
    candidates as DbVoterSource; keys outside the prefetch fall back to it."""

    def __init__(self, s: Session, cipher: FieldCipher, file_id: int,
                 wanted: Sequence[tuple[Sequence[str], Sequence[bytes]]]) -> None:
        self.fallback = DbVoterSource(s, cipher, file_id)
        self.s, self.cipher, self.file_id = s, cipher, file_id
        self.address_keys = {k for keys, _ in wanted for k in keys}
        self.person_keys = {k.hex() for _, persons in wanted for k in persons}
        self.rows_of: dict[str, list[int]] = {}
        for part in _slices(self.address_keys):
            for key, row in s.execute(select(VoterKey.key, VoterKey.row).where(
                    VoterKey.file_id == file_id, VoterKey.key.in_(part))):
                self.rows_of.setdefault(key, []).append(row)
        rows = {row for keys, _ in wanted for row in self._rows(keys)}
        self.voters: dict[int, dict[str, str]] = {}
        for part in _slices(rows):
            for row, blob in s.execute(select(VoterRecord.row, VoterRecord.enc_fields).where(
                    VoterRecord.file_id == file_id, VoterRecord.row.in_(part))):
                self.voters[row] = open_voter(cipher, file_id, row, blob)
        self.persons_found: set[str] = set()
        for part in _slices(self.person_keys):
            self.persons_found.update(s.scalars(select(VoterKey.key).distinct().where(
                VoterKey.file_id == file_id, VoterKey.kind == KIND_PERSON, VoterKey.key.in_(part))))

    def _rows(self, keys: Iterable[str]) -> list[int]:
        found = {row for key in keys for row in self.rows_of.get(key, ())}
        return sorted(found)[:MAX_CANDIDATES]

    def address_candidates(self, blocks: Sequence[str], address_keys: Sequence[bytes]):
        keys = list(blocks) + [k.hex() for k in address_keys]
        if not self.address_keys.issuperset(keys):
            return self.fallback.address_candidates(blocks, address_keys)
        rows = self._rows(keys)
        if not all(row in self.voters for row in rows):
            return self.fallback.address_candidates(blocks, address_keys)
        return [(row, self.voters[row]) for row in rows]

    def person_exists(self, person_keys: Sequence[bytes]) -> bool:
        keys = [k.hex() for k in person_keys]
        if not self.person_keys.issuperset(keys):
            return self.fallback.person_exists(person_keys)
        return any(k in self.persons_found for k in keys)


def _slices(values: Iterable, size: int = 900) -> Iterator[list]:
    items = sorted(values)
    for i in range(0, len(items), size):
        yield items[i:i + size]


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
    source = _BulkVoterSource(s, cipher, file_id, wanted)
    return {entry_id: match_entry(index_key, record, source, reg_key=reg_key)
            for entry_id, record in records}


def _store_matches(s: Session, campaign_id: str, file_id: int, results: Mapping[str, MatchResult], *,
                   fresh: bool = False) -> list[str]:
    """Upsert the matches; returns the entry ids whose stored match changed (new rows included).
    ``fresh``: entries stored by this very transaction (no row can exist yet): a bulk insert."""
    now = utcnow()
    existing = {} if fresh else {
        row.entry_id: row for part in _slices(results)
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

    def write(self, s: Session) -> None:
        if self.file_id is None or not self.results:
            return
        _store_matches(s, self.campaign_id, self.file_id, self.results, fresh=True)
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


def record_registrations(s: Session, cipher: FieldCipher, index_key: bytes, campaign_id: str,
                         entries: Sequence[NewEntry]) -> dict[str, MatchResult]:
    """``match_new_entries`` then ``write``, for entries already stored by this transaction: the
    matches are stored, and each known match adds an outcome row (the batch answer has no
    registration: the device learns it from its outcomes feed). {} without a voter file."""
    pending = match_new_entries(s, cipher, index_key, campaign_id, entries)
    pending.write(s)
    return pending.results


def record_registration(s: Session, cipher: FieldCipher, index_key: bytes, campaign_id: str,
                        entry_id: str, fields: Mapping[str, str]) -> MatchResult | None:
    """Match one stored entry against the active voter file and store the result (None: no
    file). No outcome row: ``record_registrations`` is the intake path."""
    file_id = active_file_id(s, campaign_id)
    if file_id is None:
        return None
    result = match_records(s, cipher, index_key, file_id, [(entry_id, normalized_record(fields))])[entry_id]
    _store_matches(s, campaign_id, file_id, {entry_id: result})
    return result


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
    with _cipher_for(db, server_keys, cipher) as data:
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


def index_row(s: Session, campaign_id: str, version: int | None = None) -> RegistrationIndexRow | None:
    stmt = select(RegistrationIndexRow).where(RegistrationIndexRow.campaign_id == campaign_id)
    if version is None:
        current = s.scalar(select(VoterFilePointer.index_version)
                           .where(VoterFilePointer.campaign_id == campaign_id))
        if current is None:
            return None
        version = current
    return s.scalar(stmt.where(RegistrationIndexRow.version == version))
