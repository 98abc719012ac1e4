"""The filing check (GET /v1/filing/check): what stands between the campaign and filing,
per section and for the whole drive, each with its rule (sync.intake.filing_check).
Intake clerks and admins of the campaign; serials, line numbers and rule codes only."""

from __future__ import annotations

from fastapi import APIRouter, Query

from sync.problem_codes import NOT_FOUND
from sync.server.auth import campaign_for
from sync.server.deps import IntakeStaff, ServicesDep
from sync.server.filing import readiness_and_check
from sync.server.problems import ProblemError
from sync.server.schemas import FilingCheckView

router = APIRouter(prefix="/v1/filing", tags=["filing"])


@router.get("/check", response_model=FilingCheckView)
def filing_check(staff: IntakeStaff, svc: ServicesDep,
                 campaign_id: str | None = Query(None, max_length=64)) -> FilingCheckView:
    cid = campaign_for(staff, campaign_id)
    with svc.db.read() as s:
        found = readiness_and_check(s, cid, timezone=svc.settings.timezone)
    if found is None:
        raise ProblemError(NOT_FOUND, "No such campaign.")
    return FilingCheckView.model_validate(found[1].as_dict())
