"""The team lead dashboard API (read only), under /v1/dashboard.

Who may read it: staff sessions of role ``admin`` (the campaign director: every campaign, every
team) and ``team_lead`` (their own campaign; devices, circulators and flags of their own
team(s) only: the device table, the flags and the progress figures are their teams', and
every answer says its scope). A device token gets 403, no token 401 (the server's auth dependencies).

Every answer carries ``computed_at`` (server time, UTC). Searching by circulator is done by
the client on the rows it received, so no name ever travels in a URL.
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import Response

from sync.domain import utcnow
from sync.reports.csv_export import dashboard_csv
from sync.reports.devices import SORT_KEYS, filter_rows, sort_rows, team_names
from sync.reports.quality import quality_flags
from sync.server.dashboard.schemas import (
    DashboardDevicesView,
    DashboardFilingView,
    DashboardProgressView,
    DashboardQualityView,
    DashboardSimulationView,
)
from sync.server.dashboard.views import (
    campaign_dict,
    circulator_activity,
    device_table,
    drive_progress,
    progress_dict,
    scope_dict,
    scope_for,
    simulation_dict,
    simulation_for,
)
from sync.server.deps import DashboardReader, ServicesDep
from sync.server.filing import readiness_and_check
from sync.server.routes import CSVResponse

router = APIRouter(prefix="/v1/dashboard", tags=["dashboard"])

CampaignParam = Query(None, max_length=64, description="admins of every campaign only; default: "
                      "the first campaign")
TeamParam = Query(None, max_length=100)


@router.get("/devices", response_model=DashboardDevicesView)
def devices(staff: DashboardReader, svc: ServicesDep,
            campaign_id: str | None = CampaignParam, team: str | None = TeamParam,
            sort: str = Query("team", pattern="^(" + "|".join(SORT_KEYS) + ")$"),
            descending: bool = False, stale_only: bool = False) -> dict:
    scope = scope_for(svc, staff, campaign_id)
    now = utcnow()
    rows = device_table(svc, scope, now)
    teams = team_names(rows)
    rows = sort_rows(filter_rows(rows, team=team, stale_only=stale_only), sort, descending)
    return {"computed_at": now.isoformat(), "campaign": campaign_dict(scope.info),
            "scope": scope_dict(scope), "teams": teams, "stale_count": sum(r.stale for r in rows),
            "rows": [r.as_dict() for r in rows]}


@router.get("/progress", response_model=DashboardProgressView)
def progress(staff: DashboardReader, svc: ServicesDep,
             campaign_id: str | None = CampaignParam) -> dict:
    scope = scope_for(svc, staff, campaign_id)
    now = utcnow()
    return {"computed_at": now.isoformat(), "campaign": campaign_dict(scope.info),
            "scope": scope_dict(scope), "progress": progress_dict(drive_progress(svc, scope, now))}


@router.get("/filing", response_model=DashboardFilingView)
def filing(staff: DashboardReader, svc: ServicesDep,
           campaign_id: str | None = CampaignParam) -> dict:
    """How many things block filing (sync.intake.filing_check): the drive's, whatever the
    caller's teams, since every section is filed at once (EC 11222(a)); a count only. Its own
    route: it reads every section line, which /progress (the rollup's) never does."""
    scope = scope_for(svc, staff, campaign_id)
    now = utcnow()
    with svc.db.read() as s:
        _readiness, check = readiness_and_check(s, scope.info.id, timezone=scope.info.timezone)
    return {"computed_at": now.isoformat(), "campaign": campaign_dict(scope.info),
            "scope": scope_dict(scope),
            "filing": {"ready": check.ready, "final": check.ready, "blocking": check.blocking}}


@router.get("/simulation", response_model=DashboardSimulationView)
def simulation(staff: DashboardReader, svc: ServicesDep,
               campaign_id: str | None = CampaignParam, trials: int = Query(1000, ge=10, le=5000)) -> dict:
    scope = scope_for(svc, staff, campaign_id)
    now = utcnow()
    p = drive_progress(svc, scope, now)
    simulated = simulation_for(p, trials, svc.simulations)
    return {"computed_at": now.isoformat(), "simulation": simulation_dict(simulated)}


@router.get("/quality", response_model=DashboardQualityView)
def quality(staff: DashboardReader, svc: ServicesDep,
            campaign_id: str | None = CampaignParam) -> dict:
    scope = scope_for(svc, staff, campaign_id)
    now = utcnow()
    # The reference rate is the whole drive's, whatever the team in view: one query over
    # every device, then the team's circulators (a circulator's devices share a team).
    drive = circulator_activity(svc, scope, now, teams=None)
    activity = drive if scope.teams is None else [a for a in drive if a.team in scope.teams]
    total = sum(a.entries for a in drive)
    drive_rate = sum(a.duplicates for a in drive) / total if total else 0.0
    flags = quality_flags(activity, drive_rate)
    return {"computed_at": now.isoformat(), "drive_duplicate_rate": round(drive_rate, 4),
            "flags": [f.as_dict() for f in flags]}


@router.get("/export.csv", response_class=CSVResponse)
def export_csv(staff: DashboardReader, svc: ServicesDep, campaign_id: str | None = CampaignParam,
               trials: int = Query(1000, ge=10, le=5000)) -> Response:
    scope = scope_for(svc, staff, campaign_id)
    now = utcnow()
    rows = sort_rows(device_table(svc, scope, now), "team")
    p = drive_progress(svc, scope, now)
    activity = circulator_activity(svc, scope, now, teams=scope.teams)
    text = dashboard_csv(computed_at=now, progress=p, devices=rows, flags=quality_flags(activity),
                         simulation=simulation_for(p, trials, svc.simulations))
    stamp = now.strftime("%Y%m%dT%H%MZ")
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="dashboard-{stamp}.csv"',
        "Cache-Control": "no-store"})
