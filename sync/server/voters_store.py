"""Voter files on the server: encrypted voter records, their keys, the device index versions,
and each entry's registration match.

Storage (tables below; migration ``0200_voters``):

- ``voter_files``: one row per import (a *generation*): state loading -> active -> retired
  (or failed), row counts, never content.
- ``voter_records``: one row per voter, keyed (file_id, row). The voter's fields (names,
  address, county voter id) are sealed together with the server's FieldCipher as one JSON
  value (field ``voter``, record id ``voter:<file>:<row>``): they are only ever used together
  (scoring), so one AES-GCM seal per voter instead of nine keeps the import fast.
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
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from sync.crypto import FieldCipher
from sync.domain import utcnow
from sync.matching import blocking_keys
from sync.normalize import normalized_record
from sync.protocol import EntryStatus, RegistrationMatch
from sync.server.models import Base, Campaign, Entry
from sync.voters.columns import ColumnMapping
from sync.voters.keys import registration_subkey, voter_keys
from sync.voters.matcher import MatchResult, match_entry
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
VOTER_FIELD = "voter"
_SEALED = ("voter_id", "first_name", "middle_name", "last_name", "suffix", "street", "unit", "city", "zip")
_FileId = BigInteger().with_variant(Integer(), "sqlite")


class VoterFile(Base):
    __tablename__ = "voter_files"

    id: Mapped[int] = mapped_column(_FileId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    state: Mapped[str] = mapped_column(String(12))  # loading | active | retired | failed
    source: Mapped[str] = mapped_column(String(200), default="")  # file name only
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_loaded: Mapped[int] = mapped_column(Integer, default=0)
    stats_json: Mapped[str] = mapped_column(Text, default="{}")


class VoterRecord(Base):
    __tablename__ = "voter_records"

    file_id: Mapped[int] = mapped_column(ForeignKey("voter_files.id"), primary_key=True,
                                         autoincrement=False)
    row: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    enc_fields: Mapped[bytes] = mapped_column(LargeBinary)


class VoterKey(Base):
    __tablename__ = "voter_keys"

    file_id: Mapped[int] = mapped_column(ForeignKey("voter_files.id"), primary_key=True,
                                         autoincrement=False)
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    row: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[int] = mapped_column(SmallInteger)


class RegistrationIndexRow(Base):
    __tablename__ = "registration_indexes"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    bucket_bits: Mapped[int] = mapped_column(Integer)
    key_count: Mapped[int] = mapped_column(Integer)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class VoterFilePointer(Base):
    __tablename__ = "voter_file_pointer"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    file_id: Mapped[int] = mapped_column(BigInteger)
    index_version: Mapped[int] = mapped_column(BigInteger)
    switched_at: Mapped[datetime]


class EntryRegistration(Base):
    __tablename__ = "entry_registrations"
    __table_args__ = (Index("ix_entry_registrations_campaign_file", "campaign_id", "file_id"),)

    entry_id: Mapped[str] = mapped_column(ForeignKey("entries.id"), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(36))
    file_id: Mapped[int] = mapped_column(BigInteger)
    match: Mapped[str] = mapped_column(String(24))
    how: Mapped[str] = mapped_column(String(12))
    matched_at: Mapped[datetime]


# ------------------------------------------------------------------------------ helpers
def voter_cipher(server_keys) -> FieldCipher:
    """The server's field cipher (the same sub-key Services uses for entries)."""
    return FieldCipher(server_keys.subkey("canvass/field-cipher/v1"))


def _record_id(file_id: int, row: int) -> str:
    return f"voter:{file_id}:{row}"


def seal_voter(cipher: FieldCipher, file_id: int, row: int, fields: Mapping[str, str]) -> bytes:
    data = {k: fields[k] for k in _SEALED if fields.get(k)}
    return cipher.encrypt(json.dumps(data, separators=(",", ":"), ensure_ascii=False),
                          record_id=_record_id(file_id, row), field=VOTER_FIELD)


def open_voter(cipher: FieldCipher, file_id: int, row: int, blob: bytes) -> dict[str, str]:
    return json.loads(cipher.decrypt(blob, record_id=_record_id(file_id, row), field=VOTER_FIELD))


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
                      rematch: bool = True) -> ImportResult:
    """Load a voter file as a new generation, build its device index, flip the pointer.

    Streaming: rows go to the database in batches of ``batch_rows``; memory holds one batch
    and the index being built (about 18 bits per key)."""
    from sync.server.admin import campaign_index_key

    mapping = mapping or ColumnMapping.build()
    with db.read() as s:
        campaign = s.get(Campaign, campaign_id)
        if campaign is None:
            raise VoterImportError("unknown campaign")
        index_key = campaign_index_key(server_keys, campaign)
    reg_key = registration_subkey(index_key)
    cipher = voter_cipher(server_keys)
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
        result.rematched = rematch_campaign(db, server_keys, campaign_id)
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


def record_registration(s: Session, cipher: FieldCipher, index_key: bytes, campaign_id: str,
                        entry_id: str, fields: Mapping[str, str]) -> MatchResult | None:
    """Match one entry against the active voter file and store the result (None: no file).
    Meant to run inside the batch-ingest transaction, right after the entry is stored."""
    file_id = active_file_id(s, campaign_id)
    if file_id is None:
        return None
    result = match_entry(index_key, fields, DbVoterSource(s, cipher, file_id))
    _store_match(s, campaign_id, file_id, entry_id, result)
    return result


def _store_match(s: Session, campaign_id: str, file_id: int, entry_id: str, result: MatchResult) -> bool:
    """Upsert; True when the stored match changed."""
    row = s.get(EntryRegistration, entry_id)
    if row is None:
        s.add(EntryRegistration(entry_id=entry_id, campaign_id=campaign_id, file_id=file_id,
                                match=result.match.value, how=result.how, matched_at=utcnow()))
        return True
    changed = row.match != result.match.value
    row.file_id, row.match, row.how, row.matched_at = file_id, result.match.value, result.how, utcnow()
    return changed


def rematch_campaign(db, server_keys, campaign_id: str, *, page: int = 500,
                     emit: Callable[[Session, Entry], None] | None = None) -> dict[str, int]:
    """Match every stored, non-rejected entry of the campaign against the active file.

    ``emit(session, entry)`` is called for entries whose match changed (by default the review
    module's outcome emitter, so devices learn the new match through the outcomes feed)."""
    from sync.server.admin import campaign_index_key
    from sync.server.dedup import decrypt_fields

    if emit is None:
        from sync.server.review import emit_outcome as emit
    cipher = voter_cipher(server_keys)
    with db.read() as s:
        campaign = s.get(Campaign, campaign_id)
        if campaign is None:
            raise VoterImportError("unknown campaign")
        index_key = campaign_index_key(server_keys, campaign)
        file_id = active_file_id(s, campaign_id)
    counts: dict[str, int] = {}
    if file_id is None:
        return counts
    after = ""
    while True:
        with db.write() as s:
            entries = s.scalars(select(Entry).where(
                Entry.campaign_id == campaign_id, Entry.id > after,
                Entry.status != EntryStatus.REJECTED.value).order_by(Entry.id).limit(page)).all()
            if not entries:
                break
            source = DbVoterSource(s, cipher, file_id)
            for entry in entries:
                result = match_entry(index_key, decrypt_fields(cipher, entry), source)
                counts[result.match.value] = counts.get(result.match.value, 0) + 1
                if _store_match(s, campaign_id, file_id, entry.id, result) and emit is not None:
                    emit(s, entry)
            after = entries[-1].id
    return counts


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
