"""GET /v1/registration-index?since=VERSION: the device's registration index, by deltas
(what each answer holds: sync.server.voters.index_feed)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from sync.protocol import PATH_REGISTRATION_INDEX, RegistrationIndexResponse
from sync.server.deps import CurrentDevice, ServicesDep
from sync.server.voters.index_feed import build_response

router = APIRouter(tags=["registration"])


@router.get(PATH_REGISTRATION_INDEX, response_model=RegistrationIndexResponse)
def registration_index(device: CurrentDevice, svc: ServicesDep,
                       since: int = Query(0, ge=0, le=2**62)) -> RegistrationIndexResponse:
    return build_response(svc.db, device.campaign_id, since, svc.index_answers)
