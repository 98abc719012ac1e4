"""The server's background work, started and stopped with the app (its lifespan):

- the durable-job worker (jobs.py), in every process: each replica claims queued jobs and
  resumes those whose process died;
- the dashboard rollup refresher, in one process at a time: the one holding a PostgreSQL
  session advisory lock (``pg_try_advisory_lock``); the others try again each period, so when
  the holder dies (its connection closes, the lock goes with it) another takes over. On
  SQLite (one machine) every process refreshes; BEGIN IMMEDIATE serializes them.

Shutdown (SIGTERM): uvicorn stops accepting, lets in-flight requests (a batch being stored)
finish, then runs the lifespan's end: the refresher stops, the job worker stops claiming and
gives its running job back to the queue so another replica resumes it at once.
"""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager

from sqlalchemy import func, select, text

from sync.server import dashboard as q
from sync.server.models import Campaign

log = logging.getLogger("canvass.server")

LEADER_LOCK = "canvass-dashboard-rollup-leader"


class RollupRefresher:
    def __init__(self, svc, period: float) -> None:
        self.svc, self.period = svc, period
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock_conn = None
        self.leader = False

    def start(self) -> None:
        if self.period > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="canvass-rollup", daemon=True)
            self._thread.start()

    def _hold_lock(self) -> bool:
        if self.svc.db.sqlite:
            return True
        if self._lock_conn is None:
            conn = self.svc.db.engine.connect()
            got = conn.execute(select(func.pg_try_advisory_lock(func.hashtext(LEADER_LOCK)))).scalar()
            conn.commit()  # the session lock outlives the transaction; the connection stays idle
            if not got:
                conn.close()
                return False
            self._lock_conn = conn
        else:
            self._lock_conn.execute(text("SELECT 1"))  # still ours: the connection is alive
            self._lock_conn.commit()
        return True

    def _drop_lock(self) -> None:
        if self._lock_conn is not None:
            try:
                self._lock_conn.close()  # closing the session releases its advisory locks
            except Exception:  # noqa: BLE001
                pass
            self._lock_conn = None

    def refresh_all(self) -> int:
        with self.svc.db.read() as s:
            ids = list(s.scalars(select(Campaign.id)))
        for cid in ids:
            with self.svc.db.read() as s:
                info = q.campaign_info(s, cid, timezone=self.svc.settings.timezone)
            if info is not None:
                q.refresh_rollup(self.svc.db, info)
        return len(ids)

    def _loop(self) -> None:
        while not self._stop.wait(self.period):
            try:
                self.leader = self._hold_lock()
                if self.leader:
                    self.refresh_all()
            except Exception as exc:  # noqa: BLE001 - the database is away: next period
                log.warning("dashboard rollup refresh failed: %s", type(exc).__name__)
                self._drop_lock()
                self.leader = False

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        self._drop_lock()


def start(app) -> None:
    svc = app.state.services
    svc.jobs.start()
    app.state.rollup = RollupRefresher(svc, svc.settings.rollup_seconds)
    app.state.rollup.start()


def stop(app) -> None:
    svc = app.state.services
    app.state.stopping = True  # /readyz answers 503 from here on
    rollup = getattr(app.state, "rollup", None)
    if rollup is not None:
        rollup.stop()
    svc.jobs.stop(timeout=1.0)


@asynccontextmanager
async def lifespan(app):
    start(app)
    try:
        yield
    finally:
        stop(app)
