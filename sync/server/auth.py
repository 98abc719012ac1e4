"""Credentials: device bearer tokens and staff session tokens, as FastAPI dependencies.

Every failure is a bare 401 problem (missing, forged, expired, revoked all look alike to the
caller). A valid credential of the wrong kind (a device token on a staff endpoint, or the
reverse) is 403, as is a staff role that may not use the endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Depends, Request
from sqlalchemy import select, update

from sync.domain import as_utc, utcnow
from sync.problem_codes import CAMPAIGN_REQUIRED, FORBIDDEN, RATE_LIMITED, UNAUTHORIZED, WRONG_CREDENTIAL
from sync.server.models import Device, StaffSession, User
from sync.server.problems import ProblemError
from sync.server.services import Services
from sync.server.tokens import token_hash

_UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


def services(request: Request) -> Services:
    return request.app.state.services


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        raise ProblemError(UNAUTHORIZED, headers=_UNAUTHORIZED)
    return token


@dataclass(frozen=True)
class DeviceIdentity:
    device_id: str
    campaign_id: str
    # A device's batches are charged to its budget by entries; the office's keyed lines and
    # imports, and bundles an admin imports, are staff work (False): a 100,000-row import
    # must not stop at a tablet's budget.
    metered: bool = True


@dataclass(frozen=True)
class StaffIdentity:
    user_id: str
    username: str
    role: str
    campaign_id: str | None
    team: str
    session_hash: str = ""  # the session this request came with (logout ends it)


def _find_device(svc: Services, hashed: str) -> Device | None:
    with svc.db.read() as s:
        return s.scalar(select(Device).where(Device.token_hash == hashed))


def _find_staff(svc: Services, hashed: str) -> tuple[StaffSession, User] | None:
    with svc.db.read() as s:
        row = s.execute(select(StaffSession, User).join(User, User.id == StaffSession.user_id)
                        .where(StaffSession.token_hash == hashed)).first()
        return (row[0], row[1]) if row else None


def _staff_valid(found: tuple[StaffSession, User] | None) -> bool:
    return found is not None and not found[1].disabled and as_utc(found[0].expires_at) > utcnow()


def session_deadline(svc: Services, created_at: datetime, now: datetime) -> datetime:
    """A session ends ``session_idle_minutes`` after its last request, and at the latest
    ``session_hours`` after login."""
    settings = svc.settings
    return min(as_utc(created_at) + timedelta(hours=settings.session_hours),
               now + timedelta(minutes=settings.session_idle_minutes))


def _touch(svc: Services, session: StaffSession) -> None:
    """Push the idle deadline on (written at most about once a minute per session)."""
    now = utcnow()
    deadline = session_deadline(svc, session.created_at, now)
    step = min(timedelta(minutes=1), timedelta(minutes=svc.settings.session_idle_minutes) / 4)
    if deadline - as_utc(session.expires_at) > step:
        with svc.db.write() as s:
            s.execute(update(StaffSession).where(StaffSession.token_hash == session.token_hash)
                      .values(expires_at=deadline))


def current_device(request: Request, svc: Services = Depends(services)) -> DeviceIdentity:
    hashed = token_hash(_bearer(request))
    device = _find_device(svc, hashed)
    if device is None or device.revoked_at is not None:
        if device is None and _staff_valid(_find_staff(svc, hashed)):
            raise ProblemError(WRONG_CREDENTIAL, "This endpoint is for enrolled devices.")
        raise ProblemError(UNAUTHORIZED, headers=_UNAUTHORIZED)
    charge_device(svc, device.id)
    return DeviceIdentity(device.id, device.campaign_id)


def charge_device(svc: Services, device_id: str, cost: float = 1.0, buckets=None, *,
                  session=None) -> None:
    """Take ``cost`` tokens from the device's bucket (one a request; a batch pays one more per
    entry beyond the first, ingest.py), or refuse with 429 and the seconds to wait.
    ``buckets``: another per-device budget (the door-step checks'), the device's by default."""
    wait = (buckets or svc.device_buckets).take(device_id, cost, session=session)
    if wait:
        raise ProblemError(RATE_LIMITED, "Too many requests.",
                           headers={"Retry-After": str(max(1, int(wait + 0.999)))})


def staff_of_session(svc: Services, session_hash: str) -> StaffIdentity | None:
    """The staff member of a live session (not ended, not expired, account not disabled)."""
    found = _find_staff(svc, session_hash)
    if not _staff_valid(found):
        return None
    session, user = found
    return StaffIdentity(user.id, user.username, user.role, user.campaign_id, user.team,
                         session.token_hash)


def current_staff(request: Request, svc: Services = Depends(services)) -> StaffIdentity:
    hashed = token_hash(_bearer(request))
    found = _find_staff(svc, hashed)
    if not _staff_valid(found):
        device = _find_device(svc, hashed) if found is None else None
        if device is not None and device.revoked_at is None:
            raise ProblemError(WRONG_CREDENTIAL, "This endpoint is for staff accounts.")
        raise ProblemError(UNAUTHORIZED, headers=_UNAUTHORIZED)
    session, user = found
    _touch(svc, session)
    return StaffIdentity(user.id, user.username, user.role, user.campaign_id, user.team,
                         session.token_hash)


def campaign_for(staff: StaffIdentity, campaign_id: str | None) -> str:
    """The campaign a staff request acts on: the staff member's own (naming another is 403),
    or -- for an admin of every campaign only -- the one named. Every staff route scopes
    through this (intake, review, dashboard)."""
    if staff.campaign_id is not None:
        if campaign_id not in (None, "", staff.campaign_id):
            raise ProblemError(FORBIDDEN, "That campaign is not yours.")
        return staff.campaign_id
    if not campaign_id:
        raise ProblemError(CAMPAIGN_REQUIRED)
    return campaign_id


def staff_teams(staff: StaffIdentity) -> set[str] | None:
    """The teams a staff member may see: None (all) except for a team lead, who sees the
    teams named on the account (comma separated) and no others."""
    if staff.role != "team_lead":
        return None
    return {t.strip() for t in (staff.team or "").split(",") if t.strip()}


def require_roles(*roles: str):
    def _check(staff: StaffIdentity = Depends(current_staff)) -> StaffIdentity:
        if staff.role not in roles:
            raise ProblemError(FORBIDDEN, "Your role may not use this endpoint.")
        return staff
    return _check
