"""The team lead dashboard API (read only), under /v1/dashboard.

Who may read it: staff sessions of role ``admin`` (the campaign director: every campaign, every
team) and ``team_lead`` (their own campaign; devices, circulators and flags of their own
team(s) only: the device table, the flags and the progress figures are their teams', and
every answer says its scope). A device token gets 403, no token 401 (the server's auth dependencies).

Every answer carries ``computed_at`` (server time, UTC). Searching by circulator is done by
the client on the rows it received, so no name ever travels in a URL.
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from datetime import datetime

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from sync.domain import utcnow
from sync.reports.csv_export import dashboard_csv
from sync.reports.devices import SORT_KEYS, DeviceRow, device_rows, filter_rows, sort_rows, team_names
from sync.reports.progress import Progress, compute_progress
from sync.reports.quality import quality_flags
from sync.reports.registrar import SimulationResult, simulate
from sync.server import dashboard_queries as q
from sync.server.auth import StaffIdentity, campaign_for, require_roles, services, staff_teams
from sync.server.problems import ProblemError
from sync.server.services import Services

router = APIRouter(prefix="/v1/dashboard", tags=["dashboard"])

DASHBOARD_ROLES = ("admin", "team_lead")
dashboard_reader = require_roles(*DASHBOARD_ROLES)

CampaignParam = Query(None, max_length=64, description="admins of every campaign only; default: "
                      "the first campaign")
TeamParam = Query(None, max_length=100)


class _Scope:
    def __init__(self, info: q.CampaignInfo, teams: set[str] | None) -> None:
        self.info, self.teams = info, teams


def _scope(svc: Services, staff: StaffIdentity, campaign_id: str | None) -> _Scope:
    """The campaign and teams a dashboard request reads: scoped like every staff route
    (auth.campaign_for, auth.staff_teams); only an admin of every campaign who names none
    gets the first campaign."""
    with svc.db.read() as s:
        if staff.campaign_id is None and staff.role == "admin" and not campaign_id:
            cid = q.first_campaign_id(s)
        else:
            cid = campaign_for(staff, campaign_id)
        info = q.campaign_info(s, cid) if cid else None
    teams = staff_teams(staff)
    if info is None:
        raise ProblemError(404, "not_found", "No such campaign.")
    return _Scope(info, teams)


def scope_dict(scope: _Scope) -> dict:
    """What the figures cover: the whole drive (teams None) or these teams only."""
    return {"teams": None if scope.teams is None else sorted(scope.teams)}


def _campaign_dict(info: q.CampaignInfo) -> dict:
    return {"id": info.id, "name": info.name, "goal": info.goal,
            "deadline": info.deadline.isoformat(), "validity_rate": info.validity_rate,
            "stale_after_minutes": info.stale_after_minutes, "timezone": info.timezone}


def _read(svc: Services, scope: _Scope, now: datetime):
    """A read session (the caller makes it one snapshot with ``q.snapshot(s)``). One replica
    keeps the rollup up to date in the background (sync.server.background) and the queries
    add the not-yet-rolled tail; a GET refreshes first (a write) only when that would not be
    exact: no rollup yet, or a settled entry changed since the last refresh."""
    with svc.db.read() as s:
        current = q.rollup_is_current(s, scope.info)
    if not current:
        q.refresh_rollup(svc.db, scope.info, now)
    return svc.db.read()


def _rows(svc: Services, scope: _Scope, now: datetime) -> list[DeviceRow]:
    with _read(svc, scope, now) as s:
        q.snapshot(s)
        devices = q.devices_in_scope(s, scope.info, scope.teams)
        stats = q.device_stats(s, scope.info, devices, now)
    return device_rows(stats, now, scope.info.stale_after_minutes)


def _progress(svc: Services, scope: _Scope, now: datetime) -> Progress:
    with _read(svc, scope, now) as s:
        q.snapshot(s)
        # A team lead's figures are their teams' devices' (None: the whole drive).
        devices = None if scope.teams is None else q.devices_in_scope(s, scope.info, scope.teams)
        t = q.drive_totals(s, scope.info, devices=devices)
    today = now.astimezone(q.ZoneInfo(scope.info.timezone)).date()
    return compute_progress(raw_entries=t.raw, unique_signers=t.unique, rejected=t.rejected,
                            checked=t.checked, registered=t.registered,
                            validity_rate=scope.info.validity_rate, goal=scope.info.goal,
                            deadline=scope.info.deadline, today=today, days=t.days,
                            withdrawn=t.withdrawn)


def progress_dict(p: Progress) -> dict:
    data = asdict(p)
    data["deadline"], data["today"] = p.deadline.isoformat(), p.today.isoformat()
    data["series"] = [[d.isoformat(), v] for d, v in p.series]
    return data


_sim_cache: dict[tuple, SimulationResult] = {}
_sim_lock = threading.Lock()


def simulation_for(p: Progress, trials: int) -> SimulationResult:
    """The registrar simulation of the drive as it stands; the same figures are simulated
    once (cached by value, seeded so the answer never changes between refreshes)."""
    rate = p.effective_validity_rate if p.unique_signers else p.validity_rate
    key = (p.raw_entries, p.unique_signers, p.rejected, p.withdrawn, rate, p.goal, trials)
    with _sim_lock:
        hit = _sim_cache.get(key)
    if hit is None:
        hit = simulate(raw=p.raw_entries, unique=p.unique_signers, rejected=p.rejected,
                       validity_rate=rate, required=p.goal, trials=trials, withdrawn=p.withdrawn)
        with _sim_lock:
            if len(_sim_cache) > 256:
                _sim_cache.clear()
            _sim_cache[key] = hit
    return hit


def simulation_dict(sim: SimulationResult) -> dict:
    return asdict(sim)


@router.get("/devices")
def devices(campaign_id: str | None = CampaignParam, team: str | None = TeamParam,
            sort: str = Query("team", pattern="^(" + "|".join(SORT_KEYS) + ")$"),
            descending: bool = False, stale_only: bool = False,
            staff: StaffIdentity = Depends(dashboard_reader),
            svc: Services = Depends(services)) -> dict:
    scope = _scope(svc, staff, campaign_id)
    now = utcnow()
    rows = _rows(svc, scope, now)
    teams = team_names(rows)
    rows = sort_rows(filter_rows(rows, team=team, stale_only=stale_only), sort, descending)
    return {"computed_at": now.isoformat(), "campaign": _campaign_dict(scope.info),
            "scope": scope_dict(scope), "teams": teams, "stale_count": sum(r.stale for r in rows),
            "rows": [r.as_dict() for r in rows]}


@router.get("/progress")
def progress(campaign_id: str | None = CampaignParam,
             staff: StaffIdentity = Depends(dashboard_reader),
             svc: Services = Depends(services)) -> dict:
    scope = _scope(svc, staff, campaign_id)
    now = utcnow()
    return {"computed_at": now.isoformat(), "campaign": _campaign_dict(scope.info),
            "scope": scope_dict(scope), "progress": progress_dict(_progress(svc, scope, now))}


@router.get("/filing")
def filing(campaign_id: str | None = CampaignParam,
           staff: StaffIdentity = Depends(dashboard_reader),
           svc: Services = Depends(services)) -> dict:
    """How many things block filing (sync.intake.filing_check): the drive's, whatever the
    caller's teams, since every section is filed at once (EC 11222(a)); a count only. Its own
    route: it reads every section line, which /progress (the rollup's) never does."""
    from sync.server.filing import readiness_and_check

    scope = _scope(svc, staff, campaign_id)
    now = utcnow()
    with svc.db.read() as s:
        _readiness, check = readiness_and_check(s, scope.info.id)
    return {"computed_at": now.isoformat(), "campaign": _campaign_dict(scope.info),
            "scope": scope_dict(scope),
            "filing": {"ready": check.ready, "final": check.ready, "blocking": check.blocking}}


@router.get("/simulation")
def simulation(campaign_id: str | None = CampaignParam, trials: int = Query(1000, ge=10, le=5000),
               staff: StaffIdentity = Depends(dashboard_reader),
               svc: Services = Depends(services)) -> dict:
    scope = _scope(svc, staff, campaign_id)
    now = utcnow()
    p = _progress(svc, scope, now)
    return {"computed_at": now.isoformat(), "simulation": simulation_dict(simulation_for(p, trials))}


@router.get("/quality")
def quality(campaign_id: str | None = CampaignParam,
            staff: StaffIdentity = Depends(dashboard_reader),
            svc: Services = Depends(services)) -> dict:
    scope = _scope(svc, staff, campaign_id)
    now = utcnow()
    with _read(svc, scope, now) as s:
        q.snapshot(s)
        # The reference rate is the whole drive's, whatever the team in view: one query over
        # every device, then the team's circulators (a circulator's devices share a team).
        drive = q.circulator_activity(s, scope.info, q.devices_in_scope(s, scope.info, None))
    activity = drive if scope.teams is None else [a for a in drive if a.team in scope.teams]
    total = sum(a.entries for a in drive)
    drive_rate = sum(a.duplicates for a in drive) / total if total else 0.0
    flags = quality_flags(activity, drive_rate)
    return {"computed_at": now.isoformat(), "drive_duplicate_rate": round(drive_rate, 4),
            "flags": [f.as_dict() for f in flags]}


@router.get("/export.csv")
def export_csv(campaign_id: str | None = CampaignParam, trials: int = Query(1000, ge=10, le=5000),
               staff: StaffIdentity = Depends(dashboard_reader),
               svc: Services = Depends(services)) -> Response:
    scope = _scope(svc, staff, campaign_id)
    now = utcnow()
    rows = sort_rows(_rows(svc, scope, now), "team")
    p = _progress(svc, scope, now)
    with _read(svc, scope, now) as s:
        q.snapshot(s)
        activity = q.circulator_activity(s, scope.info, q.devices_in_scope(s, scope.info, scope.teams))
    text = dashboard_csv(computed_at=now, progress=p, devices=rows, flags=quality_flags(activity),
                         simulation=simulation_for(p, trials))
    stamp = now.strftime("%Y%m%dT%H%MZ")
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="dashboard-{stamp}.csv"',
        "Cache-Control": "no-store"})
