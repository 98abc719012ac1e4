"""The answers of the dashboard routes (sync.server.routes.dashboard), apart from HTTP: the
campaign and teams a request reads, the device rows and drive progress as of one snapshot,
and the registrar simulation (cached by value)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from zoneinfo import ZoneInfo

from sync.problem_codes import NOT_FOUND
from sync.reports.devices import DeviceRow, device_rows
from sync.reports.progress import Progress, compute_progress
from sync.reports.quality import CirculatorActivity
from sync.reports.registrar import SimulationResult, simulate
from sync.server import dashboard as q
from sync.server.auth import StaffIdentity, campaign_for, staff_teams
from sync.server.caches import SharedCache
from sync.server.problems import ProblemError
from sync.server.services import Services


class Scope:
    def __init__(self, info: q.CampaignInfo, teams: set[str] | None) -> None:
        self.info, self.teams = info, teams


def scope_for(svc: Services, staff: StaffIdentity, campaign_id: str | None) -> Scope:
    """The campaign and teams a dashboard request reads: scoped like every staff route
    (auth.campaign_for, auth.staff_teams); only an admin of every campaign who names none
    gets the first campaign."""
    with svc.db.read() as s:
        if staff.campaign_id is None and staff.role == "admin" and not campaign_id:
            cid = q.first_campaign_id(s)
        else:
            cid = campaign_for(staff, campaign_id)
        info = q.campaign_info(s, cid, timezone=svc.settings.timezone) if cid else None
    teams = staff_teams(staff)
    if info is None:
        raise ProblemError(NOT_FOUND, "No such campaign.")
    return Scope(info, teams)


def scope_dict(scope: Scope) -> dict:
    """What the figures cover: the whole drive (teams None) or these teams only."""
    return {"teams": None if scope.teams is None else sorted(scope.teams)}


def campaign_dict(info: q.CampaignInfo) -> dict:
    return {"id": info.id, "name": info.name, "goal": info.goal,
            "deadline": info.deadline.isoformat(), "validity_rate": info.validity_rate,
            "stale_after_minutes": info.stale_after_minutes, "timezone": info.timezone}


def read_session(svc: Services, scope: Scope, now: datetime):
    """A read session (the caller makes it one snapshot with ``q.snapshot(s)``). One replica
    keeps the rollup up to date in the background (sync.server.background) and the queries
    add the not-yet-rolled tail; a GET refreshes first (a write) only when that would not be
    exact: no rollup yet, or a settled entry changed since the last refresh."""
    with svc.db.read() as s:
        current = q.rollup_is_current(s, scope.info)
    if not current:
        q.refresh_rollup(svc.db, scope.info, now)
    return svc.db.read()


def device_table(svc: Services, scope: Scope, now: datetime) -> list[DeviceRow]:
    with read_session(svc, scope, now) as s:
        q.snapshot(s)
        devices = q.devices_in_scope(s, scope.info, scope.teams)
        stats = q.device_stats(s, scope.info, devices, now)
    return device_rows(stats, now, scope.info.stale_after_minutes)


def drive_progress(svc: Services, scope: Scope, now: datetime) -> Progress:
    with read_session(svc, scope, now) as s:
        q.snapshot(s)
        # A team lead's figures are their teams' devices' (None: the whole drive).
        devices = None if scope.teams is None else q.devices_in_scope(s, scope.info, scope.teams)
        t = q.drive_totals(s, scope.info, devices=devices)
    today = now.astimezone(ZoneInfo(scope.info.timezone)).date()
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


def simulation_for(p: Progress, trials: int, cache: SharedCache) -> SimulationResult:
    """The registrar simulation of the drive as it stands; the same figures are simulated
    once (cached by value in ``cache``, the Services' ``simulations``; seeded, so the answer
    never changes between refreshes)."""
    rate = p.effective_validity_rate if p.unique_signers else p.validity_rate
    key = (p.raw_entries, p.unique_signers, p.rejected, p.withdrawn, rate, p.goal, trials)
    hit = cache.get(key)
    if hit is None:
        hit = simulate(raw=p.raw_entries, unique=p.unique_signers, rejected=p.rejected,
                       validity_rate=rate, required=p.goal, trials=trials, withdrawn=p.withdrawn)
        cache.put(key, hit)
    return hit


def simulation_dict(sim: SimulationResult) -> dict:
    return asdict(sim)


def circulator_activity(svc: Services, scope: Scope, now: datetime, *,
                        teams: set[str] | None) -> list[CirculatorActivity]:
    """The activity of the circulators of ``teams``' devices (None: every device)."""
    with read_session(svc, scope, now) as s:
        q.snapshot(s)
        return q.circulator_activity(s, scope.info, q.devices_in_scope(s, scope.info, teams))
