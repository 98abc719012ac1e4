"""The feeds a device pulls: outcomes of its own entries, and its door-step filter."""

from __future__ import annotations

import base64

from fastapi import APIRouter, Query
from sqlalchemy import select

from sync.problem_codes import FORBIDDEN, INDEX_FEED_RETIRED
from sync.protocol import (
    PATH_DOORSTEP_FILTER,
    PATH_OUTCOMES,
    DedupIndexResponse,
    DoorstepFilterResponse,
    EntryStatus,
    Outcome,
    OutcomesResponse,
    RegistrationMatch,
)
from sync.server.deps import CurrentDevice, ServicesDep
from sync.server.doorstep_filter import device_filter
from sync.server.ingest import campaign_context
from sync.server.models import Campaign, Device, OutcomeRow
from sync.server.problems import ProblemError
from sync.server.voters.registrations import registrations_for
from sync.voters.keys import registration_subkey

router = APIRouter(tags=["feeds"])

Cursor = Query(0, ge=0, le=2**62)


@router.get(PATH_OUTCOMES, response_model=OutcomesResponse)
def outcomes(device: CurrentDevice, svc: ServicesDep, since: int = Cursor) -> OutcomesResponse:
    page = svc.settings.outcomes_page
    with svc.db.read() as s:
        rows = s.scalars(select(OutcomeRow).where(OutcomeRow.device_id == device.device_id,
                                                  OutcomeRow.seq > since)
                         .order_by(OutcomeRow.seq).limit(page + 1)).all()
        more = len(rows) > page
        rows = rows[:page]
        # The voter-file match as it stands now (unknown until a voter file is loaded).
        registration = registrations_for(s, {r.entry_id for r in rows})
    return OutcomesResponse(
        cursor=rows[-1].seq if rows else since,
        outcomes=[Outcome(entry_id=r.entry_id, status=EntryStatus(r.status), duplicate_of=r.duplicate_of,
                          candidate_of=r.candidate_of, reason_code=r.reason_code,
                          registration=registration.get(r.entry_id, RegistrationMatch.UNKNOWN))
                  for r in rows],
        more=more)


@router.get("/v1/dedup-index", response_model=DedupIndexResponse)
def dedup_index(device: CurrentDevice) -> DedupIndexResponse:
    """Retired (issue 15): it gave every device the exact keys of every signer and the
    campaign's index key. Devices pull /v1/doorstep-filter instead; an older app is told
    plainly (410) rather than given the list."""
    raise ProblemError(INDEX_FEED_RETIRED)


@router.get(PATH_DOORSTEP_FILTER, response_model=DoorstepFilterResponse)
def doorstep_filter(device: CurrentDevice, svc: ServicesDep,
                    tag: str = Query("", max_length=64, pattern=r"^[0-9a-f]*$"),
                    key_id: int | None = Query(None, ge=1, le=2**31)) -> DoorstepFilterResponse:
    """The door-step filter of this device's scope (doorstep_filter.py); ``tag`` = the one the
    device holds: an unchanged filter is not sent again."""
    ctx = campaign_context(svc, device.campaign_id)
    with svc.db.read() as s:
        campaign = s.get(Campaign, device.campaign_id)
        row = s.get(Device, device.device_id)
        if campaign is None or row is None:
            raise ProblemError(FORBIDDEN, "The device's campaign no longer exists.")
        built = device_filter(s, svc, row, campaign, ctx.index_key)
    rotated = {}
    if key_id is not None and key_id != ctx.index_key_id:
        rotated = {"registration_key": base64.b64encode(registration_subkey(ctx.index_key)).decode(),
                   "index_key_id": ctx.index_key_id}
    if built.scope == "none" or (tag and tag == built.tag):
        return DoorstepFilterResponse(scope=built.scope, tag=built.tag, unchanged=built.scope != "none",
                                      **rotated)
    return DoorstepFilterResponse(scope=built.scope, tag=built.tag, key_id=built.key_id,
                                  doorstep_key=base64.b64encode(built.doorstep_key).decode(),
                                  signers=built.signers, filter=base64.b64encode(built.blob).decode(),
                                  **rotated)
