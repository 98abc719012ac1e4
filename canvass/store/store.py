"""DeviceStore: the device's encrypted SQLite store (entries, outbox, feeds, secrets).

Why one long module: it is the one class every store operation goes through, each method one
transaction under the store's lock and connection; what has a job of its own is beside it
(schema.py, codec.py, keyring.py, outbox.py, profile.py).

One engine with one connection per store, guarded by a re-entrant lock so the UI thread and
a background sync thread can share it. Every write is one IMMEDIATE transaction, committed
in WAL mode with synchronous=FULL: when a method returns, its change is on disk.

Decisions (see also the package docstring):
- Everything except exists/open/unlock/lock/close/change_pin/get_setting needs the store
  unlocked (StoreLocked). get_setting works locked because settings are clear, non-personal
  values the lock screen may need (campaign name, language, idle lock).
- A correction (``supersedes`` set) may target a closed section, but only on the very line of
  the entry it corrects: the paper line exists, only its transcription is fixed.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, and_, func, inspect, not_, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError

from sync.crypto import FieldCipher
from sync.domain import Section, SignerEntry
from sync.files import create_private_file
from sync.protocol import FINAL_STATUSES, EntryResult, EntryStatus, Outcome

from . import codec, keyring, outbox, schema
from .errors import (
    LineAlreadyUsed,
    NotFound,
    PinDelay,
    SectionClosed,
    StoreError,
    StoreLocked,
    StoreWiped,
    UnknownSection,
    WrongPin,
)
from .keyring import KdfParams
from .models import PENDING, OutboxBatch, StoredEntry

E, S, OX = schema.entries, schema.sections, schema.outbox
_CHUNK = 500  # keys per IN (...) query, well under SQLite's variable limit
_FINAL = tuple(s.value for s in FINAL_STATUSES)
# Entries that are not signatures: they never count as a local match.
_NOT_SIGNATURES = (EntryStatus.REJECTED.value, EntryStatus.CONFLICT.value)


class DeviceStore:
    def __init__(self, path: Path, engine, *, clock: Callable[[], float]) -> None:
        self.path = Path(path)
        self._engine = engine
        self._clock = clock
        self._lock = threading.RLock()
        self._cipher: FieldCipher | None = None
        self._closed = False
        self._doorstep: tuple[str, Any] | None = None  # (tag, loaded DoorstepFilter), while unlocked

    # ----------------------------------------------------------------------------------------
    # Lifecycle

    @staticmethod
    def exists(path: Path) -> bool:
        """True when ``path`` is a device store (a file with a keyring), without changing it."""
        path = Path(path)
        if not path.is_file():
            return False
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                return conn.execute("SELECT 1 FROM keyring WHERE id = 1").fetchone() is not None
            finally:
                conn.close()
        except sqlite3.Error:
            return False

    @classmethod
    def create(cls, path: Path, pin: str, *, kdf: KdfParams | None = None,
               clock: Callable[[], float] = time.time) -> DeviceStore:
        """A new, unlocked store. Refuses to overwrite an existing store."""
        path = Path(path)
        keyring.check_pin_strength(pin)
        if cls.exists(path):
            raise StoreError("a store already exists at this path")
        create_private_file(path)  # 0600 before SQLite opens it (its WAL/SHM follow the mode)
        store = cls(path, _engine_or_error(path), clock=clock)
        try:
            # Tables, keyring and counters in one transaction: a crash leaves no half store.
            with store._engine.begin() as conn:
                schema.metadata.create_all(conn)
                data_key = keyring.create_row(conn, pin, kdf or KdfParams())
                for name in ("last_device_seq", "outcomes_cursor"):
                    _set_state(conn, name, 0)
                _set_state(conn, "schema_version", schema.SCHEMA_VERSION)
        except BaseException:
            store._engine.dispose()
            raise
        store._cipher = FieldCipher(data_key, current=keyring.DATA_KEY_ID)
        return store

    @classmethod
    def open(cls, path: Path, *, clock: Callable[[], float] = time.time) -> DeviceStore:
        """An existing store, locked."""
        path = Path(path)
        if not path.is_file():
            raise StoreError("no store at this path")
        store = cls(path, _engine_or_error(path), clock=clock)
        try:
            with store._engine.begin() as conn:
                if not inspect(conn).has_table("keyring") or keyring.load_row(conn) is None:
                    raise StoreError("not a device store")
                stored = version = _get_state(conn, "schema_version")
                if version < schema.SCHEMA_VERSION:
                    version = schema.upgrade_schema(conn, version)
                    _set_state(conn, "schema_version", version)
                if version != schema.SCHEMA_VERSION:
                    raise StoreError("unsupported store schema version")
        except DBAPIError:
            store._engine.dispose()
            raise StoreError("not a device store") from None
        except BaseException:
            store._engine.dispose()
            raise
        if stored < 3:
            # The upgrade dropped the old index's keys (secure_delete zeroed its pages); the
            # checkpoint drops the WAL's copies of them.
            store._compact(vacuum=False)
        return store

    def close(self) -> None:
        with self._lock:
            self._cipher = None
            self._doorstep = None
            if not self._closed:
                self._closed = True
                self._engine.dispose()

    def __enter__(self) -> DeviceStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ----------------------------------------------------------------------------------------
    # Locking

    @property
    def is_unlocked(self) -> bool:
        return self._cipher is not None

    def lock(self) -> None:
        # Python cannot scrub memory; dropping the only references is the best available.
        self._cipher = None
        self._doorstep = None

    def unlock(self, pin: str) -> None:
        with self._lock:
            data_key = self._verify_pin(pin)
            self._cipher = FieldCipher(data_key, current=keyring.DATA_KEY_ID)

    def change_pin(self, old: str, new: str) -> None:
        """Re-wrap the data key under ``new``; the data is not re-encrypted. Leaves the store
        unlocked (the old PIN was just proven)."""
        with self._lock:
            keyring.check_pin_strength(new)  # before the attempt, so a weak choice costs none
            data_key = self._verify_pin(old)
            with self._tx() as conn:
                row = keyring.load_row(conn)
                keyring.rewrap(conn, data_key, new, row.params)
            self._cipher = FieldCipher(data_key, current=keyring.DATA_KEY_ID)

    def _verify_pin(self, pin: str) -> bytes:
        """The data key, or WrongPin / PinDelay / StoreWiped. Failures are counted on disk."""
        now = self._clock()
        with self._tx() as conn:
            row = keyring.load_row(conn)
            if row.wiped:
                raise StoreWiped()
            delay = keyring.remaining_delay(conn, row, now)
        if delay > 0:
            raise PinDelay(delay)  # the KDF is not even tried
        # The KDF runs outside any transaction: it is slow and needs no database lock.
        data_key = keyring.try_unwrap(row, str(pin))
        wiped = False
        with self._tx() as conn:
            if data_key is not None:
                keyring.reset_failures(conn)
                return data_key
            failures = keyring.record_failure(conn, keyring.load_row(conn), now)
            limit = _pin_limit(conn)
            if limit > 0 and failures >= limit:
                _wipe(conn)
                wiped = True
        if wiped:
            self._cipher = None
            self._compact(vacuum=True)
            raise StoreWiped()
        raise WrongPin(keyring.required_wait(failures))

    # ----------------------------------------------------------------------------------------
    # Transactions

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self._lock:
            if self._closed:
                raise StoreError("the store is closed")
            with self._engine.begin() as conn:
                yield conn

    @contextmanager
    def _unlocked_tx(self) -> Iterator[tuple[Connection, FieldCipher]]:
        with self._lock:
            cipher = self._cipher
            if cipher is None:
                raise StoreLocked()
            with self._tx() as conn:
                yield conn, cipher

    def _now(self) -> datetime:
        return codec.epoch_to_datetime(self._clock())

    def _compact(self, *, vacuum: bool) -> None:
        """Push the WAL into the main file and truncate it, optionally rebuilding the file, so
        removed ciphertexts leave no copies behind. Runs outside any transaction."""
        with self._lock:
            raw = self._engine.raw_connection()
            try:
                driver = raw.driver_connection
                if vacuum:
                    driver.execute("VACUUM")
                driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                raw.close()

    # ----------------------------------------------------------------------------------------
    # Secrets and settings

    def set_secret(self, name: str, value: str) -> None:
        with self._unlocked_tx() as (conn, cipher):
            blob = cipher.encrypt(value, record_id=_secret_record(name), field="value")
            conn.execute(sqlite_insert(schema.secrets).values(name=name, value=blob)
                         .on_conflict_do_update(index_elements=["name"], set_={"value": blob}))

    def get_secret(self, name: str) -> str | None:
        with self._unlocked_tx() as (conn, cipher):
            blob = conn.execute(select(schema.secrets.c.value)
                                .where(schema.secrets.c.name == name)).scalar()
        if blob is None:
            return None
        return cipher.decrypt(blob, record_id=_secret_record(name), field="value")

    def set_setting(self, name: str, value: Any) -> None:
        text = json.dumps(value)
        with self._unlocked_tx() as (conn, _):
            conn.execute(sqlite_insert(schema.settings).values(name=name, value=text)
                         .on_conflict_do_update(index_elements=["name"], set_={"value": text}))

    def get_setting(self, name: str, default: Any = None) -> Any:
        with self._tx() as conn:
            return _get_setting(conn, name, default)

    # ----------------------------------------------------------------------------------------
    # Sections

    def open_section(self, serial: str, circulator: str) -> Section:
        """Open a section (or return it if already open). A closed section stays closed."""
        if not isinstance(serial, str) or not serial.strip():
            raise StoreError("a section needs a serial")
        with self._unlocked_tx() as (conn, _):
            row = _section_row(conn, serial)
            if row is None:
                conn.execute(S.insert().values(serial=serial, circulator=circulator,
                                               opened_at=codec.iso(self._now()), closed_at=None,
                                               dates_gathered="", place_signed=""))
                row = _section_row(conn, serial)
            elif row["closed_at"] is not None:
                raise SectionClosed("the section is closed")
            return _section(conn, row)

    def get_section(self, serial: str) -> Section | None:
        with self._unlocked_tx() as (conn, _):
            row = _section_row(conn, serial)
            return None if row is None else _section(conn, row)

    def list_sections(self) -> list[Section]:
        with self._unlocked_tx() as (conn, _):
            rows = conn.execute(select(S).order_by(S.c.opened_at, S.c.serial)).mappings().all()
            return [_section(conn, r) for r in rows]

    def close_section(self, serial: str, *, dates_gathered: str, place_signed: str) -> Section:
        with self._unlocked_tx() as (conn, _):
            row = _section_row(conn, serial)
            if row is None:
                raise UnknownSection("no such section")
            if row["closed_at"] is not None:
                raise SectionClosed("the section is already closed")
            conn.execute(update(S).where(S.c.serial == serial).values(
                closed_at=codec.iso(self._now()), dates_gathered=dates_gathered,
                place_signed=place_signed))
            return _section(conn, _section_row(conn, serial))

    def next_line(self, serial: str) -> int:
        with self._unlocked_tx() as (conn, _):
            if _section_row(conn, serial) is None:
                raise UnknownSection("no such section")
            return _lines_used(conn, serial) + 1

    # ----------------------------------------------------------------------------------------
    # Entries

    def save_entry(self, entry: SignerEntry, match_keys: Sequence[str] = ()) -> SignerEntry:
        """Save a new entry with its matching keys and outbox row in one durable transaction.
        Returns the entry as saved (device_id and device_seq assigned)."""
        blobs = codec.key_blobs(match_keys)  # validate before taking any lock
        if not isinstance(entry.line, int) or entry.line < 1:
            raise StoreError("line numbers start at 1")
        with self._unlocked_tx() as (conn, cipher):
            if conn.execute(select(E.c.entry_id).where(E.c.entry_id == entry.entry_id)).first():
                raise StoreError("an entry with this id is already saved")
            section = _section_row(conn, entry.section)
            if section is None:
                raise UnknownSection("no such section")
            corrected = self._check_correction(conn, entry)
            if section["closed_at"] is not None:
                same_line = corrected is not None and (corrected["section"], corrected["line"]) == (
                    entry.section, entry.line)
                if not same_line:
                    raise SectionClosed("the section is closed")
            self._check_line_free(conn, entry)

            seq = _get_state(conn, "last_device_seq") + 1
            device_id = _get_setting(conn, "device_id", "") or ""
            saved = replace(entry, device_seq=seq, device_id=str(device_id),
                            captured_at=codec.parse_iso(codec.iso(entry.captured_at)))
            _check_wire_shape(saved)
            conn.execute(E.insert().values(
                entry_id=saved.entry_id, device_id=saved.device_id, device_seq=seq,
                section=saved.section, line=saved.line, captured_at=codec.iso(saved.captured_at),
                supersedes=saved.supersedes, superseded_by=None, status=PENDING,
                registration="unknown", saved_at=codec.iso(self._now()),
                **codec.seal_entry(cipher, saved),
            ))
            if corrected is not None:
                conn.execute(update(E).where(E.c.entry_id == saved.supersedes)
                             .values(superseded_by=saved.entry_id))
            if blobs:
                conn.execute(schema.local_keys.insert(),
                             [{"key": b, "entry_id": saved.entry_id} for b in blobs])
            conn.execute(OX.insert().values(entry_id=saved.entry_id, device_seq=seq, batch_id=None))
            _set_state(conn, "last_device_seq", seq)
        return saved

    @staticmethod
    def _check_correction(conn: Connection, entry: SignerEntry):
        if entry.supersedes is None:
            return None
        corrected = conn.execute(select(E.c.entry_id, E.c.section, E.c.line, E.c.superseded_by)
                                 .where(E.c.entry_id == entry.supersedes)).mappings().first()
        if corrected is None:
            raise NotFound("the corrected entry is not on this device")
        if corrected["superseded_by"] is not None:
            raise StoreError("that entry was already corrected; correct the newest version")
        return corrected

    @staticmethod
    def _check_line_free(conn: Connection, entry: SignerEntry) -> None:
        holder = select(E.c.entry_id).where(
            E.c.section == entry.section, E.c.line == entry.line, E.c.superseded_by.is_(None))
        if entry.supersedes is not None:
            holder = holder.where(E.c.entry_id != entry.supersedes)
        purged = select(schema.purged_lines.c.line).where(
            schema.purged_lines.c.section == entry.section, schema.purged_lines.c.line == entry.line)
        if conn.execute(holder).first() or conn.execute(purged).first():
            raise LineAlreadyUsed("this section line is already used")

    def get_entry(self, entry_id: str) -> StoredEntry:
        with self._unlocked_tx() as (conn, cipher):
            row = conn.execute(select(E).where(E.c.entry_id == entry_id)).mappings().first()
        if row is None:
            raise NotFound("no such entry")
        return _stored(cipher, row)

    def entries(self, *, section: str | None = None, limit: int | None = None) -> list[StoredEntry]:
        """Stored entries, newest first (superseded ones included; see superseded_by)."""
        query = select(E).order_by(E.c.device_seq.desc())
        if section is not None:
            query = query.where(E.c.section == section)
        if limit is not None:
            query = query.limit(limit)
        with self._unlocked_tx() as (conn, cipher):
            rows = conn.execute(query).mappings().all()
        return [_stored(cipher, r) for r in rows]

    def count_entries(self, *, section: str | None = None, since: datetime | None = None,
                      include_superseded: bool = False) -> int:
        query = select(func.count()).select_from(E)
        if section is not None:
            query = query.where(E.c.section == section)
        if since is not None:
            query = query.where(E.c.captured_at >= codec.iso(since))
        if not include_superseded:
            query = query.where(E.c.superseded_by.is_(None))
        # A purged line was a live, counted line: it still counts (its capture time is kept).
        P = schema.purged_lines
        purged = select(func.count()).select_from(P)
        if section is not None:
            purged = purged.where(P.c.section == section)
        if since is not None:
            purged = purged.where(P.c.captured_at >= codec.iso(since))
        with self._unlocked_tx() as (conn, _):
            return conn.execute(query).scalar_one() + conn.execute(purged).scalar_one()

    def purged_lines(self, section: str) -> list[int]:
        """Line numbers of ``section`` whose entries were purged (retention), ascending."""
        P = schema.purged_lines
        with self._unlocked_tx() as (conn, _):
            return list(conn.execute(select(P.c.line).where(P.c.section == section)
                                     .order_by(P.c.line)).scalars())

    # ----------------------------------------------------------------------------------------
    # Outbox

    def pending_count(self) -> int:
        with self._unlocked_tx() as (conn, _):
            return outbox.pending_count(conn)

    def last_device_seq(self) -> int:
        with self._unlocked_tx() as (conn, _):
            return _get_state(conn, "last_device_seq")

    def next_batch(self, *, max_entries: int = 500, max_bytes: int = 1_000_000) -> OutboxBatch | None:
        with self._unlocked_tx() as (conn, cipher):
            batch = outbox.open_batch(conn, cipher)
            if batch is not None:
                return batch
            return outbox.form_batch(conn, cipher, max_entries=max_entries, max_bytes=max_bytes,
                                     now_iso=codec.iso(self._now()))

    def apply_batch_results(self, batch_id: str, results: Sequence[EntryResult]) -> None:
        with self._unlocked_tx() as (conn, _):
            outbox.apply_results(conn, batch_id, results, codec.iso(self._now()))

    # ----------------------------------------------------------------------------------------
    # Feeds

    def apply_outcomes(self, outcomes: Sequence[Outcome], cursor: int) -> None:
        with self._unlocked_tx() as (conn, _):
            for outcome in outcomes:
                conn.execute(update(E).where(E.c.entry_id == outcome.entry_id).values(
                    status=EntryStatus(outcome.status).value, duplicate_of=outcome.duplicate_of,
                    candidate_of=outcome.candidate_of, reason_code=outcome.reason_code,
                    registration=str(outcome.registration.value),
                ))  # unknown (e.g. purged) entry ids update nothing
            _set_state(conn, "outcomes_cursor", int(cursor))

    def outcomes_cursor(self) -> int:
        with self._unlocked_tx() as (conn, _):
            return _get_state(conn, "outcomes_cursor")

    # ----------------------------------------------------------------------------------------
    # The door-step filter (issue 15): one encrypted blob instead of key rows

    def set_doorstep_filter(self, blob: bytes | None, *, key: bytes | None, tag: str, scope: str) -> None:
        """Replace the offline door-step filter (sync.keyfilter blob) and its door-step key, in
        one transaction; ``blob=None`` drops it (scope "none")."""
        with self._unlocked_tx() as (conn, cipher):
            for name, value in ((_DOORSTEP_BLOB, blob), (_DOORSTEP_KEY, key)):
                if value is None:
                    conn.execute(schema.secrets.delete().where(schema.secrets.c.name == name))
                    continue
                sealed = cipher.encrypt_bytes(value, record_id=_secret_record(name), field="value")
                conn.execute(sqlite_insert(schema.secrets).values(name=name, value=sealed)
                             .on_conflict_do_update(index_elements=["name"], set_={"value": sealed}))
            for name, value in (("doorstep_tag", tag), ("doorstep_scope", scope)):
                text = json.dumps(value)
                conn.execute(sqlite_insert(schema.settings).values(name=name, value=text)
                             .on_conflict_do_update(index_elements=["name"], set_={"value": text}))
        self._doorstep = None

    def doorstep_filter(self) -> Any:
        """The held filter as a sync.doorstep_offline.DoorstepFilter (loaded once per unlock), or None."""
        tag = self.get_setting("doorstep_tag")
        cached = self._doorstep
        if cached is not None and cached[0] == tag and self.is_unlocked:
            return cached[1]
        with self._unlocked_tx() as (conn, cipher):
            sealed = dict(conn.execute(select(schema.secrets.c.name, schema.secrets.c.value).where(
                schema.secrets.c.name.in_((_DOORSTEP_BLOB, _DOORSTEP_KEY)))).all())
            if len(sealed) != 2:
                return None
            blob, key = (cipher.decrypt_bytes(sealed[n], record_id=_secret_record(n), field="value")
                         for n in (_DOORSTEP_BLOB, _DOORSTEP_KEY))
        from sync.doorstep_offline import DoorstepFilter

        loaded = DoorstepFilter(key, blob)
        self._doorstep = (tag, loaded)
        return loaded

    def find_local_match(self, keys: Iterable[str], *,
                         exclude_entry_id: str | None = None) -> str | None:
        """The oldest live local entry (not superseded, not rejected) sharing a key."""
        blobs = codec.key_blobs(keys)
        lk = schema.local_keys
        with self._unlocked_tx() as (conn, _):
            for start in range(0, len(blobs), _CHUNK):
                query = (select(E.c.entry_id).join(lk, lk.c.entry_id == E.c.entry_id)
                         .where(lk.c.key.in_(blobs[start:start + _CHUNK]),
                                E.c.superseded_by.is_(None), E.c.status.not_in(_NOT_SIGNATURES))
                         .order_by(E.c.device_seq).limit(1))
                if exclude_entry_id is not None:
                    query = query.where(E.c.entry_id != exclude_entry_id)
                found = conn.execute(query).scalar()
                if found is not None:
                    return found
        return None

    def rekey_local_lines(self, keys_for: Callable[[dict[str, str]], Sequence[str]], *,
                          drop_secret: str) -> int:
        """Replace every keyed entry's exact keys by ``keys_for(its personal fields)`` and
        delete the secret ``drop_secret`` (the key the old ones were made with), in one
        transaction: a store is never left with lines under two keys (sync.device_keys)."""
        lk = schema.local_keys
        with self._unlocked_tx() as (conn, cipher):
            keyed = select(lk.c.entry_id).distinct()
            rows = conn.execute(select(E).where(E.c.entry_id.in_(keyed))).mappings().all()
            fresh = []
            for row in rows:
                entry = codec.open_entry(cipher, row)
                fresh += [{"key": b, "entry_id": entry.entry_id}
                          for b in codec.key_blobs(keys_for(entry.personal()))]
            conn.execute(lk.delete())
            if fresh:
                conn.execute(lk.insert(), fresh)
            conn.execute(schema.secrets.delete().where(schema.secrets.c.name == drop_secret))
        return len(rows)

    # ----------------------------------------------------------------------------------------
    # Purging

    def purge_acknowledged(self, older_than: timedelta, *, now: datetime | None = None) -> int:
        """Delete entries the server answered more than ``older_than`` ago, with their keys.
        Never touches an entry still in the outbox or in a batch awaiting its answer."""
        cutoff = codec.iso((now or self._now()) - older_than)
        bm, b = schema.batch_members, schema.batches
        in_open_batch = select(bm.c.entry_id).join(b, b.c.batch_id == bm.c.batch_id).where(
            b.c.closed_at.is_(None))
        condition = and_(
            E.c.status.in_(_FINAL), E.c.acknowledged_at.is_not(None), E.c.acknowledged_at < cutoff,
            not_(E.c.entry_id.in_(select(OX.c.entry_id))), not_(E.c.entry_id.in_(in_open_batch)),
        )
        with self._unlocked_tx() as (conn, _):
            doomed = conn.execute(select(E.c.entry_id, E.c.section, E.c.line, E.c.superseded_by,
                                         E.c.captured_at).where(condition)).mappings().all()
            if not doomed:
                return 0
            ids = [r["entry_id"] for r in doomed]
            live_lines = {(r["section"], r["line"]): r["captured_at"] for r in doomed
                          if r["superseded_by"] is None}
            if live_lines:
                conn.execute(sqlite_insert(schema.purged_lines).on_conflict_do_nothing(),
                             [{"section": s, "line": n, "captured_at": at}
                              for (s, n), at in live_lines.items()])
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start:start + _CHUNK]
                conn.execute(schema.local_keys.delete().where(schema.local_keys.c.entry_id.in_(chunk)))
                conn.execute(bm.delete().where(bm.c.entry_id.in_(chunk)))
                conn.execute(E.delete().where(E.c.entry_id.in_(chunk)))
            # Closed batches left without members are history nobody needs.
            conn.execute(b.delete().where(b.c.closed_at.is_not(None),
                                          not_(b.c.batch_id.in_(select(bm.c.batch_id)))))
        # secure_delete zeroed the freed pages; the checkpoint drops the WAL's old copies.
        self._compact(vacuum=False)
        return len(ids)

    def wipe(self) -> None:
        """Erase the store without its PIN (staff's ``canvass wipe``): the data key and every
        row that held or pointed at personal data go, the file is rebuilt and the WAL
        truncated. Afterwards the store answers StoreWiped, like after too many wrong PINs."""
        with self._lock:
            with self._tx() as conn:
                _wipe(conn)
            self._cipher = None
            self._compact(vacuum=True)


# --------------------------------------------------------------------------------------------
# Helpers (inside a transaction)


def _engine_or_error(path: Path):
    try:
        engine = schema.make_engine(path)
        with engine.connect():
            pass  # runs the connect pragmas now, so a non-database file fails here
        return engine
    except DBAPIError:
        raise StoreError("not a device store") from None


def _get_state(conn: Connection, name: str) -> int:
    value = conn.execute(select(schema.state.c.value).where(schema.state.c.name == name)).scalar()
    return 0 if value is None else int(value)


def _set_state(conn: Connection, name: str, value: int) -> None:
    conn.execute(sqlite_insert(schema.state).values(name=name, value=value)
                 .on_conflict_do_update(index_elements=["name"], set_={"value": value}))


def _get_setting(conn: Connection, name: str, default: Any = None) -> Any:
    text = conn.execute(select(schema.settings.c.value)
                        .where(schema.settings.c.name == name)).scalar()
    return default if text is None else json.loads(text)


def _int_setting(conn: Connection, name: str) -> int:
    try:
        return int(_get_setting(conn, name, 0) or 0)
    except (TypeError, ValueError):
        return 0


def _pin_limit(conn: Connection) -> int:
    """Wrong PINs before the store wipes itself: the campaign's ``pin_max_failures``
    (CampaignSettings, stored at enrollment), or the store's own setting of that name; the
    stricter when both are set. 0 = never."""
    campaign = _get_setting(conn, "campaign", {}) or {}
    try:
        from_campaign = int(campaign.get("pin_max_failures") or 0) if isinstance(campaign, dict) else 0
    except (TypeError, ValueError):
        from_campaign = 0
    limits = [n for n in (from_campaign, _int_setting(conn, "pin_max_failures")) if n > 0]
    return min(limits) if limits else 0


_DOORSTEP_BLOB = "doorstep_filter"
_DOORSTEP_KEY = "doorstep_key"


def _secret_record(name: str) -> str:
    # Its own AAD namespace, so a secret's blob can never be passed off as an entry field.
    return f"secret:{name}"


def _section_row(conn: Connection, serial: str):
    return conn.execute(select(S).where(S.c.serial == serial)).mappings().first()


def _lines_used(conn: Connection, serial: str) -> int:
    live = conn.execute(select(func.max(E.c.line)).where(
        E.c.section == serial, E.c.superseded_by.is_(None))).scalar() or 0
    purged = conn.execute(select(func.max(schema.purged_lines.c.line))
                          .where(schema.purged_lines.c.section == serial)).scalar() or 0
    return max(live, purged)


def _section(conn: Connection, row) -> Section:
    return Section(serial=row["serial"], circulator=row["circulator"],
                   opened_at=codec.parse_iso(row["opened_at"]),
                   closed_at=codec.parse_iso(row["closed_at"]),
                   lines_used=_lines_used(conn, row["serial"]),
                   dates_gathered=row["dates_gathered"], place_signed=row["place_signed"])


def _stored(cipher: FieldCipher, row) -> StoredEntry:
    return StoredEntry(
        entry=codec.open_entry(cipher, row), status=row["status"],
        duplicate_of=row["duplicate_of"], candidate_of=row["candidate_of"],
        reason_code=row["reason_code"], registration=row["registration"],
        acknowledged_at=codec.parse_iso(row["acknowledged_at"]), superseded_by=row["superseded_by"],
    )


def _check_wire_shape(entry: SignerEntry) -> None:
    """An entry the wire model refuses would block the outbox forever: refuse it now. The
    pydantic message quotes input values, so only the offending field names are reported."""
    try:
        entry.to_wire()
    except ValidationError as exc:
        names = sorted({str(err["loc"][0]) for err in exc.errors() if err.get("loc")})
        raise StoreError(f"entry does not fit the wire format: {', '.join(names)}") from None


def _wipe(conn: Connection) -> None:
    """Destroy the data key and every row that held or pointed at personal data."""
    for table in (schema.local_keys, schema.outbox, schema.batch_members, schema.batches,
                  schema.entries, schema.secrets, schema.purged_lines,
                  schema.sections):
        conn.execute(table.delete())
    keyring.destroy(conn)

