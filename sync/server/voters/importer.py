"""Importing a voter file as a new generation: stream its rows into sealed records and blind
keys, build the device index, flip the campaign's pointer in one transaction, drop the
generation it replaced, re-match the campaign's entries. Memory holds one batch of rows and
the index being built."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, insert, select, update

from sync.domain import utcnow
from sync.matching import blocking_keys
from sync.normalize import normalized_record
from sync.server.admin import campaign_index_key
from sync.server.models import (
    Campaign,
    RegistrationIndexRow,
    VoterFile,
    VoterFilePointer,
    VoterKey,
    VoterRecord,
)
from sync.server.voters.registrations import rematch_campaign
from sync.server.voters.sealing import seal_voter
from sync.server.voters.store import (
    KEEP_INDEX_VERSIONS,
    KIND_ADDRESS,
    KIND_BLOCK,
    KIND_PERSON,
    VoterImportError,
    cipher_for,
    drop_generation,
)
from sync.voters.columns import ColumnMapping
from sync.voters.keys import registration_subkey, voter_keys
from sync.voters.reader import Progress, ReadStats, read_voter_file
from sync.voters.regindex import RegistrationIndex, SortedIndexBuilder, choose_bucket_bits, fingerprint

log = logging.getLogger("canvass.server.voters")


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


def import_voter_file(db, server_keys, campaign_id: str, path: str | os.PathLike, *,
                      mapping: ColumnMapping | None = None, encoding: str = "utf-8-sig",
                      progress: Progress | None = None, batch_rows: int = 2000,
                      rematch: bool = True, cipher=None) -> ImportResult:
    """Load a voter file as a new generation, build its device index, flip the pointer.

    Streaming: rows go to the database in batches of ``batch_rows``; memory holds one batch
    and the index being built (about 18 bits per key). ``cipher``: the data-key cipher
    (default: a ServerCipher of this call's own, see ``cipher_for``)."""
    with cipher_for(db, server_keys, cipher) as data:
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


def _discard(db, file_id: int) -> None:
    try:
        drop_generation(db, file_id)
        with db.write() as s:
            s.execute(update(VoterFile).where(VoterFile.id == file_id).values(state="failed",
                                                                              finished_at=utcnow()))
    except Exception:  # the original error matters more; never mask it
        log.exception("could not clean up a failed voter import")
