"""Administrative operations shared by the CLI and the test helpers: campaigns, users,
enrollment codes, device revocation. Each runs in one write transaction and audits itself."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from sync.crypto import new_key, unwrap_key, wrap_key
from sync.domain import utcnow
from sync.ids import new_uuid7
from sync.jurisdiction import load_jurisdiction, parse_zip5
from sync.server.audit import audit
from sync.server.db import Database
from sync.server.keys import ServerKeys
from sync.server.models import Campaign, Device, EnrollCode, StaffSession, User
from sync.server.tokens import code_hash, hash_password, new_enroll_code

ROLES = ("admin", "team_lead", "intake")


class AdminError(Exception):
    """A refused administrative request (message safe to print)."""


def index_key_label(campaign_id: str, key_id: int) -> str:
    return f"canvass/index-key/{campaign_id}/{key_id}"


def wrapping_key(keys: ServerKeys) -> bytes:
    return keys.subkey("canvass/wrap/v1")


def campaign_index_key(keys: ServerKeys, campaign: Campaign) -> bytes:
    return unwrap_key(wrapping_key(keys), campaign.index_key_wrapped,
                      label=index_key_label(campaign.id, campaign.index_key_id))


def create_campaign(db: Database, keys: ServerKeys, *, name: str, goal: int, deadline: str,
                    jurisdiction: str = "los_angeles_county", validity_rate: float = 0.726,
                    jurisdiction_zips: list[str] | None = None, actor: str = "cli") -> str:
    try:
        datetime.strptime(deadline, "%Y-%m-%d")
    except ValueError:
        raise AdminError("deadline must be an ISO date YYYY-MM-DD") from None
    if goal <= 0 or not 0 < validity_rate <= 1:
        raise AdminError("goal must be positive and validity rate in (0, 1]")
    if jurisdiction_zips:
        if any(parse_zip5(z) is None for z in jurisdiction_zips):
            raise AdminError("jurisdiction ZIP list has an item that is not a ZIP")
    else:
        try:
            load_jurisdiction(jurisdiction)
        except (ValueError, OSError):
            raise AdminError("unknown jurisdiction") from None
    campaign_id = new_uuid7()
    wrapped = wrap_key(wrapping_key(keys), new_key(), label=index_key_label(campaign_id, 1))
    with db.write() as s:
        s.add(Campaign(id=campaign_id, name=name, goal=goal, deadline=deadline,
                       jurisdiction=jurisdiction,
                       jurisdiction_zips=json.dumps(jurisdiction_zips) if jurisdiction_zips else "",
                       validity_rate=validity_rate, settings_json="{}", index_key_wrapped=wrapped,
                       index_key_id=1, created_at=utcnow()))
        audit(s, actor, "campaign.create", campaign_id)
    return campaign_id


MIN_PASSPHRASE = 12  # characters; a staff passphrase guards every signer of a campaign


def add_user(db: Database, *, username: str, password: str, role: str,
             campaign_id: str | None = None, team: str = "", actor: str = "cli") -> str:
    if role not in ROLES:
        raise AdminError(f"role must be one of {', '.join(ROLES)}")
    if not username or len(username) > 100 or "\x00" in username:
        raise AdminError("username must be 1-100 characters")
    if not MIN_PASSPHRASE <= len(password) <= 200:
        raise AdminError(f"the passphrase must be {MIN_PASSPHRASE}-200 characters")
    if role != "admin" and campaign_id is None:
        raise AdminError("team_lead and intake users need --campaign")
    user_id = new_uuid7()
    with db.write() as s:
        if campaign_id is not None and s.get(Campaign, campaign_id) is None:
            raise AdminError("unknown campaign")
        if s.scalar(select(User.id).where(User.username == username)) is not None:
            raise AdminError("username already exists")
        s.add(User(id=user_id, username=username, password_hash=hash_password(password), role=role,
                   campaign_id=campaign_id, team=team, disabled=False, created_at=utcnow()))
        audit(s, actor, "user.add", user_id, role)
    return user_id


@dataclass(frozen=True)
class IssuedCode:
    code: str
    expires_at: datetime


def create_enroll_code(db: Database, keys: ServerKeys, *, campaign_id: str, circulator: str,
                       ttl_hours: float = 72, team: str = "", actor: str = "cli") -> IssuedCode:
    """A one-time code; the device enrolled with it belongs to ``team`` ("" = no team)."""
    if not circulator or len(circulator) > 100:
        raise AdminError("circulator must be 1-100 characters")
    team = team.strip()
    if len(team) > 100 or "," in team:
        raise AdminError("team must be at most 100 characters, without commas")
    if ttl_hours <= 0:
        raise AdminError("ttl must be positive")
    code = new_enroll_code()
    now = utcnow()
    expires = now + timedelta(hours=ttl_hours)
    with db.write() as s:
        if s.get(Campaign, campaign_id) is None:
            raise AdminError("unknown campaign")
        s.add(EnrollCode(code_hash=code_hash(keys.subkey("canvass/enroll-code/v1"), code),
                         campaign_id=campaign_id, circulator=circulator, team=team, created_at=now,
                         expires_at=expires))
        audit(s, actor, "enroll_code.create", campaign_id)
    return IssuedCode(code, expires)


def revoke_device(db: Database, device_id: str, *, actor: str = "cli") -> bool:
    with db.write() as s:
        device = s.get(Device, device_id)
        if device is None:
            raise AdminError("unknown device")
        if device.revoked_at is None:
            device.revoked_at = utcnow()
        audit(s, actor, "device.revoke", device_id)
    return True


def _user_id(s, username: str) -> str:
    user_id = s.scalar(select(User.id).where(User.username == username))
    if user_id is None:
        raise AdminError("unknown user")
    return user_id


def revoke_sessions(db: Database, username: str, *, actor: str = "cli") -> int:
    """End every session of ``username`` at once (their next request is a 401)."""
    with db.write() as s:
        user_id = _user_id(s, username)
        ended = s.execute(delete(StaffSession).where(StaffSession.user_id == user_id)).rowcount
        audit(s, actor, "user.sessions_revoke", user_id, f"{ended} sessions")
    return int(ended or 0)


def disable_user(db: Database, username: str, *, actor: str = "cli") -> None:
    """No more logins for ``username``, and every open session ended."""
    with db.write() as s:
        user_id = _user_id(s, username)
        s.execute(update(User).where(User.id == user_id).values(disabled=True))
        s.execute(delete(StaffSession).where(StaffSession.user_id == user_id))
        audit(s, actor, "user.disable", user_id)


def delete_expired_sessions(s, now: datetime) -> int:
    """Expired staff sessions are deleted, not kept: called at each login."""
    return int(s.execute(delete(StaffSession).where(StaffSession.expires_at < now)).rowcount or 0)
