"""Durable background jobs: rows of ``jobs``, run by whichever server process claims them.

A job is queued in the database with its sealed payload (an import's file and mapping), so
any replica can run it, and a job whose process died is taken up again by another:

- claim: the oldest job that is queued, or running with an expired lease, in one write
  transaction (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two replicas never
  claim the same row and never wait on each other; SQLite's BEGIN IMMEDIATE serializes the
  claim instead);
- lease: the running process renews ``lease_until`` every LEASE/3 seconds (heartbeat); a
  SIGKILLed process stops renewing, and after LEASE seconds the job is claimable again;
- resume: a kind registered ``resumable`` runs again from the start (imports are: every row
  has a stable entry id, so rows already sent are answered already_received and nothing
  arrives twice); one that is not, or that has used MAX_ATTEMPTS, is failed visibly
  (its ``on_abandon`` marks the job's own status row failed).

Handlers register with ``register(kind, run, ...)`` from their own module, listed in
HANDLER_MODULES so a replica that never started a job of that kind can still resume one.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from sync.domain import utcnow
from sync.ids import new_uuid7
from sync.server.models import Job

log = logging.getLogger("canvass.server")

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
LEASE_SECONDS = 30.0
MAX_ATTEMPTS = 3
POLL_SECONDS = 2.0  # an idle worker looks for queued or orphaned jobs this often
HANDLER_MODULES = ("sync.server.import_jobs", "sync.server.voter_jobs")


@dataclass(frozen=True)
class Handler:
    run: Callable  # run(svc, job: Job, payload: str) -> None; raising fails the job
    resumable: bool = True
    on_abandon: Callable | None = None  # on_abandon(svc, job, reason): a job given up


HANDLERS: dict[str, Handler] = {}


def register(kind: str, run: Callable, *, resumable: bool = True,
             on_abandon: Callable | None = None) -> None:
    HANDLERS[kind] = Handler(run, resumable, on_abandon)


def load_handlers() -> None:
    for name in HANDLER_MODULES:
        importlib.import_module(name)


def _seal(svc, job_id: str, text: str) -> bytes:
    return svc.cipher.encrypt(text, record_id=job_id, field="job_payload")


def enqueue(svc, kind: str, campaign_id: str, ref_id: str, payload: str, *,
            run_here: bool = False) -> str:
    """Queue a job (its payload sealed under the data key: it may hold personal data).
    ``run_here``: the row is born claimed by this process, for ``run_now`` (no other worker
    can take it first). Returns the job id."""
    job_id, now = new_uuid7(), utcnow()
    worker = svc.jobs
    claimed = {"state": RUNNING, "owner": worker.owner, "attempts": 1,
               "lease_until": now + timedelta(seconds=worker.lease)} if run_here else {}
    with svc.db.write() as s:
        s.add(Job(**{"id": job_id, "campaign_id": campaign_id, "kind": kind, "ref_id": ref_id,
                     "state": QUEUED, "payload": _seal(svc, job_id, payload), "attempts": 0,
                     "created_at": now, "error": "", **claimed}))
    return job_id


def _claimable(now: datetime):
    return or_(Job.state == QUEUED, (Job.state == RUNNING) & (Job.lease_until < now))


def claim(svc, owner: str, *, job_id: str | None = None, lease: float = LEASE_SECONDS) -> Job | None:
    """Take the oldest claimable job (or ``job_id`` if claimable) for ``owner``."""
    now = utcnow()
    with svc.db.write() as s:
        stmt = select(Job).where(_claimable(now))
        if job_id is not None:
            stmt = stmt.where(Job.id == job_id)
        job = s.scalar(stmt.order_by(Job.created_at).limit(1).with_for_update(skip_locked=True))
        if job is None:
            return None
        job.state, job.owner = RUNNING, owner
        job.lease_until, job.attempts = now + timedelta(seconds=lease), job.attempts + 1
        s.flush()
        s.expunge(job)
        return job


def renew(svc, job_id: str, owner: str, lease: float = LEASE_SECONDS) -> bool:
    """Push the lease on; False when another process holds the job now."""
    with svc.db.write() as s:
        return bool(s.execute(update(Job).where(Job.id == job_id, Job.owner == owner,
                                                Job.state == RUNNING)
                              .values(lease_until=utcnow() + timedelta(seconds=lease))).rowcount)


def _finish(svc, job: Job, state: str, error: str = "") -> None:
    with svc.db.write() as s:
        s.execute(update(Job).where(Job.id == job.id, Job.owner == job.owner).values(
            state=state, finished_at=utcnow(), payload=None, lease_until=None, error=error[:200]))


def job_state(db, job_id: str) -> dict | None:
    """A job's state for a status command (no payload)."""
    with db.read() as s:
        job = s.get(Job, job_id)
        if job is None:
            return None
        return {"job_id": job.id, "kind": job.kind, "state": job.state, "attempts": job.attempts,
                "error": job.error, "created_at": job.created_at.isoformat(),
                "finished_at": job.finished_at.isoformat() if job.finished_at else None}


def release(svc, owner: str) -> int:
    """Give back this process's running jobs (shutdown): another replica claims them now
    instead of after the lease."""
    with svc.db.write() as s:
        return s.execute(update(Job).where(Job.owner == owner, Job.state == RUNNING)
                         .values(state=QUEUED, lease_until=None, owner=None)).rowcount or 0


def execute(svc, job: Job, *, lease: float = LEASE_SECONDS) -> str:
    """Run a claimed job here, renewing its lease meanwhile. Returns its final state."""
    handler = HANDLERS.get(job.kind)
    reason = ""
    if handler is None:
        reason = "unknown job kind"
    elif job.attempts > 1 and not handler.resumable:
        reason = "the process running it stopped; this kind of job cannot resume"
    elif job.attempts > MAX_ATTEMPTS:
        reason = f"stopped {MAX_ATTEMPTS} times"
    if reason:
        _finish(svc, job, FAILED, reason)
        if handler is not None and handler.on_abandon is not None:
            handler.on_abandon(svc, job, reason)
        return FAILED
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(lease / 3):
            try:
                if not renew(svc, job.id, job.owner, lease):
                    return
            except Exception:  # noqa: BLE001 - a lost heartbeat only lets another resume it
                log.warning("job lease renewal failed")

    beater = threading.Thread(target=beat, name=f"lease-{job.id[:8]}", daemon=True)
    beater.start()
    try:
        payload = svc.cipher.decrypt(job.payload, record_id=job.id, field="job_payload")
        handler.run(svc, job, payload)
    except Exception as exc:  # noqa: BLE001 - recorded on the job (the handler records its own)
        log.error("job %s failed: %s", job.kind, type(exc).__name__)
        _finish(svc, job, FAILED, type(exc).__name__)
        return FAILED
    finally:
        stop.set()
    _finish(svc, job, DONE)
    return DONE


def run_now(svc, job_id: str) -> str | None:
    """Run a job queued ``run_here`` in the calling thread (an import with ``wait=true``)."""
    load_handlers()
    with svc.db.read() as s:
        job = s.get(Job, job_id)
        if job is None or job.owner != svc.jobs.owner or job.state != RUNNING:
            return None
        s.expunge(job)
    return execute(svc, job, lease=svc.jobs.lease)


class JobWorker:
    """This process's worker thread: claims and runs jobs until stopped. Started by the
    app's startup (every replica resumes orphaned jobs) or by the first ``kick``."""

    def __init__(self, svc, *, lease: float = LEASE_SECONDS, poll: float = POLL_SECONDS) -> None:
        self.svc, self.lease, self.poll = svc, lease, poll
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{new_uuid7()[-8:]}"
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.busy = False

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                load_handlers()
                self._stop.clear()
                self._thread = threading.Thread(target=self._loop, name="canvass-jobs", daemon=True)
                self._thread.start()

    def kick(self) -> None:
        self.start()
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                job = claim(self.svc, self.owner, lease=self.lease)
            except Exception:  # noqa: BLE001 - the database is away: try again later
                log.warning("job claim failed")
                job = None
            if job is None:
                self._wake.wait(self.poll)
                self._wake.clear()
                continue
            self.busy = True
            try:
                execute(self.svc, job, lease=self.lease)
            finally:
                self.busy = False

    def stop(self, *, timeout: float = 0.0) -> None:
        """Stop claiming; wait up to ``timeout`` for a running job; give back what still runs."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        try:
            release(self.svc, self.owner)
        except Exception:  # noqa: BLE001 - the lease then expires on its own
            log.warning("job release failed")
