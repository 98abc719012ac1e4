"""Signers' withdrawals (Elections Code 11303), under /v1/withdrawals: intake clerks and
admins of the campaign (auth.campaign_for) record, match and decide them
(sync.server.withdrawals). Team leads see counts, not signers: none of these routes is theirs.
A request's details travel in bodies only; URLs carry ids."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query

from sync.server import withdrawals
from sync.server.audit import staff_actor
from sync.server.auth import campaign_for
from sync.server.deps import IntakeStaff, ServicesDep
from sync.server.schemas import WithdrawalCreate, WithdrawalDecision, WithdrawalList, WithdrawalView

router = APIRouter(prefix="/v1/withdrawals", tags=["withdrawals"])
CampaignParam = Query(None, max_length=64)
IdParam = Path(max_length=36)


@router.post("", response_model=WithdrawalView, status_code=201)
def record(body: WithdrawalCreate, staff: IntakeStaff, svc: ServicesDep,
           campaign_id: str | None = CampaignParam) -> WithdrawalView:
    """Record a request; a single exact match is withdrawn at once, anything else waits for a
    person's decision (``state: pending`` with its candidates)."""
    cid = campaign_for(staff, campaign_id)
    wid = withdrawals.record(svc, cid, body, staff_actor(staff), staff.username)
    return withdrawals.view(svc, cid, wid)


@router.get("", response_model=WithdrawalList)
def list_withdrawals(staff: IntakeStaff, svc: ServicesDep, campaign_id: str | None = CampaignParam,
                     limit: int = Query(200, ge=1, le=2000)) -> WithdrawalList:
    """The campaign's requests, newest first, without anyone's details."""
    return WithdrawalList(items=withdrawals.list_views(svc, campaign_for(staff, campaign_id), limit))


@router.get("/{withdrawal_id}", response_model=WithdrawalView)
def get_withdrawal(staff: IntakeStaff, svc: ServicesDep, withdrawal_id: str = IdParam,
                   campaign_id: str | None = CampaignParam) -> WithdrawalView:
    return withdrawals.view(svc, campaign_for(staff, campaign_id), withdrawal_id)


@router.post("/{withdrawal_id}/decision", response_model=WithdrawalView)
def decide(body: WithdrawalDecision, staff: IntakeStaff, svc: ServicesDep, withdrawal_id: str = IdParam,
           campaign_id: str | None = CampaignParam) -> WithdrawalView:
    """A person confirms a candidate (``withdraw`` + ``entry_id``) or says none is the signer."""
    cid = campaign_for(staff, campaign_id)
    withdrawals.decide(svc, cid, withdrawal_id, body.decision, body.entry_id, staff_actor(staff))
    return withdrawals.view(svc, cid, withdrawal_id)


@router.post("/{withdrawal_id}/rematch", response_model=WithdrawalView)
def rematch(staff: IntakeStaff, svc: ServicesDep, withdrawal_id: str = IdParam,
            campaign_id: str | None = CampaignParam) -> WithdrawalView:
    """Match a pending request again (the signer's entry may have arrived since)."""
    cid = campaign_for(staff, campaign_id)
    withdrawals.rematch(svc, cid, withdrawal_id, staff_actor(staff))
    return withdrawals.view(svc, cid, withdrawal_id)
