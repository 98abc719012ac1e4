"""The feeds a device pulls: outcomes of its own entries, and its campaign's dedup index."""

from __future__ import annotations

import base64

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from sync.protocol import DedupIndexResponse, EntryStatus, Outcome, OutcomesResponse, RegistrationMatch
from sync.server import voters_store
from sync.server.auth import DeviceIdentity, current_device, services
from sync.server.dedup import index_counter_name
from sync.server.ingest import campaign_context
from sync.server.models import Counter, IndexKey, OutcomeRow
from sync.server.rotation import index_reset_name
from sync.server.services import Services

router = APIRouter(prefix="/v1", tags=["feeds"])

Cursor = Query(0, ge=0, le=2**62)


@router.get("/outcomes", response_model=OutcomesResponse)
def outcomes(since: int = Cursor, device: DeviceIdentity = Depends(current_device),
             svc: Services = Depends(services)) -> OutcomesResponse:
    page = svc.settings.outcomes_page
    with svc.db.read() as s:
        rows = s.scalars(select(OutcomeRow).where(OutcomeRow.device_id == device.device_id,
                                                  OutcomeRow.seq > since)
                         .order_by(OutcomeRow.seq).limit(page + 1)).all()
        more = len(rows) > page
        rows = rows[:page]
        # The voter-file match as it stands now (unknown until a voter file is loaded).
        registration = voters_store.registrations_for(s, {r.entry_id for r in rows})
    return OutcomesResponse(
        cursor=rows[-1].seq if rows else since,
        outcomes=[Outcome(entry_id=r.entry_id, status=EntryStatus(r.status), duplicate_of=r.duplicate_of,
                          candidate_of=r.candidate_of, reason_code=r.reason_code,
                          registration=registration.get(r.entry_id, RegistrationMatch.UNKNOWN))
                  for r in rows],
        more=more)


@router.get("/dedup-index", response_model=DedupIndexResponse)
def dedup_index(since: int = Cursor, key_id: int | None = Query(None, ge=1, le=2**31),
                device: DeviceIdentity = Depends(current_device),
                svc: Services = Depends(services)) -> DedupIndexResponse:
    page = svc.settings.index_page
    ctx = campaign_context(svc, device.campaign_id)
    with svc.db.read() as s:
        current = s.scalar(select(Counter.value).where(
            Counter.name == index_counter_name(device.campaign_id))) or 0
        floor = s.scalar(select(Counter.value).where(
            Counter.name == index_reset_name(device.campaign_id))) or 0
        # A cursor beyond anything issued means the device knows another server state
        # (a restored database): it must drop its index and start again. So must a device
        # whose cursor or key id dates from before an index-key rotation (rotation.py).
        stale_key = key_id is not None and key_id != ctx.index_key_id
        reset = since > current or 0 < since <= floor or stale_key
        start = 0 if reset else since
        rows = s.execute(select(IndexKey.version, IndexKey.key)
                         .where(IndexKey.campaign_id == device.campaign_id, IndexKey.version > start)
                         .order_by(IndexKey.version).limit(page + 1)).all()
    more = len(rows) > page
    rows = rows[:page]
    new_key = base64.b64encode(ctx.index_key).decode() if reset else None
    return DedupIndexResponse(version=rows[-1][0] if rows else start, keys=[r[1] for r in rows],
                              more=more, reset=reset, index_key=new_key,
                              index_key_id=ctx.index_key_id if reset else None)
