"""Engine and transactions.

SQLite: WAL journal (readers never block the writer), a busy timeout instead of instant
"database is locked" errors, foreign keys on, and ``BEGIN IMMEDIATE`` for write transactions
so two writers serialize at BEGIN rather than deadlocking on a lock upgrade mid-transaction.
PostgreSQL: READ COMMITTED plus the unique constraints and advisory locks of dedup.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from sync.files import create_private_file


def is_sqlite(engine_or_url) -> bool:
    url = engine_or_url if isinstance(engine_or_url, str) else str(engine_or_url.url)
    return url.startswith("sqlite")


def create_private_sqlite(db_url: str) -> None:
    """A SQLite database file is created 0600 (not 0644 under the usual umask): it holds the
    sealed signer data. SQLite gives its -wal and -shm files the database file's mode."""
    prefix = "sqlite:///"
    if not db_url.startswith(prefix):
        return
    path = db_url[len(prefix):].split("?", 1)[0]
    if path and path != ":memory:" and not path.startswith("file:"):
        create_private_file(path)


def make_engine(db_url: str) -> Engine:
    if is_sqlite(db_url):
        create_private_sqlite(db_url)
        # hide_parameters: an error's message and traceback never carry the SQL parameters.
        engine = create_engine(db_url, connect_args={"check_same_thread": False, "timeout": 30},
                               hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            # Let SQLAlchemy's BEGIN decide when a transaction starts (pysqlite's own
            # implicit BEGIN would defeat BEGIN IMMEDIATE).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            immediate = conn.get_execution_options().get("canvass_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(db_url, pool_pre_ping=True, pool_size=10, max_overflow=10,
                         hide_parameters=True)


class Database:
    def __init__(self, db_url: str) -> None:
        self.url = db_url
        self.engine = make_engine(db_url)
        self.sqlite = is_sqlite(db_url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Write sessions carry an option the SQLite begin hook turns into BEGIN IMMEDIATE.
        self._writers = sessionmaker(self.engine.execution_options(canvass_write=True),
                                     expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: committed on success, rolled back on any exception."""
        with self._writers() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()
