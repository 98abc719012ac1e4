"""Office intake of paper sections (/v1/intake): issuing and checking in sections, their
reconciliation, and lines keyed at the office. Imports are sync.server.routes.imports; the
filing export and retention sync.server.routes.retention; duplicate review
sync.server.routes.review.

Roles: intake and admin do intake work; team leads may read reconciliation (their teams'
sections only). No personal data in logs, URLs or problems: serials and line numbers are not
personal; names and addresses travel only in request and response bodies.
"""

from __future__ import annotations

from fastapi import APIRouter, Path, Query

from sync.problem_codes import NOT_FOUND
from sync.server.audit import audit, staff_actor
from sync.server.auth import campaign_for, staff_teams
from sync.server.deps import IntakeReader, IntakeStaff, ServicesDep
from sync.server.intake import sections
from sync.server.intake.office import keyed_entry, office_device, submit_entries
from sync.server.problems import ProblemError
from sync.server.schemas import (
    CheckInRequest,
    IssuedView,
    IssueRequest,
    KeyedLine,
    KeyedLineView,
    ReconciliationView,
    SectionDetailView,
)

router = APIRouter(prefix="/v1/intake", tags=["intake"])


@router.post("/sections/issue", response_model=IssuedView)
def issue_sections(body: IssueRequest, staff: IntakeStaff, svc: ServicesDep,
                   campaign_id: str | None = Query(None)) -> dict:
    cid = campaign_for(staff, campaign_id)
    return {"issued": sections.issue_sections(svc, staff, cid, body)}


@router.post("/sections/{serial}/checkin", status_code=201, response_model=SectionDetailView)
def check_in(body: CheckInRequest, staff: IntakeStaff, svc: ServicesDep,
             serial: str = Path(max_length=20), campaign_id: str | None = Query(None)) -> dict:
    cid = campaign_for(staff, campaign_id)
    serial = sections.check_serial(serial)
    sections.record_check_in(svc, staff, cid, serial, body)
    return sections.section_report(svc, cid, serial)


@router.get("/sections/{serial}", response_model=SectionDetailView)
def get_section(staff: IntakeReader, svc: ServicesDep, serial: str = Path(max_length=20),
                campaign_id: str | None = Query(None)) -> dict:
    cid, serial = campaign_for(staff, campaign_id), sections.check_serial(serial)
    teams = staff_teams(staff)
    if teams is not None:
        with svc.db.read() as s:
            if serial not in sections.team_sections(s, cid, teams):
                raise ProblemError(NOT_FOUND, "No such section of your team.")
    return sections.section_report(svc, cid, serial)


@router.get("/reconciliation", response_model=ReconciliationView)
def reconciliation(staff: IntakeReader, svc: ServicesDep, campaign_id: str | None = Query(None)) -> dict:
    return sections.campaign_reconciliation(svc, campaign_for(staff, campaign_id), staff_teams(staff))


@router.post("/lines", response_model=KeyedLineView)
def key_line(body: KeyedLine, staff: IntakeStaff, svc: ServicesDep,
             campaign_id: str | None = Query(None)) -> dict:
    """One paper line keyed at the office; answered like a device's batch entry."""
    cid = campaign_for(staff, campaign_id)
    device = office_device(svc, cid)
    entry = keyed_entry(svc.office_id_key, cid, device.device_id, body)
    [result] = submit_entries(svc, device, [entry])
    with svc.db.write() as s:
        audit(s, staff_actor(staff), "line.key", entry.entry_id, result.status.value)
    return {"result": result.model_dump(mode="json"), "next_line": entry.line + 1}
