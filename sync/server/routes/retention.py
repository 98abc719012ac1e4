"""After filing (/v1/intake, admins only, audited): the filing export, the retention period,
and the purge of the campaign's signer data once that period has ended."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import Response

from sync.intake import export as export_logic
from sync.problem_codes import NOT_FOUND, PURGE_NOT_CONFIRMED, PURGE_NOT_DUE
from sync.server.audit import audit, staff_actor
from sync.server.auth import campaign_for
from sync.server.deps import AdminStaff, ServicesDep
from sync.server.filing import readiness_and_check
from sync.server.intake.retention import duplicate_lines, intake_settings, retention_view
from sync.server.models import Campaign, IntakeSettings
from sync.server.problems import ProblemError
from sync.server.purge import purge_campaign  # the one purge of a campaign's signer data
from sync.server.routes import CSVResponse
from sync.server.schemas import PurgeRequest, PurgeView, RetentionRequest, RetentionView

router = APIRouter(prefix="/v1/intake", tags=["intake"])


def _campaign(s, campaign_id: str) -> Campaign:
    campaign = s.get(Campaign, campaign_id)
    if campaign is None:
        raise ProblemError(NOT_FOUND, "No such campaign.")
    return campaign


@router.get("/export/filing.csv", response_class=CSVResponse)
def export_filing(staff: AdminStaff, svc: ServicesDep, campaign_id: str | None = Query(None)) -> Response:
    cid = campaign_for(staff, campaign_id)
    with svc.db.write() as s:
        found = readiness_and_check(s, cid, timezone=svc.settings.timezone)
        if found is None:
            raise ProblemError(NOT_FOUND, "No such campaign.")
        readiness, check = found
        text = export_logic.filing_csv(readiness, duplicate_lines(s, cid), check)
        audit(s, staff_actor(staff), "export.filing", cid,
              f"{len(readiness.sections)} sections, ready={readiness.ready}, final={check.ready}")
    # Never "final" while the filing check finds anything (the file's last table says what).
    name = "filing.csv" if check.ready else "filing-DRAFT.csv"
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "X-Canvass-Filing": "final" if check.ready else "draft"})


@router.get("/retention", response_model=RetentionView)
def get_retention(staff: AdminStaff, svc: ServicesDep, campaign_id: str | None = Query(None)) -> dict:
    cid = campaign_for(staff, campaign_id)
    with svc.db.write() as s:
        campaign = _campaign(s, cid)
        return retention_view(intake_settings(s, cid), campaign)


@router.put("/retention", response_model=RetentionView)
def set_retention(body: RetentionRequest, staff: AdminStaff, svc: ServicesDep,
                  campaign_id: str | None = Query(None)) -> dict:
    cid = campaign_for(staff, campaign_id)
    with svc.db.write() as s:
        campaign = _campaign(s, cid)
        row = intake_settings(s, cid)
        row.retention_days = body.retention_days
        row.filed_on = body.filed_on.isoformat() if body.filed_on else ""
        audit(s, staff_actor(staff), "retention.set", cid, f"{body.retention_days} days")
        return retention_view(row, campaign)


@router.post("/retention/purge", response_model=PurgeView)
def purge(staff: AdminStaff, svc: ServicesDep, body: PurgeRequest | None = None,
          campaign_id: str | None = Query(None)) -> dict:
    cid = campaign_for(staff, campaign_id)
    with svc.db.read() as s:
        campaign = _campaign(s, cid)
        row = s.get(IntakeSettings, cid) or IntakeSettings(retention_days=90, filed_on="", purged=False)
        due = retention_view(row, campaign)["purge_due"]
    if not due:
        raise ProblemError(PURGE_NOT_DUE)
    if body is None or body.confirm != cid:
        raise ProblemError(PURGE_NOT_CONFIRMED)
    report = purge_campaign(svc.db, cid, timezone=svc.settings.timezone, actor=staff_actor(staff),
                            candidates=svc.candidates)
    return {"purged_entries": report.entries, "voter_records": report.voter_records,
            "compacted": report.compacted}
