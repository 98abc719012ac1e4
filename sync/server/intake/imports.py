"""Import jobs of office intake: reading an uploaded CSV/XLSX, its column mapping and preview,
and the job runner that streams the rows through the batch intake as the office device
(queued as a durable job by sync.server.import_jobs), with its status, cancel and sealed
rejection file."""

from __future__ import annotations

import json
import logging
from datetime import datetime

from fastapi import UploadFile
from sqlalchemy import update

from sync.domain import as_utc, utcnow
from sync.ids import new_uuid7
from sync.intake.importer import ImportCounts, RowConverter, preview, run_rows
from sync.intake.mapping import (
    PRESETS,
    TARGET_FIELDS,
    check_mapping,
    guess_mapping,
    mapping_from_names,
    preset_mapping,
)
from sync.intake.tables import ImportLimitError, open_table
from sync.problem_codes import (
    EMPTY_FILE,
    FILE_TOO_LARGE,
    IMPORT_LIMIT,
    INVALID_MAPPING,
    NOT_AVAILABLE,
    NOT_FOUND,
    NOT_RUNNING,
    UNKNOWN_PRESET,
    UNREADABLE_FILE,
)
from sync.server.audit import audit
from sync.server.ingest import campaign_context
from sync.server.intake.office import IMPORT_BATCH, office_device, submit_entries
from sync.server.models import ImportJob
from sync.server.problems import ProblemError
from sync.server.services import Services

log = logging.getLogger("canvass.server.intake")

MAX_IMPORT_BYTES = 200_000_000


def resolve_mapping(headers: list[str], mapping_json: str, preset: str) -> dict[str, int]:
    if mapping_json:
        try:
            names = json.loads(mapping_json)
            if not isinstance(names, dict):
                raise ValueError
            return mapping_from_names(names, headers)
        except ValueError:
            raise ProblemError(INVALID_MAPPING) from None
    if preset:
        if preset not in PRESETS:
            raise ProblemError(UNKNOWN_PRESET)
        return preset_mapping(preset, headers)
    return guess_mapping(headers)


def _default_captured_at() -> datetime:
    return utcnow().replace(microsecond=0)


async def read_upload(file: UploadFile) -> bytes:
    data = await file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise ProblemError(FILE_TOO_LARGE)
    if not data:
        raise ProblemError(EMPTY_FILE)
    return data


def _limit_problem(exc: ImportLimitError) -> ProblemError:
    return ProblemError(IMPORT_LIMIT, f"The file is too large to import: {exc}.")


def open_upload(data: bytes, name: str):
    """Blocking (parses the file): call it from a worker thread, never on the event loop."""
    try:
        return open_table(data, name=name or "")
    except ImportLimitError as exc:
        raise _limit_problem(exc) from None
    except Exception as exc:  # noqa: BLE001 - any parser failure is the file's problem
        log.info("unreadable import file: %s", type(exc).__name__)
        raise ProblemError(UNREADABLE_FILE) from None


def preview_upload(svc: Services, cid: str, data: bytes, name: str, mapping: str, preset: str) -> dict:
    table = open_upload(data, name)
    resolved = resolve_mapping(table.headers, mapping, preset)
    missing = check_mapping(resolved)
    rows: list[dict] = []
    if not missing:
        ctx = campaign_context(svc, cid)
        converter = RowConverter(resolved, campaign_id=cid, id_key=svc.office_id_key,
                                 jurisdiction=ctx.jurisdiction,
                                 default_captured_at=_default_captured_at())
        try:
            rows = preview(table, resolved, converter)
        except ImportLimitError as exc:
            raise _limit_problem(exc) from None
    return {"headers": table.headers, "kind": table.kind, "total_rows": table.total_rows,
            "mapping": {t: table.headers[i] for t, i in resolved.items()},
            "fields": list(TARGET_FIELDS), "presets": sorted(PRESETS), "missing": missing,
            "rows": rows}


def _job_update(svc: Services, job_id: str, **values) -> None:
    with svc.db.write() as s:
        s.execute(update(ImportJob).where(ImportJob.id == job_id).values(**values))


def create_job(svc: Services, campaign_id: str, staff_name: str, kind: str, total: int | None) -> str:
    job_id = new_uuid7()
    with svc.db.write() as s:
        s.add(ImportJob(id=job_id, campaign_id=campaign_id, created_by=staff_name,
                        created_at=utcnow(), state="running", kind=kind, total_rows=total or 0,
                        rows_done=0, counts_json="{}"))
    return job_id


def run_import(svc: Services, job_id: str, campaign_id: str, data: bytes | str, name: str,
               mapping: dict[str, int], *, batch_size: int = IMPORT_BATCH) -> ImportCounts:
    """Stream the file through conversion and the batch intake, updating the job as it goes.

    Every data row ends in exactly one count; rejected rows (here or by the server) go to the
    sealed rejection file with their reasons.
    """
    counts = ImportCounts()
    try:
        table = open_table(data, name=name)
        device = office_device(svc, campaign_id)
        ctx = campaign_context(svc, campaign_id)
        converter = RowConverter(mapping, campaign_id=campaign_id, id_key=svc.office_id_key,
                                 jurisdiction=ctx.jurisdiction,
                                 default_captured_at=_default_captured_at(),
                                 device_id=device.device_id)

        def progress(now: ImportCounts) -> None:
            nonlocal counts
            counts = now
            with svc.db.write() as s:
                job = s.get(ImportJob, job_id)
                if job is not None and job.state == CANCELLING:
                    raise ImportCancelled
                s.execute(update(ImportJob).where(ImportJob.id == job_id).values(
                    rows_done=now.total, counts_json=json.dumps(now.as_dict())))

        counts, rejections = run_rows(table, converter,
                                      lambda entries: submit_entries(svc, device, entries),
                                      batch_size=batch_size, progress=progress)
        sealed = svc.cipher.encrypt(rejections.getvalue(), record_id=job_id, field="rejections")
        _job_update(svc, job_id, state="done", finished_at=utcnow(), rows_done=counts.total,
                    total_rows=counts.total, counts_json=json.dumps(counts.as_dict()),
                    enc_rejections=sealed)
        with svc.db.write() as s:
            audit(s, "system", "import.done", job_id, f"{counts.total} rows")
    except ImportCancelled:
        # Rows already sent stay received (they are entries like any other); the rest is not read.
        _job_update(svc, job_id, state="cancelled", finished_at=utcnow(), rows_done=counts.total,
                    counts_json=json.dumps(counts.as_dict()))
        with svc.db.write() as s:
            audit(s, "system", "import.cancelled", job_id, f"{counts.total} rows")
        return counts
    except Exception as exc:
        log.error("import job failed: %s", type(exc).__name__)
        _job_update(svc, job_id, state="failed", finished_at=utcnow(),
                    counts_json=json.dumps(counts.as_dict()))
        raise
    return counts


CANCELLING = "cancelling"  # an admin asked; the job's thread stops at its next report


class ImportCancelled(Exception):  # noqa: N818 - a control-flow signal, not an error
    pass


def job_status(svc: Services, job_id: str, campaign_id: str) -> dict:
    with svc.db.read() as s:
        job = s.get(ImportJob, job_id)
        if job is None or job.campaign_id != campaign_id:
            raise ProblemError(NOT_FOUND, "No such import job.")
        counts = json.loads(job.counts_json or "{}")
        return {"job_id": job.id, "state": job.state, "kind": job.kind,
                "total_rows": job.total_rows, "rows_done": job.rows_done, "counts": counts,
                "rejected_rows": counts.get("invalid", 0) + counts.get("rejected", 0)
                + counts.get("conflict", 0),
                "created_at": as_utc(job.created_at).isoformat(),
                "finished_at": as_utc(job.finished_at).isoformat() if job.finished_at else None}


def rejections_job(s, job_id: str, campaign_id: str) -> ImportJob:
    """The campaign's import job with a rejection file, or the problem that says why not."""
    job = s.get(ImportJob, job_id)
    if job is None or job.campaign_id != campaign_id:
        raise ProblemError(NOT_FOUND, "No such import job.")
    if job.enc_rejections is None:
        raise ProblemError(NOT_AVAILABLE)
    return job


def cancel_job(svc: Services, staff_actor_id: str, job_id: str, campaign_id: str) -> None:
    """Ask a running job to stop (it stops within PROGRESS_EVERY rows or one batch)."""
    with svc.db.write() as s:
        job = s.get(ImportJob, job_id, with_for_update=True)
        if job is None or job.campaign_id != campaign_id:
            raise ProblemError(NOT_FOUND, "No such import job.")
        if job.state not in ("running", CANCELLING):
            raise ProblemError(NOT_RUNNING)
        job.state = CANCELLING
        audit(s, staff_actor_id, "import.cancel", job_id)
