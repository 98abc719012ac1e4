"""Office imports as durable jobs (sync.server.jobs): the upload and its mapping are queued
sealed in the database, and any replica's worker runs ``sync.server.intake.imports.run_import`` on them.

An import resumes from its first row after a crash: every row's entry id is stable
(importer.stable_entry_id), so rows the dead process already sent are answered
already_received and no entry arrives twice; the job's counts then show those rows as
already received.
"""

from __future__ import annotations

import base64
import json

from sqlalchemy import update

from sync.domain import utcnow
from sync.server import jobs
from sync.server.intake.imports import run_import
from sync.server.models import ImportJob

KIND = "intake_import"


def queue_import(svc, campaign_id: str, import_id: str, data: bytes | str, name: str,
                 mapping: dict[str, int], *, run_here: bool = False) -> str:
    """Queue the import; ``run_here``: for ``jobs.run_now`` in this thread, else this
    process's worker is woken (any replica's may take it)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    payload = json.dumps({"name": name, "mapping": mapping,
                          "data": base64.b64encode(raw).decode("ascii")})
    job_id = jobs.enqueue(svc, KIND, campaign_id, import_id, payload, run_here=run_here)
    if not run_here:
        svc.jobs.kick()
    return job_id


def _run(svc, job: jobs.Job, payload: str) -> None:
    p = json.loads(payload)
    mapping = {field: int(col) for field, col in p["mapping"].items()}
    run_import(svc, job.ref_id, job.campaign_id, base64.b64decode(p["data"]), p["name"], mapping)


def _abandon(svc, job: jobs.Job, reason: str) -> None:
    """A job given up (jobs.execute): its import says failed, not running for ever."""
    with svc.db.write() as s:
        s.execute(update(ImportJob).where(ImportJob.id == job.ref_id,
                                          ImportJob.state.in_(("running", "cancelling")))
                  .values(state="failed", finished_at=utcnow()))


jobs.register(KIND, _run, resumable=True, on_abandon=_abandon)
