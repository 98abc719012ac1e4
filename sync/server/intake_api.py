"""Office intake API (``router``, prefix /v1/intake): paper sections, reconciliation, keyed
lines, CSV/XLSX imports, the filing export and retention.

Keyed and imported lines are entries of the campaign's "office" pseudo-device and go through
the very intake function devices use (``sync.server.ingest.handle_batch``): same validation,
same deduplication, same idempotency. Their entry ids are stable (``importer.stable_entry_id``)
and an id the server already holds is re-sent with its stored sequence number and capture time,
so keying or importing the same line again is answered ``already_received``.

Duplicate review lives in sync.server.routes.review (/v1/review/queue, /v1/review/{id}/decision).

Roles: intake and admin do intake work; team leads may read reconciliation; only admins export
(audited) and purge. No personal data in logs, URLs or problems: serials and line numbers are
not personal; names and addresses travel only in request and response bodies.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from collections.abc import Sequence
from datetime import date, datetime

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from sync.domain import PERSONAL_FIELDS, SignerEntry, as_utc, utcnow
from sync.ids import new_uuid7
from sync.intake import export as export_logic
from sync.intake.importer import (
    PRESETS,
    TARGET_FIELDS,
    ImportCounts,
    ImportLimitError,
    RowConverter,
    check_mapping,
    guess_mapping,
    mapping_from_names,
    open_table,
    preset_mapping,
    preview,
    run_rows,
    stable_entry_id,
)
from sync.intake.reconcile import (
    DECLARATION_PARTS,
    CheckIn,
    EntryLine,
    SectionIssue,
    parse_line_list,
    reconcile_campaign,
    reconcile_section,
)
from sync.protocol import (
    MAX_BATCH_ENTRIES,
    NO_NUL,
    PROTOCOL_VERSION,
    BatchRequest,
    EntryResult,
    EntryStatus,
)
from sync.server import dedup
from sync.server.audit import audit
from sync.server.auth import (
    DeviceIdentity,
    StaffIdentity,
    campaign_for,
    require_roles,
    services,
    staff_teams,
)
from sync.server.import_jobs import queue_import
from sync.server.ingest import campaign_context, handle_batch
from sync.server.jobs import run_now
from sync.server.models import (
    Campaign,
    Device,
    Entry,
    ImportJob,
    IntakeSettings,
    PaperSection,
    SectionCheckIn,
    WithdrawnLine,
)
from sync.server.problems import ProblemError
from sync.server.purge import purge_campaign  # the one purge of a campaign's signer data
from sync.server.services import Services
from sync.validation import validate_section_serial

log = logging.getLogger("canvass.server.intake")

router = APIRouter(prefix="/v1/intake", tags=["intake"])
intake_staff = require_roles("intake", "admin")
readers = require_roles("intake", "admin", "team_lead")
admin_only = require_roles("admin")

OFFICE_NAMESPACE = uuid.UUID("0c9b6a3e-7d1f-4e2a-8b5c-3a9d1e6f4b20")
IMPORT_BATCH = MAX_BATCH_ENTRIES
MAX_IMPORT_BYTES = 200_000_000


def actor(staff: StaffIdentity) -> str:
    return f"user:{staff.user_id}"


# --------------------------------------------------------------------------------------------
# The office pseudo-device and submission through the batch intake


def office_device_id(campaign_id: str) -> str:
    return str(uuid.uuid5(OFFICE_NAMESPACE, campaign_id))


def office_device(svc: Services, campaign_id: str) -> DeviceIdentity:
    """The campaign's office device (created on first use; its token is unknowable)."""
    device_id = office_device_id(campaign_id)
    with svc.db.read() as s:
        if s.get(Campaign, campaign_id) is None:
            raise ProblemError(404, "not_found", "No such campaign.")
        exists = s.get(Device, device_id) is not None
    if not exists:
        try:
            with svc.db.write() as s:
                s.add(Device(id=device_id, campaign_id=campaign_id, circulator="Office",
                             name="Office intake", enrolled_at=utcnow(), pending_count=0,
                             token_hash=hashlib.sha256(os.urandom(32)).hexdigest(),
                             last_device_seq=0, app_version=""))
        except IntegrityError:
            pass  # created concurrently
    return DeviceIdentity(device_id, campaign_id, metered=False)


def submit_entries(svc: Services, device: DeviceIdentity,
                   entries: Sequence[SignerEntry]) -> list[EntryResult]:
    """Send office entries through ``handle_batch`` in batches; results in input order.

    Ids the server already holds are re-sent with their stored sequence number and capture
    time, so an unchanged line is ``already_received`` (its content fingerprint matches).
    Repeats of one id within the input share one wire entry.
    """
    results: list[EntryResult] = []
    for start in range(0, len(entries), IMPORT_BATCH):
        chunk = entries[start:start + IMPORT_BATCH]
        ids = list(dict.fromkeys(e.entry_id for e in chunk))
        with svc.db.read() as s:
            known = {row.id: (row.device_seq, row.captured_at) for row in s.execute(
                select(Entry.id, Entry.device_seq, Entry.captured_at).where(
                    Entry.id.in_(ids), Entry.device_id == device.device_id))}
        fresh = [i for i in ids if i not in known]
        seqs: dict[str, int] = {}
        if fresh:
            with svc.db.write() as s:
                last = dedup.next_counter(s, f"office-seq:{device.campaign_id}", len(fresh))
            seqs = {entry_id: last - len(fresh) + 1 + n for n, entry_id in enumerate(fresh)}
        wires = {}
        for entry in chunk:
            if entry.entry_id in wires:
                continue
            if entry.entry_id in known:
                seq, captured = known[entry.entry_id]
                entry = entry.with_changes(device_seq=seq, captured_at=as_utc(captured))
            else:
                entry = entry.with_changes(device_seq=seqs[entry.entry_id],
                                           captured_at=as_utc(entry.captured_at))
            wires[entry.entry_id] = entry.to_wire()
        response = handle_batch(svc, device, BatchRequest(
            protocol_version=PROTOCOL_VERSION, batch_id=new_uuid7(), entries=list(wires.values())))
        by_id: dict[str, EntryResult] = {}
        for result in response.results:
            by_id.setdefault(result.entry_id, result)
        seen: set[str] = set()
        for entry in chunk:
            result = by_id[entry.entry_id]
            if entry.entry_id in seen:  # the same row twice in one input: the second is a repeat
                result = EntryResult(entry_id=entry.entry_id, status=EntryStatus.ALREADY_RECEIVED)
            seen.add(entry.entry_id)
            results.append(result)
    return results


# --------------------------------------------------------------------------------------------
# Loading what reconciliation needs (ids, lines and statuses only)


def _entry_lines(s, campaign_id: str, serial: str | None = None) -> list[EntryLine]:
    stmt = select(Entry.id, Entry.section, Entry.line, Entry.status, Entry.superseded_by,
                  WithdrawnLine.entry_id.label("withdrawn"), Entry.captured_at).outerjoin(
        WithdrawnLine, WithdrawnLine.entry_id == Entry.id).where(Entry.campaign_id == campaign_id)
    if serial is not None:
        stmt = stmt.where(Entry.section == serial)
    # Entries stored with an invalid serial (before ingest refused them) are left out.
    return [EntryLine(r.id, r.section, r.line, r.status, r.superseded_by is not None,
                      r.withdrawn is not None, as_utc(r.captured_at))
            for r in s.execute(stmt) if validate_section_serial(r.section) is None]


def _check_ins(s, campaign_id: str, serial: str | None = None) -> list[CheckIn]:
    stmt = select(SectionCheckIn).where(SectionCheckIn.campaign_id == campaign_id)
    if serial is not None:
        stmt = stmt.where(SectionCheckIn.serial == serial)
    out = []
    for row in s.scalars(stmt.order_by(SectionCheckIn.id)):
        skipped = frozenset(int(x) for x in row.skipped_lines.split(",") if x)
        parts = frozenset(p for p in row.declaration.split(",") if p)
        out.append(CheckIn(row.serial, row.returned_by, as_utc(row.returned_at), row.signed_lines,
                           skipped, parts, row.received_by, row.county or ""))
    return out


def _issues(s, campaign_id: str, serial: str | None = None) -> list[SectionIssue]:
    stmt = select(PaperSection).where(PaperSection.campaign_id == campaign_id)
    if serial is not None:
        stmt = stmt.where(PaperSection.serial == serial)
    return [SectionIssue(p.serial, p.circulator, p.handed_out_at is not None) for p in s.scalars(stmt)]


def _serial(serial: str) -> str:
    serial = serial.strip().upper()
    if validate_section_serial(serial) is not None:
        raise ProblemError(422, "invalid_serial", "The section serial is not valid.")
    return serial


# --------------------------------------------------------------------------------------------
# Sections: issue, check-in, reconciliation


class IssueRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    serials: list[str] = Field(min_length=1, max_length=5000)
    circulator: str = Field("", max_length=100, pattern=NO_NUL)
    handed_out: bool = False


class CheckInRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    returned_by: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    returned_at: datetime | None = None
    signed_lines: int = Field(ge=0, le=999)
    skipped_lines: str = Field("", max_length=2000)  # "3, 7-9"
    declaration: list[str] = Field(default_factory=list, max_length=len(DECLARATION_PARTS))
    county: str = Field("", max_length=64, pattern=NO_NUL)  # as the paper names it


@router.post("/sections/issue")
def issue_sections(body: IssueRequest, campaign_id: str | None = Query(None),
                   staff: StaffIdentity = Depends(intake_staff),
                   svc: Services = Depends(services)) -> dict:
    cid = campaign_for(staff, campaign_id)
    serials = [_serial(s) for s in body.serials]
    now = utcnow()
    with svc.db.write() as s:
        for serial in dict.fromkeys(serials):
            row = s.get(PaperSection, (cid, serial))
            if row is None:
                row = PaperSection(campaign_id=cid, serial=serial, circulator=body.circulator,
                                   issued_at=now)
                s.add(row)
            elif body.circulator:
                row.circulator = body.circulator
            if body.handed_out and row.handed_out_at is None:
                row.handed_out_at = now
        audit(s, actor(staff), "sections.issue", cid, f"{len(serials)} sections")
    return {"issued": len(set(serials))}


@router.post("/sections/{serial}/checkin", status_code=201)
def check_in(body: CheckInRequest, serial: str = Path(max_length=20),
             campaign_id: str | None = Query(None), staff: StaffIdentity = Depends(intake_staff),
             svc: Services = Depends(services)) -> dict:
    cid = campaign_for(staff, campaign_id)
    serial = _serial(serial)
    unknown = set(body.declaration) - set(DECLARATION_PARTS)
    if unknown:
        raise ProblemError(422, "invalid_declaration", "Unknown declaration part.")
    try:
        skipped = parse_line_list(body.skipped_lines)
    except ValueError:
        raise ProblemError(422, "invalid_skipped_lines", "Skipped lines: use numbers and ranges.") \
            from None
    returned_at = as_utc(body.returned_at) if body.returned_at else utcnow()
    with svc.db.write() as s:
        if s.get(Campaign, cid) is None:
            raise ProblemError(404, "not_found", "No such campaign.")
        s.add(SectionCheckIn(campaign_id=cid, serial=serial, returned_by=body.returned_by,
                             returned_at=returned_at, signed_lines=body.signed_lines,
                             skipped_lines=",".join(str(n) for n in sorted(skipped)),
                             declaration=",".join(p for p in DECLARATION_PARTS
                                                  if p in body.declaration),
                             received_by=staff.username, recorded_at=utcnow(),
                             county=body.county.strip()))
        audit(s, actor(staff), "section.checkin", serial, f"{body.signed_lines} lines")
    return section_report(svc, cid, serial)


def section_report(svc: Services, campaign_id: str, serial: str) -> dict:
    with svc.db.read() as s:
        checks = _check_ins(s, campaign_id, serial)
        report = reconcile_section(serial, _entry_lines(s, campaign_id, serial), checks,
                                   next(iter(_issues(s, campaign_id, serial)), None))
    out = report.as_dict()
    out["history"] = [{"returned_by": c.returned_by, "returned_at": c.returned_at.isoformat(),
                       "signed_lines": c.signed_lines, "received_by": c.received_by,
                       "declaration_missing": list(c.declaration_missing)} for c in checks]
    out["next_line"] = (report.missing_lines[0] if report.missing_lines
                        else max([0, *_keyed_lines(svc, campaign_id, serial)]) + 1)
    return out


def _keyed_lines(svc: Services, campaign_id: str, serial: str) -> list[int]:
    with svc.db.read() as s:
        return list(s.scalars(select(Entry.line).where(
            Entry.campaign_id == campaign_id, Entry.section == serial,
            Entry.superseded_by.is_(None), Entry.status != EntryStatus.REJECTED.value)))


def _team_sections(s, campaign_id: str, teams: set[str]) -> set[str]:
    """The sections a team lead may see: those their teams' devices wrote entries in."""
    if not teams:
        return set()
    return set(s.scalars(select(Entry.section).distinct().join(
        Device, Device.id == Entry.device_id).where(
        Entry.campaign_id == campaign_id, Device.team.in_(sorted(teams)))))


@router.get("/sections/{serial}")
def get_section(serial: str = Path(max_length=20), campaign_id: str | None = Query(None),
                staff: StaffIdentity = Depends(readers), svc: Services = Depends(services)) -> dict:
    cid, serial = campaign_for(staff, campaign_id), _serial(serial)
    teams = staff_teams(staff)
    if teams is not None:
        with svc.db.read() as s:
            if serial not in _team_sections(s, cid, teams):
                raise ProblemError(404, "not_found", "No such section of your team.")
    return section_report(svc, cid, serial)


@router.get("/reconciliation")
def reconciliation(campaign_id: str | None = Query(None), staff: StaffIdentity = Depends(readers),
                   svc: Services = Depends(services)) -> dict:
    cid = campaign_for(staff, campaign_id)
    teams = staff_teams(staff)
    with svc.db.read() as s:
        lines, checks, issues = _entry_lines(s, cid), _check_ins(s, cid), _issues(s, cid)
        if teams is not None:  # a team lead: their teams' sections only
            mine = _team_sections(s, cid, teams)
            lines = [x for x in lines if x.section in mine]
            checks = [x for x in checks if x.serial in mine]
            issues = [x for x in issues if x.serial in mine]
    return reconcile_campaign(lines, checks, issues).as_dict()


# --------------------------------------------------------------------------------------------
# Keyed lines


class KeyedLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    section: str = Field(max_length=40)
    line: int = Field(ge=-1_000_000, le=1_000_000)
    first_name: str = Field("", max_length=200)
    middle_name: str = Field("", max_length=200)
    last_name: str = Field("", max_length=200)
    suffix: str = Field("", max_length=40)
    street: str = Field("", max_length=400)
    unit: str = Field("", max_length=80)
    city: str = Field("", max_length=200)
    zip: str = Field("", max_length=40)
    phone: str = Field("", max_length=80)
    email: str = Field("", max_length=400)
    notes: str = Field("", max_length=2000)


def keyed_entry(id_key: bytes, campaign_id: str, device_id: str, body: KeyedLine) -> SignerEntry:
    content = {name: " ".join(getattr(body, name).split()) for name in PERSONAL_FIELDS}
    section = body.section.strip().upper()
    return SignerEntry(section=section, line=body.line, device_id=device_id, captured_at=utcnow(),
                       entry_id=stable_entry_id(id_key, campaign_id, section, body.line, content),
                       **content)


@router.post("/lines")
def key_line(body: KeyedLine, campaign_id: str | None = Query(None),
             staff: StaffIdentity = Depends(intake_staff), svc: Services = Depends(services)) -> dict:
    """One paper line keyed at the office; answered like a device's batch entry."""
    cid = campaign_for(staff, campaign_id)
    device = office_device(svc, cid)
    entry = keyed_entry(svc.office_id_key, cid, device.device_id, body)
    [result] = submit_entries(svc, device, [entry])
    with svc.db.write() as s:
        audit(s, actor(staff), "line.key", entry.entry_id, result.status.value)
    return {"result": result.model_dump(mode="json"), "next_line": entry.line + 1}


# --------------------------------------------------------------------------------------------
# Imports


def _resolve_mapping(headers: list[str], mapping_json: str, preset: str) -> dict[str, int]:
    if mapping_json:
        try:
            names = json.loads(mapping_json)
            if not isinstance(names, dict):
                raise ValueError
            return mapping_from_names(names, headers)
        except ValueError:
            raise ProblemError(422, "invalid_mapping", "The column mapping does not fit the file.") \
                from None
    if preset:
        if preset not in PRESETS:
            raise ProblemError(422, "unknown_preset", "No such mapping preset.")
        return preset_mapping(preset, headers)
    return guess_mapping(headers)


def _default_captured_at() -> datetime:
    return utcnow().replace(microsecond=0)


async def _read_upload(file: UploadFile) -> bytes:
    data = await file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise ProblemError(413, "file_too_large", "The file is too large to import.")
    if not data:
        raise ProblemError(422, "empty_file", "The file is empty.")
    return data


def _limit_problem(exc: ImportLimitError) -> ProblemError:
    return ProblemError(422, "import_limit", f"The file is too large to import: {exc}.")


def _open(data: bytes, name: str):
    """Blocking (parses the file): call it from a worker thread, never on the event loop."""
    try:
        return open_table(data, name=name or "")
    except ImportLimitError as exc:
        raise _limit_problem(exc) from None
    except Exception as exc:  # noqa: BLE001 - any parser failure is the file's problem
        log.info("unreadable import file: %s", type(exc).__name__)
        raise ProblemError(422, "unreadable_file", "The file is not a readable CSV or XLSX.") from None


@router.post("/imports/preview")
async def import_preview(file: UploadFile = File(...), mapping: str = Form(""), preset: str = Form(""),
                         campaign_id: str | None = Query(None),
                         staff: StaffIdentity = Depends(intake_staff),
                         svc: Services = Depends(services)) -> dict:
    cid = campaign_for(staff, campaign_id)
    data = await _read_upload(file)
    # Parsing is CPU work on an untrusted file: in a worker thread, so every other request
    # keeps being answered meanwhile (it ran on the event loop and froze the server).
    return await run_in_threadpool(_preview, svc, cid, data, file.filename or "", mapping, preset)


def _preview(svc: Services, cid: str, data: bytes, name: str, mapping: str, preset: str) -> dict:
    table = _open(data, name)
    resolved = _resolve_mapping(table.headers, mapping, preset)
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


@router.post("/imports/{job_id}/cancel")
def cancel_import(job_id: str = Path(max_length=36), campaign_id: str | None = Query(None),
                  staff: StaffIdentity = Depends(admin_only),
                  svc: Services = Depends(services)) -> dict:
    """Stop a running import job (admins only). It stops within PROGRESS_EVERY rows or one
    batch; what it already sent stays received."""
    cid = campaign_for(staff, campaign_id)
    with svc.db.write() as s:
        job = s.get(ImportJob, job_id, with_for_update=True)
        if job is None or job.campaign_id != cid:
            raise ProblemError(404, "not_found", "No such import job.")
        if job.state not in ("running", CANCELLING):
            raise ProblemError(409, "not_running", "The import job is not running.")
        job.state = CANCELLING
        audit(s, actor(staff), "import.cancel", job_id)
    return job_status(svc, job_id, cid)


@router.post("/imports", status_code=202)
async def start_import(file: UploadFile = File(...), mapping: str = Form(""), preset: str = Form(""),
                       wait: bool = Form(False), campaign_id: str | None = Query(None),
                       staff: StaffIdentity = Depends(intake_staff),
                       svc: Services = Depends(services)) -> dict:
    """Start an import job. The job runs in a server's job worker; poll GET /imports/{id}.
    ``wait=true`` runs it before answering (small files, scripts)."""
    cid = campaign_for(staff, campaign_id)
    data = await _read_upload(file)
    name = file.filename or ""
    table = await run_in_threadpool(_open, data, name)  # off the event loop (see _preview)
    resolved = _resolve_mapping(table.headers, mapping, preset)
    if check_mapping(resolved):
        raise ProblemError(422, "incomplete_mapping", "The mapping leaves out required fields.")
    job_id = create_job(svc, cid, staff.username, table.kind, table.total_rows)
    with svc.db.write() as s:
        audit(s, actor(staff), "import.start", job_id, table.kind)
    # A durable job (import_jobs.py): any replica's worker runs it, and resumes it after a crash.
    queued = await run_in_threadpool(queue_import, svc, cid, job_id, data, name, resolved,
                                     run_here=wait)
    if wait:
        await run_in_threadpool(run_now, svc, queued)
    return job_status(svc, job_id, cid)


def job_status(svc: Services, job_id: str, campaign_id: str) -> dict:
    with svc.db.read() as s:
        job = s.get(ImportJob, job_id)
        if job is None or job.campaign_id != campaign_id:
            raise ProblemError(404, "not_found", "No such import job.")
        counts = json.loads(job.counts_json or "{}")
        return {"job_id": job.id, "state": job.state, "kind": job.kind,
                "total_rows": job.total_rows, "rows_done": job.rows_done, "counts": counts,
                "rejected_rows": counts.get("invalid", 0) + counts.get("rejected", 0)
                + counts.get("conflict", 0),
                "created_at": as_utc(job.created_at).isoformat(),
                "finished_at": as_utc(job.finished_at).isoformat() if job.finished_at else None}


@router.get("/imports/{job_id}")
def get_import(job_id: str = Path(max_length=36), campaign_id: str | None = Query(None),
               staff: StaffIdentity = Depends(intake_staff), svc: Services = Depends(services)) -> dict:
    return job_status(svc, job_id, campaign_for(staff, campaign_id))


def rejections_job(s, job_id: str, campaign_id: str) -> ImportJob:
    """The campaign's import job with a rejection file, or the problem that says why not."""
    job = s.get(ImportJob, job_id)
    if job is None or job.campaign_id != campaign_id:
        raise ProblemError(404, "not_found", "No such import job.")
    if job.enc_rejections is None:
        raise ProblemError(409, "not_available", "The job has no rejection file (running or purged).")
    return job


@router.get("/imports/{job_id}/rejections.csv")
def get_rejections(job_id: str = Path(max_length=36), campaign_id: str | None = Query(None),
                   staff: StaffIdentity = Depends(intake_staff),
                   svc: Services = Depends(services)) -> Response:
    cid = campaign_for(staff, campaign_id)
    with svc.db.write() as s:
        job = rejections_job(s, job_id, cid)
        text = svc.cipher.decrypt(job.enc_rejections, record_id=job.id, field="rejections")
        audit(s, actor(staff), "import.rejections_download", job_id)
    return Response(text, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="rejections-{job_id[:8]}.csv"'})


# --------------------------------------------------------------------------------------------
# Filing export (admin only, audited) and retention


def duplicate_lines(s, campaign_id: str) -> list[export_logic.DuplicateLine]:
    rows = s.execute(select(Entry.id, Entry.section, Entry.line, Entry.status, Entry.duplicate_of,
                            Entry.candidate_of).where(
        Entry.campaign_id == campaign_id, Entry.superseded_by.is_(None),
        Entry.status.in_([EntryStatus.DUPLICATE.value, EntryStatus.POSSIBLE_DUPLICATE.value]))).all()
    targets = {r.duplicate_of or r.candidate_of for r in rows} - {None}
    where = {}
    if targets:
        where = {t.id: (t.section, t.line) for t in s.execute(
            select(Entry.id, Entry.section, Entry.line).where(Entry.id.in_(list(targets))))}
    out = []
    for r in rows:
        other = r.duplicate_of or r.candidate_of or ""
        section, line = where.get(other, ("", None))
        out.append(export_logic.DuplicateLine(r.section, r.line, r.status, r.id, other, section, line))
    return out


@router.get("/export/filing.csv")
def export_filing(campaign_id: str | None = Query(None), staff: StaffIdentity = Depends(admin_only),
                  svc: Services = Depends(services)) -> Response:
    from sync.server.filing import readiness_and_check  # it loads through this module

    cid = campaign_for(staff, campaign_id)
    with svc.db.write() as s:
        found = readiness_and_check(s, cid)
        if found is None:
            raise ProblemError(404, "not_found", "No such campaign.")
        readiness, check = found
        text = export_logic.filing_csv(readiness, duplicate_lines(s, cid), check)
        audit(s, actor(staff), "export.filing", cid,
              f"{len(readiness.sections)} sections, ready={readiness.ready}, final={check.ready}")
    # Never "final" while the filing check finds anything (the file's last table says what).
    name = "filing.csv" if check.ready else "filing-DRAFT.csv"
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "X-Canvass-Filing": "final" if check.ready else "draft"})


class RetentionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    retention_days: int = Field(ge=0, le=3650)
    filed_on: date | None = None


def _settings(s, cid: str) -> IntakeSettings:
    row = s.get(IntakeSettings, cid)
    if row is None:
        row = IntakeSettings(campaign_id=cid, retention_days=90, filed_on="", purged=False)
        s.add(row)
    return row


def _retention_view(row: IntakeSettings, campaign: Campaign) -> dict:
    filed = date.fromisoformat(row.filed_on) if row.filed_on else None
    deadline = date.fromisoformat(campaign.deadline)
    return {"retention_days": row.retention_days, "filed_on": row.filed_on or None,
            "purge_after": export_logic.purge_after(filed, deadline, row.retention_days).isoformat(),
            "purge_due": export_logic.purge_due(utcnow(), filed, deadline, row.retention_days),
            "purged": bool(row.purged)}


@router.get("/retention")
def get_retention(campaign_id: str | None = Query(None), staff: StaffIdentity = Depends(admin_only),
                  svc: Services = Depends(services)) -> dict:
    cid = campaign_for(staff, campaign_id)
    with svc.db.write() as s:
        campaign = s.get(Campaign, cid)
        if campaign is None:
            raise ProblemError(404, "not_found", "No such campaign.")
        return _retention_view(_settings(s, cid), campaign)


@router.put("/retention")
def set_retention(body: RetentionRequest, campaign_id: str | None = Query(None),
                  staff: StaffIdentity = Depends(admin_only), svc: Services = Depends(services)) -> dict:
    cid = campaign_for(staff, campaign_id)
    with svc.db.write() as s:
        campaign = s.get(Campaign, cid)
        if campaign is None:
            raise ProblemError(404, "not_found", "No such campaign.")
        row = _settings(s, cid)
        row.retention_days = body.retention_days
        row.filed_on = body.filed_on.isoformat() if body.filed_on else ""
        audit(s, actor(staff), "retention.set", cid, f"{body.retention_days} days")
        return _retention_view(row, campaign)


class PurgeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirm: str = Field(max_length=36)  # the campaign id again: a purge cannot be undone


@router.post("/retention/purge")
def purge(body: PurgeRequest | None = None, campaign_id: str | None = Query(None),
          staff: StaffIdentity = Depends(admin_only), svc: Services = Depends(services)) -> dict:
    cid = campaign_for(staff, campaign_id)
    with svc.db.read() as s:
        campaign = s.get(Campaign, cid)
        if campaign is None:
            raise ProblemError(404, "not_found", "No such campaign.")
        row = s.get(IntakeSettings, cid) or IntakeSettings(retention_days=90, filed_on="", purged=False)
        due = _retention_view(row, campaign)["purge_due"]
    if not due:
        raise ProblemError(409, "purge_not_due", "The retention period has not ended yet.")
    if body is None or body.confirm != cid:
        raise ProblemError(422, "purge_not_confirmed", "Confirm the purge with the campaign id.")
    report = purge_campaign(svc.db, cid, actor=actor(staff))
    return {"purged_entries": report.entries, "voter_records": report.voter_records,
            "compacted": report.compacted}
