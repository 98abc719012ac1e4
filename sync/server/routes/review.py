"""Staff review of possible duplicates (intake and admin roles)."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query
from sqlalchemy import select

from sync.domain import utcnow
from sync.problem_codes import BUSY, NOT_FOUND, NOT_PENDING_REVIEW, UNDO_CONFLICT
from sync.protocol import EntryStatus
from sync.server import review, rotation
from sync.server.audit import staff_actor
from sync.server.auth import StaffIdentity, campaign_for
from sync.server.dedup import decrypt_fields
from sync.server.deps import IntakeStaff, ServicesDep
from sync.server.ingest import campaign_context
from sync.server.models import Entry
from sync.server.problems import ProblemError
from sync.server.schemas import DecisionRequest, DecisionResponse, ReviewItem, ReviewQueue, ReviewRecord
from sync.server.services import Services

router = APIRouter(prefix="/v1/review", tags=["review"])


def _record(svc: Services, entry: Entry) -> ReviewRecord:
    return ReviewRecord(entry_id=entry.id, section=entry.section, line=entry.line,
                        received_at=entry.received_at, fields=decrypt_fields(svc.cipher, entry))


def _in_scope(staff: StaffIdentity, entry: Entry | None) -> bool:
    # Admins without a campaign see every campaign; everyone else only their own.
    return entry is not None and (staff.campaign_id is None and staff.role == "admin"
                                  or entry.campaign_id == staff.campaign_id)


@router.get("/queue", response_model=ReviewQueue)
def queue(staff: IntakeStaff, svc: ServicesDep, limit: int = Query(50, ge=1, le=500),
          campaign_id: str | None = Query(None, max_length=64)) -> ReviewQueue:
    """The caller's campaign's queue (naming another is 403); an admin of every campaign who
    names none sees every campaign's."""
    with svc.db.read() as s:
        stmt = select(Entry).where(Entry.status == EntryStatus.POSSIBLE_DUPLICATE.value,
                                   Entry.superseded_by.is_(None)).order_by(Entry.received_at).limit(limit)
        if campaign_id or staff.campaign_id is not None or staff.role != "admin":
            stmt = stmt.where(Entry.campaign_id == campaign_for(staff, campaign_id))
        items = []
        for entry in s.scalars(stmt):
            candidate = s.get(Entry, entry.candidate_of) if entry.candidate_of else None
            items.append(ReviewItem(entry=_record(svc, entry),
                                    candidate=_record(svc, candidate) if candidate else None))
    return ReviewQueue(items=items)


@router.post("/{entry_id}/decision", response_model=DecisionResponse)
def decision(body: DecisionRequest, staff: IntakeStaff, svc: ServicesDep,
             entry_id: str = Path(max_length=64)) -> DecisionResponse:
    with svc.db.read() as s:
        entry = s.get(Entry, entry_id)
    if not _in_scope(staff, entry):
        raise ProblemError(NOT_FOUND, "No such entry in your campaign.")
    ctx = campaign_context(svc, entry.campaign_id)
    with svc.db.write() as s:
        entry = s.get(Entry, entry_id, with_for_update=True)
        if entry.status != EntryStatus.POSSIBLE_DUPLICATE.value or entry.superseded_by:
            raise ProblemError(NOT_PENDING_REVIEW)
        try:
            rotation.guard_index_key(s, entry.campaign_id, ctx.index_key_id)
        except rotation.StaleIndexKey:
            raise ProblemError(BUSY, "The campaign's keys just changed; retry.",
                               headers={"Retry-After": "1"}) from None
        review.decide(s, svc.cipher, ctx.index_key, entry, body.decision, staff_actor(staff))
        result = DecisionResponse(entry_id=entry.id, status=entry.status, duplicate_of=entry.duplicate_of)
    return result


@router.post("/undo", response_model=DecisionResponse)
def undo_last(staff: IntakeStaff, svc: ServicesDep) -> DecisionResponse:
    """Take back the caller's own last decision (within review.UNDO_SECONDS): the entry is
    waiting for review again. Audited as ``review.undo``."""
    actor = staff_actor(staff)
    with svc.db.write() as s:
        try:
            last = review.undoable(s, actor, utcnow())
            # The same row lock as a decision's; the undo needs no index key (it releases the
            # entry's keys by entry id, whichever key made them).
            entry = s.get(Entry, last.target, with_for_update=True)
            if not _in_scope(staff, entry):
                raise review.UndoRefused(UNDO_CONFLICT)
            review.undo(s, entry, last, actor)
        except review.UndoRefused as exc:
            raise ProblemError(exc.kind) from None
        result = DecisionResponse(entry_id=entry.id, status=entry.status, duplicate_of=None)
    return result
