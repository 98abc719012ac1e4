"""Office imports of CSV/XLSX files (/v1/intake/imports): preview, start, status, cancel, and
the sealed file of rejected rows. The rows go through the batch intake as the campaign's
office device (sync.server.intake.imports runs the job).

Roles: intake and admin; only admins cancel. Parsing an untrusted file is CPU work: it runs in
a worker thread, so every other request keeps being answered meanwhile (it ran on the event
loop and froze the server).
"""

from __future__ import annotations

from fastapi import APIRouter, File, Form, Path, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from sync.intake.mapping import check_mapping
from sync.problem_codes import INCOMPLETE_MAPPING
from sync.server.audit import audit, staff_actor
from sync.server.auth import campaign_for
from sync.server.bodylimit import BodyCap
from sync.server.deps import AdminStaff, IntakeStaff, ServicesDep
from sync.server.import_jobs import queue_import
from sync.server.intake.imports import (
    cancel_job,
    create_job,
    job_status,
    open_upload,
    preview_upload,
    read_upload,
    rejections_job,
    resolve_mapping,
)
from sync.server.jobs import run_now
from sync.server.problems import ProblemError
from sync.server.routes import CSVResponse
from sync.server.schemas import ImportJobView, ImportPreviewView

router = APIRouter(prefix="/v1/intake", tags=["intake"])

# Office files (CSV/XLSX of up to ~100,000+ rows) need far more than a sync batch.
BODY_LIMITS = {"/v1/intake/imports": BodyCap(200_000_000),
               "/v1/intake/imports/preview": BodyCap(200_000_000)}


@router.post("/imports/preview", response_model=ImportPreviewView)
async def import_preview(staff: IntakeStaff, svc: ServicesDep, file: UploadFile = File(...),
                         mapping: str = Form(""), preset: str = Form(""),
                         campaign_id: str | None = Query(None)) -> dict:
    cid = campaign_for(staff, campaign_id)
    data = await read_upload(file)
    return await run_in_threadpool(preview_upload, svc, cid, data, file.filename or "", mapping, preset)


@router.post("/imports/{job_id}/cancel", response_model=ImportJobView)
def cancel_import(staff: AdminStaff, svc: ServicesDep, job_id: str = Path(max_length=36),
                  campaign_id: str | None = Query(None)) -> dict:
    """Stop a running import job (admins only). It stops within PROGRESS_EVERY rows or one
    batch; what it already sent stays received."""
    cid = campaign_for(staff, campaign_id)
    cancel_job(svc, staff_actor(staff), job_id, cid)
    return job_status(svc, job_id, cid)


@router.post("/imports", status_code=202, response_model=ImportJobView)
async def start_import(staff: IntakeStaff, svc: ServicesDep, file: UploadFile = File(...),
                       mapping: str = Form(""), preset: str = Form(""), wait: bool = Form(False),
                       campaign_id: str | None = Query(None)) -> dict:
    """Start an import job. The job runs in a server's job worker; poll GET /imports/{id}.
    ``wait=true`` runs it before answering (small files, scripts)."""
    cid = campaign_for(staff, campaign_id)
    data = await read_upload(file)
    name = file.filename or ""
    table = await run_in_threadpool(open_upload, data, name)
    resolved = resolve_mapping(table.headers, mapping, preset)
    if check_mapping(resolved):
        raise ProblemError(INCOMPLETE_MAPPING)
    job_id = create_job(svc, cid, staff.username, table.kind, table.total_rows)
    with svc.db.write() as s:
        audit(s, staff_actor(staff), "import.start", job_id, table.kind)
    # A durable job (import_jobs.py): any replica's worker runs it, and resumes it after a crash.
    queued = await run_in_threadpool(queue_import, svc, cid, job_id, data, name, resolved,
                                     run_here=wait)
    if wait:
        await run_in_threadpool(run_now, svc, queued)
    return job_status(svc, job_id, cid)


@router.get("/imports/{job_id}", response_model=ImportJobView)
def get_import(staff: IntakeStaff, svc: ServicesDep, job_id: str = Path(max_length=36),
               campaign_id: str | None = Query(None)) -> dict:
    return job_status(svc, job_id, campaign_for(staff, campaign_id))


@router.get("/imports/{job_id}/rejections.csv", response_class=CSVResponse)
def get_rejections(staff: IntakeStaff, svc: ServicesDep, job_id: str = Path(max_length=36),
                   campaign_id: str | None = Query(None)) -> Response:
    cid = campaign_for(staff, campaign_id)
    with svc.db.write() as s:
        job = rejections_job(s, job_id, cid)
        text = svc.cipher.decrypt(job.enc_rejections, record_id=job.id, field="rejections")
        audit(s, staff_actor(staff), "import.rejections_download", job_id)
    return Response(text, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="rejections-{job_id[:8]}.csv"'})
