"""Tables of the device store and the SQLite engine that holds them.

Everything here is clear metadata except the BLOB columns named after personal fields,
which hold FieldCipher ciphertexts (see codec.py). Times are ISO-8601 UTC strings with
microseconds (fixed width, so string order is time order) except the PIN failure time,
which is an epoch float because it is only ever compared with the clock.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    BLOB,
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import URL
from sqlalchemy.pool import StaticPool

from sync.domain import PERSONAL_FIELDS

# 2: purged_lines.captured_at; 3: no index_keys table (upgrade_schema brings older stores up)
SCHEMA_VERSION = 3

metadata = MetaData()

# One row (id = 1): how the data key is protected, and the wrong-PIN counter. Clear on purpose:
# the salt and KDF parameters are needed before any key exists, and the failure count must
# survive an app restart so restarting does not reset the delay.
keyring = Table(
    "keyring", metadata,
    Column("id", Integer, primary_key=True),
    Column("salt", BLOB, nullable=False),
    Column("kdf_memory_kib", Integer, nullable=False),
    Column("kdf_time_cost", Integer, nullable=False),
    Column("kdf_parallelism", Integer, nullable=False),
    Column("wrapped_key", BLOB),  # NULL once wiped
    Column("key_id", Integer, nullable=False),
    Column("failures", Integer, nullable=False, default=0),
    Column("last_failure_at", Float),  # epoch seconds of the last wrong PIN
    Column("wiped", Integer, nullable=False, default=0),
)

# Integer counters kept beside the data they describe, so they commit in the same transaction:
# schema_version, last_device_seq, outcomes_cursor.
state = Table(
    "state", metadata,
    Column("name", String, primary_key=True),
    Column("value", Integer, nullable=False),
)

settings = Table(
    "settings", metadata,
    Column("name", String, primary_key=True),
    Column("value", Text, nullable=False),  # JSON
)

secrets = Table(
    "secrets", metadata,
    Column("name", String, primary_key=True),
    Column("value", BLOB, nullable=False),  # FieldCipher blob, AAD = ("secret:" + name, "value")
)

sections = Table(
    "sections", metadata,
    Column("serial", String, primary_key=True),
    Column("circulator", String, nullable=False),
    Column("opened_at", String, nullable=False),
    Column("closed_at", String),
    Column("dates_gathered", String, nullable=False, default=""),
    Column("place_signed", String, nullable=False, default=""),
)

entries = Table(
    "entries", metadata,
    Column("entry_id", String, primary_key=True),
    Column("device_id", String, nullable=False),
    Column("device_seq", Integer, nullable=False, unique=True),
    Column("section", String, nullable=False, index=True),
    Column("line", Integer, nullable=False),
    Column("captured_at", String, nullable=False),
    Column("supersedes", String),
    Column("superseded_by", String),
    Column("status", String, nullable=False, default="pending"),
    Column("duplicate_of", String),
    Column("candidate_of", String),
    Column("reason_code", Integer),
    Column("registration", String, nullable=False, default="unknown"),
    Column("acknowledged_at", String),
    Column("saved_at", String, nullable=False),
    *(Column(name, BLOB, nullable=False) for name in PERSONAL_FIELDS),
)

# Lines of purged entries: purging drops the entry but the paper line stays used, so neither
# next_line nor the line check may hand it out again, and the counts a circulator sees (today,
# this section) still count it. Its capture time is kept for "today"; nothing personal.
purged_lines = Table(
    "purged_lines", metadata,
    Column("section", String, primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("captured_at", String),
    sqlite_with_rowid=False,
)


def upgrade_schema(conn, version: int) -> int:
    """Bring a store of an older schema version up to SCHEMA_VERSION (inside the caller's
    transaction); returns the version now. Unknown versions are left for the caller to refuse."""
    if version == 1:
        conn.exec_driver_sql("ALTER TABLE purged_lines ADD COLUMN captured_at TEXT")
        version = 2
    if version == 2:
        # The campaign's exact dedup index, pulled before the door-step filter replaced it
        # (issue 15): every counted signer's matching keys, which nothing reads any more.
        conn.exec_driver_sql("DROP TABLE IF EXISTS index_keys")
        conn.exec_driver_sql("DELETE FROM state WHERE name = 'index_version'")
        version = 3
    return version

# Blind matching keys of this device's own entries (16-byte BLOBs from the caller's hex).
local_keys = Table(
    "local_keys", metadata,
    Column("key", BLOB, primary_key=True),
    Column("entry_id", String, primary_key=True, index=True),
    sqlite_with_rowid=False,
)

# Entries not yet answered by the server. batch_id is set once the entry is in a batch.
outbox = Table(
    "outbox", metadata,
    Column("entry_id", String, primary_key=True),
    Column("device_seq", Integer, nullable=False, unique=True),
    Column("batch_id", String, index=True),
)

batches = Table(
    "batches", metadata,
    Column("batch_id", String, primary_key=True),
    Column("created_at", String, nullable=False),
    Column("closed_at", String),
)

# Membership and order of a batch, so an unanswered batch is resent byte-for-byte the same.
batch_members = Table(
    "batch_members", metadata,
    Column("batch_id", String, primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("entry_id", String, nullable=False, index=True),
    sqlite_with_rowid=False,
)


def make_engine(path: Path) -> Engine:
    """One engine with exactly one connection (StaticPool) per store; callers serialize access
    with their own lock, so the connection may be shared between threads."""
    url = URL.create("sqlite", database=str(path))
    engine = create_engine(
        url,
        poolclass=StaticPool,
        connect_args={"check_same_thread": False, "timeout": 30},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Take transaction control away from the sqlite3 module so BEGIN below is ours.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        try:
            # WAL + synchronous=FULL: a commit is on disk (WAL fsynced) when it returns, which
            # is what lets the UI say "saved".
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            # Freed pages are zeroed, so purged or wiped ciphertexts do not linger in the file.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # IMMEDIATE takes the write lock up front: read-then-write (device_seq = last + 1)
        # cannot race another writer, and no deadlock-on-upgrade between processes.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
