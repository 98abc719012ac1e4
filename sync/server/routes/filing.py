"""The filing check (GET /v1/filing/check): what stands between the campaign and filing,
per section and for the whole drive, each with its rule (sync.intake.filing_check).
Intake clerks and admins of the campaign; serials, line numbers and rule codes only."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from sync.server.auth import StaffIdentity, campaign_for, require_roles, services
from sync.server.filing import readiness_and_check
from sync.server.problems import ProblemError
from sync.server.schemas import FilingCheckView
from sync.server.services import Services

router = APIRouter(prefix="/v1/filing", tags=["filing"])
checkers = require_roles("intake", "admin")


@router.get("/check", response_model=FilingCheckView)
def filing_check(campaign_id: str | None = Query(None, max_length=64),
                 staff: StaffIdentity = Depends(checkers),
                 svc: Services = Depends(services)) -> FilingCheckView:
    cid = campaign_for(staff, campaign_id)
    with svc.db.read() as s:
        found = readiness_and_check(s, cid)
    if found is None:
        raise ProblemError(404, "not_found", "No such campaign.")
    return FilingCheckView.model_validate(found[1].as_dict())
