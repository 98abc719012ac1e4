"""Device enrollment and heartbeat."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from sqlalchemy import select

from sync.domain import as_utc, utcnow
from sync.ids import new_uuid7
from sync.problem_codes import INVALID_ENROLL_CODE, RATE_LIMITED
from sync.protocol import (
    PATH_ENROLL,
    PATH_HEARTBEAT,
    CampaignSettings,
    EnrollRequest,
    EnrollResponse,
    HeartbeatRequest,
    HeartbeatResponse,
)
from sync.server.admin import campaign_index_key
from sync.server.audit import audit
from sync.server.deps import CurrentDevice, ServicesDep
from sync.server.models import Campaign, Device, EnrollCode
from sync.server.problems import ProblemError
from sync.server.ratelimit import client_address
from sync.server.services import Services
from sync.server.tokens import code_hash, new_token, token_hash
from sync.voters.keys import registration_subkey

router = APIRouter(tags=["devices"])


def campaign_settings(campaign: Campaign) -> CampaignSettings:
    extra = json.loads(campaign.settings_json or "{}")
    zips = json.loads(campaign.jurisdiction_zips) if campaign.jurisdiction_zips else []
    return CampaignSettings(campaign_id=campaign.id, name=campaign.name, goal=campaign.goal,
                            deadline=campaign.deadline, jurisdiction=campaign.jurisdiction,
                            jurisdiction_zips=zips, expected_validity_rate=campaign.validity_rate,
                            **extra)


def client_ip(request: Request) -> str:
    """The client's address: X-Forwarded-For is believed only from the trusted proxies the
    server is configured with (Settings.trusted_proxies), never from anyone else."""
    peer = request.client.host if request.client else "unknown"
    trusted = request.app.state.services.trusted_networks
    return client_address(peer, request.headers.get("x-forwarded-for"), trusted)


def from_own_app(request: Request) -> bool:
    """A call of the staff web app running inside this server: from the server's own address
    (app.state.own_url), not through a proxy. Its logins carry every staff member's attempts
    from one address, so they are limited per account only (people.py)."""
    own = urlsplit(getattr(request.app.state, "own_url", "") or "").hostname
    peer = request.client.host if request.client else None
    return bool(own) and peer == own and "x-forwarded-for" not in request.headers


def rate_limit(svc: Services, key: str) -> None:
    wait = svc.login_buckets.take(key)
    if wait:
        raise ProblemError(RATE_LIMITED, "Too many attempts; wait and retry.",
                           headers={"Retry-After": str(max(1, int(wait + 0.999)))})


@router.post(PATH_ENROLL, response_model=EnrollResponse)
def enroll(body: EnrollRequest, request: Request, svc: ServicesDep) -> EnrollResponse:
    limit_key = f"enroll-ip:{client_ip(request)}"
    rate_limit(svc, limit_key)
    hashed = code_hash(svc.code_key, body.code)
    token = new_token()
    device_id = new_uuid7()
    now = utcnow()
    with svc.db.write() as s:
        code = s.scalar(select(EnrollCode).where(EnrollCode.code_hash == hashed).with_for_update())
        if code is None or code.used_at is not None or as_utc(code.expires_at) <= now:
            audit(s, "anonymous", "device.enroll_failed")
            s.commit()
            raise ProblemError(INVALID_ENROLL_CODE)
        campaign = s.get(Campaign, code.campaign_id)
        code.used_at, code.device_id = now, device_id
        s.add(Device(id=device_id, campaign_id=campaign.id, circulator=code.circulator,
                     team=code.team or "", name=body.device_name, token_hash=token_hash(token),
                     enrolled_at=now, pending_count=0, last_device_seq=0, app_version=""))
        audit(s, f"device:{device_id}", "device.enroll", device_id, campaign.id)
        settings = campaign_settings(campaign)
        index_key = campaign_index_key(svc.settings.keys, campaign)
        key_id, circulator = campaign.index_key_id, code.circulator
    svc.login_buckets.give_back(limit_key)  # a valid code was no guess
    return EnrollResponse(device_id=device_id, device_token=token, circulator=circulator,
                          campaign=settings,
                          registration_key=base64.b64encode(registration_subkey(index_key)).decode(),
                          index_key_id=key_id, server_public_key=svc.settings.keys.box_public_b64)


@router.post(PATH_HEARTBEAT, response_model=HeartbeatResponse)
def heartbeat(body: HeartbeatRequest, device: CurrentDevice, svc: ServicesDep) -> HeartbeatResponse:
    now = utcnow()
    with svc.db.write() as s:
        row = s.get(Device, device.device_id)
        row.pending_count, row.last_device_seq = body.pending_count, body.last_device_seq
        row.app_version, row.last_seen_at = body.app_version, now
    return HeartbeatResponse(server_time=now, revoked=False)
