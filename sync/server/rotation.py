"""Key rotation while serving: the field-cipher data key, and a campaign's matching-index key.

Data key (``canvass-server keys rotate-data``)
    Key id 1 is the legacy data key derived from the server key. Every later data key is 32
    random bytes, wrapped under the server key and kept in ``data_keys`` (a dump alone does not
    open it). Serving processes hold a ``ServerCipher``: it decrypts with every known key and
    encrypts with the newest, re-reading the key table at most every ``ttl`` seconds and at
    once when a blob names a key it does not hold. ``rotate_data`` adds a key, waits a grace
    period so every process encrypts with it, re-encrypts the personal fields of ``entries``,
    import rejection files and voter-file records (sync.server.voters.importer seals them with
    these same keys) in small batches -- one short transaction each, so batches keep flowing --
    then checks again until no blob under an older key is left, and finally deletes the older
    random keys' rows. Key 1 cannot be deleted (it is derived from the server key); after
    rotation nothing is sealed under it.

Index key (``canvass-server keys rotate-index --campaign ID``)
    One write transaction: a new random index key (id + 1), every counted entry's matching and
    blocking keys recomputed under it, the campaign's dedup-index feed renumbered after the
    old versions, and ``index-reset:<campaign>`` set to the last old version. Entry and review
    transactions check the campaign's key id inside their own transaction (``guard_index_key``;
    on PostgreSQL under a shared advisory lock that rotation takes exclusively), so nothing is
    ever claimed under a stale key: ingest then reloads the key and decides the entry again. A
    device whose cursor or key id is from before the rotation gets ``reset: true`` and the new
    key in its next dedup-index page.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, create_engine, delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from sync.crypto import FieldCipher, UnknownKey, new_key, unwrap_key, wrap_key
from sync.domain import utcnow
from sync.matching import blocking_keys, matching_keys
from sync.server import dedup
from sync.server.admin import AdminError, index_key_label, wrapping_key
from sync.server.audit import audit
from sync.server.db import Database
from sync.server.keys import ServerKeys
from sync.server.models import (
    SEALED_ENTRY_FIELDS,
    WITHDRAWAL_SEALED_FIELD,
    BlockKey,
    Campaign,
    Counter,
    DataKey,
    Entry,
    ImportJob,
    IndexKey,
    SignerKey,
    VoterRecord,
    Withdrawal,
)
from sync.server.voters.sealing import voter_record_id

log = logging.getLogger("canvass.server")

LEGACY_KEY_ID = 1
MAX_KEY_ID = 255  # FieldCipher's blob header has one byte for the key id


def legacy_data_key(keys: ServerKeys) -> bytes:
    return keys.subkey("canvass/field-cipher/v1")


def data_key_label(key_id: int) -> str:
    return f"canvass/data-key/{key_id}"


def load_data_keys(session: Session, keys: ServerKeys) -> tuple[dict[int, bytes], int]:
    """Every data key the database names (plus the legacy key 1), and the current key id."""
    held = {LEGACY_KEY_ID: legacy_data_key(keys)}
    wrap = wrapping_key(keys)
    for row in session.scalars(select(DataKey).order_by(DataKey.id)):
        held[row.id] = unwrap_key(wrap, row.wrapped, label=data_key_label(row.id))
    return held, max(held)


def data_cipher(db: Database, keys: ServerKeys) -> FieldCipher:
    with db.read() as s:
        held, current = load_data_keys(s, keys)
    return FieldCipher(keys=held, current=current)


class ServerCipher:
    """FieldCipher's interface over the changing set of data keys (see the module docstring).

    encrypt/decrypt run inside the callers' write transactions, so the key table is read on
    a connection of its own (never one more from the request pool: threads each holding one
    pooled connection and waiting for a second would starve the pool). One thread reloads at
    a time; the others keep using the keys held meanwhile."""

    def __init__(self, db: Database, keys: ServerKeys, *, ttl: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._keys, self.ttl, self._clock = keys, ttl, clock
        self._engine = create_engine(db.url, poolclass=NullPool)
        self._cipher = FieldCipher(legacy_data_key(keys), current=LEGACY_KEY_ID)
        self._loaded_at: float | None = None
        self._lock = threading.Lock()

    def reload(self, *, wait: bool = True) -> FieldCipher:
        if not self._lock.acquire(blocking=wait):
            return self._cipher  # another thread is reloading: the held keys are fine meanwhile
        try:
            try:
                with Session(self._engine) as s:
                    held, current = load_data_keys(s, self._keys)
                self._cipher = FieldCipher(keys=held, current=current)
            except DBAPIError:
                # Not migrated yet (or the database is briefly away): keep what we hold.
                log.info("data keys not readable; keeping the keys held")
            self._loaded_at = self._clock()
            return self._cipher
        finally:
            self._lock.release()

    def _current(self) -> FieldCipher:
        loaded = self._loaded_at
        if loaded is None:
            return self.reload()
        if self._clock() - loaded >= self.ttl:
            return self.reload(wait=False)
        return self._cipher

    def dispose(self) -> None:
        self._engine.dispose()

    @property
    def current(self) -> int:
        return self._current().current

    def encrypt(self, plaintext: str, *, record_id: str, field: str) -> bytes:
        return self._current().encrypt(plaintext, record_id=record_id, field=field)

    def decrypt(self, blob: bytes, *, record_id: str, field: str) -> str:
        try:
            return self._current().decrypt(blob, record_id=record_id, field=field)
        except UnknownKey:
            return self.reload().decrypt(blob, record_id=record_id, field=field)

    key_id_of = staticmethod(FieldCipher.key_id_of)


# --------------------------------------------------------------------------------------------
# Data key rotation


@dataclass(frozen=True)
class DataRotationReport:
    key_id: int
    reencrypted: int  # fields sealed again under the new key
    passes: int
    retired: list[int]


def _add_data_key(db: Database, keys: ServerKeys, actor: str) -> int:
    with db.write() as s:
        top = s.scalar(select(func.max(DataKey.id))) or LEGACY_KEY_ID
        key_id = top + 1
        if key_id > MAX_KEY_ID:
            raise AdminError("no data key ids left (255)")
        wrapped = wrap_key(wrapping_key(keys), new_key(), label=data_key_label(key_id))
        s.add(DataKey(id=key_id, wrapped=wrapped, created_at=utcnow()))
        audit(s, actor, "keys.rotate_data", str(key_id))
    return key_id


def _reseal(cipher: FieldCipher, blob: bytes | None, record_id: str, field: str) -> bytes | None:
    if not blob or FieldCipher.key_id_of(blob) == cipher.current:
        return None
    return cipher.encrypt(cipher.decrypt(blob, record_id=record_id, field=field),
                          record_id=record_id, field=field)


def _reencrypt_entries(db: Database, cipher: FieldCipher, batch_size: int) -> int:
    changed, after = 0, ""
    columns = [getattr(Entry, column) for column, _field in SEALED_ENTRY_FIELDS]
    while True:
        with db.write() as s:
            rows = s.execute(select(Entry.id, *columns).where(Entry.id > after)
                             .order_by(Entry.id).limit(batch_size)).all()
            for row in rows:
                values = {}
                for (column, field), blob in zip(SEALED_ENTRY_FIELDS, row[1:], strict=True):
                    sealed = _reseal(cipher, blob, row[0], field)
                    if sealed is not None:
                        values[column] = sealed
                if values:
                    # Only the sealed columns: a concurrent status change is never overwritten.
                    s.execute(update(Entry).where(Entry.id == row[0]).values(**values))
                    changed += len(values)
        if len(rows) < batch_size:
            return changed
        after = rows[-1][0]


def _reencrypt_column(db: Database, cipher: FieldCipher, batch_size: int, model, column: str,
                      field: str) -> int:
    """Re-seal one sealed column of a table keyed by a string id (AAD = id + ``field``)."""
    key, sealed_column = model.id, getattr(model, column)
    changed, after = 0, ""
    while True:
        with db.write() as s:
            rows = s.execute(select(key, sealed_column).where(key > after)
                             .order_by(key).limit(batch_size)).all()
            for row_id, blob in rows:
                sealed = _reseal(cipher, blob, row_id, field)
                if sealed is not None:
                    s.execute(update(model).where(key == row_id).values({column: sealed}))
                    changed += 1
        if len(rows) < batch_size:
            return changed
        after = rows[-1][0]


def _reencrypt_import_jobs(db: Database, cipher: FieldCipher, batch_size: int) -> int:
    return _reencrypt_column(db, cipher, batch_size, ImportJob, "enc_rejections", "rejections")


def _reencrypt_withdrawals(db: Database, cipher: FieldCipher, batch_size: int) -> int:
    return _reencrypt_column(db, cipher, batch_size, Withdrawal, "enc_signer", WITHDRAWAL_SEALED_FIELD)


def _reencrypt_voter_records(db: Database, cipher: FieldCipher, batch_size: int) -> int:
    table = VoterRecord.__table__
    reseal = (update(table).where(table.c.file_id == bindparam("b_file"), table.c.row == bindparam("b_row"))
              .values(enc_fields=bindparam("b_blob")))
    changed, after = 0, (0, 0)
    while True:
        with db.write() as s:
            rows = s.execute(select(table.c.file_id, table.c.row, table.c.enc_fields).where(or_(
                table.c.file_id > after[0], and_(table.c.file_id == after[0], table.c.row > after[1])))
                .order_by(table.c.file_id, table.c.row).limit(batch_size)).all()
            values = []
            for file_id, row, blob in rows:
                sealed = _reseal(cipher, blob, *voter_record_id(file_id, row))
                if sealed is not None:
                    values.append({"b_file": file_id, "b_row": row, "b_blob": sealed})
            if values:
                s.execute(reseal, values)
                changed += len(values)
        if len(rows) < batch_size:
            return changed
        after = (rows[-1][0], rows[-1][1])


def rotate_data(db: Database, keys: ServerKeys, *, batch_size: int = 200, grace_seconds: float = 3.0,
                max_passes: int = 5, sleep: Callable[[float], None] = time.sleep,
                actor: str = "cli") -> DataRotationReport:
    """Add a data key, re-encrypt everything under it while the server keeps serving, then
    drop the older random keys. ``grace_seconds`` must exceed ServerCipher.ttl (1 s) plus the
    longest single-entry transaction, so no process still seals under an old key afterwards."""
    key_id = _add_data_key(db, keys, actor)
    sleep(grace_seconds)
    cipher = data_cipher(db, keys)
    if cipher.current != key_id:
        raise AdminError("another rotation added a newer data key; run it again")
    total, passes = 0, 0
    for passes in range(1, max_passes + 1):  # noqa: B007 - passes is reported
        changed = _reencrypt_entries(db, cipher, batch_size) + _reencrypt_import_jobs(db, cipher, batch_size)
        changed += _reencrypt_withdrawals(db, cipher, batch_size)
        # Voter files are large and one seal per voter: bigger slices, still short transactions.
        changed += _reencrypt_voter_records(db, cipher, batch_size * 10)
        total += changed
        if changed == 0:
            break
        sleep(min(grace_seconds, 1.0))
    else:
        raise AdminError("blobs under older keys keep appearing; old keys kept, run again")
    with db.write() as s:
        retired = list(s.scalars(select(DataKey.id).where(DataKey.id < key_id)))
        s.execute(delete(DataKey).where(DataKey.id < key_id))
        audit(s, actor, "keys.retire_data", ",".join(map(str, retired)) or "-")
    log.info("data key %d in use: %d fields re-encrypted in %d passes", key_id, total, passes)
    return DataRotationReport(key_id, total, passes, retired)


# --------------------------------------------------------------------------------------------
# Index key rotation


class StaleIndexKey(Exception):
    """The campaign's index key changed after this request loaded it: load it and decide again."""


def index_reset_name(campaign_id: str) -> str:
    return f"index-reset:{campaign_id}"


def _rotation_lock(campaign_id: str) -> int:
    return dedup.lock_id(campaign_id, "\x00index-key-rotation")


def guard_index_key(session: Session, campaign_id: str, key_id: int) -> None:
    """Inside a write transaction that will claim keys: wait out a running rotation (PG) and
    refuse a stale key id. On SQLite, BEGIN IMMEDIATE already serializes the two."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": _rotation_lock(campaign_id)})
    current = session.scalar(select(Campaign.index_key_id).where(Campaign.id == campaign_id))
    if current != key_id:
        raise StaleIndexKey()


@dataclass(frozen=True)
class IndexRotationReport:
    campaign_id: str
    key_id: int
    entries: int
    index_keys: int
    reset_floor: int


def _set_counter(s: Session, name: str, value: int) -> None:
    ins = (pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert)(Counter)
    s.execute(ins.values(name=name, value=value).on_conflict_do_update(
        index_elements=[Counter.name], set_={"value": value}))


def rotate_index(db: Database, keys: ServerKeys, campaign_id: str, *,
                 actor: str = "cli") -> IndexRotationReport:
    cipher = data_cipher(db, keys)
    wrap = wrapping_key(keys)
    with db.write() as s:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _rotation_lock(campaign_id)})
        campaign = s.get(Campaign, campaign_id, with_for_update=True)
        if campaign is None:
            raise AdminError("unknown campaign")
        key_id = campaign.index_key_id + 1
        index_key = new_key()
        counted = list(s.scalars(select(Entry).where(Entry.campaign_id == campaign_id,
                                                     Entry.counted.is_(True)).order_by(Entry.received_at,
                                                                                       Entry.id)))
        claims = []
        for entry in counted:
            fields = dedup.decrypt_fields(cipher, entry)
            claims.append((entry.id, matching_keys(index_key, fields), blocking_keys(index_key, fields)))
        for model in (SignerKey, BlockKey, IndexKey):
            s.execute(delete(model).where(model.campaign_id == campaign_id))
        floor = s.scalar(select(Counter.value).where(
            Counter.name == dedup.index_counter_name(campaign_id))) or 0
        # One bulk claim in entry order: the feed gets the same versions as a claim per entry
        # would give it. No key locks: every other claim waits on the rotation lock taken
        # above (guard_index_key; SQLite serializes write transactions whole).
        signer = [(k, entry_id) for entry_id, mkeys, _ in claims for k in mkeys]
        dedup.claim_many(s, campaign_id, signer,
                         [(b, entry_id) for entry_id, _, blocks in claims for b in blocks],
                         [k for k, _ in signer])
        total = len(signer)
        _set_counter(s, index_reset_name(campaign_id), floor)
        campaign.index_key_wrapped = wrap_key(wrap, index_key, label=index_key_label(campaign_id, key_id))
        campaign.index_key_id = key_id
        audit(s, actor, "keys.rotate_index", campaign_id, str(key_id))
    log.info("campaign index key %d in use: %d entries, %d keys", key_id, len(claims), total)
    return IndexRotationReport(campaign_id, key_id, len(claims), total, floor)
