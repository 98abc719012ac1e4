"""Review of possible duplicates by intake staff: the decision changes the entry's standing,
emits an outcome to the device that sent it, and is audited."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.domain import as_utc, utcnow
from sync.matching import blocking_keys, matching_keys
from sync.problem_codes import NOTHING_TO_UNDO, UNDO_CONFLICT, UNDO_EXPIRED, ProblemKind
from sync.protocol import EntryStatus
from sync.server import dedup
from sync.server.audit import audit
from sync.server.models import AuditLog, Entry, OutcomeRow

OUTCOMES_COUNTER = "outcomes"
DECISION, UNDO = "review.decision", "review.undo"  # audit actions
UNDO_SECONDS = 15 * 60  # a decision can be taken back this long after it was made


def emit_outcome(s: Session, entry: Entry) -> None:
    seq = dedup.next_counter(s, OUTCOMES_COUNTER)
    s.add(OutcomeRow(seq=seq, device_id=entry.device_id, entry_id=entry.id, status=entry.status,
                     duplicate_of=entry.duplicate_of, candidate_of=entry.candidate_of,
                     reason_code=entry.reason_code, created_at=utcnow()))


def decide(s: Session, cipher, index_key: bytes, entry: Entry, decision: str, actor: str) -> None:
    """Apply a reviewer's decision to a possible_duplicate entry (the caller checked that)."""
    if decision == "duplicate":
        entry.status, entry.duplicate_of = EntryStatus.DUPLICATE.value, entry.candidate_of
    else:
        fields = dedup.decrypt_fields(cipher, entry)
        keys, blocks = matching_keys(index_key, fields), blocking_keys(index_key, fields)
        dedup.lock_keys(s, entry.campaign_id, [f"m:{k}" for k in keys] + [f"b:{b}" for b in blocks])
        # Someone may have claimed this signer's exact keys since: then it still repeats them.
        owner = dedup.find_exact(s, entry.campaign_id, keys, exclude=entry.id)
        if owner is not None:
            entry.status, entry.duplicate_of = EntryStatus.DUPLICATE.value, owner
        else:
            entry.status, entry.duplicate_of, entry.counted = EntryStatus.ACCEPTED.value, None, True
            s.flush()
            dedup.claim_many(s, entry.campaign_id, [(k, entry.id) for k in keys],
                             [(b, entry.id) for b in blocks], keys)
    emit_outcome(s, entry)
    audit(s, actor, DECISION, entry.id, decision)


class UndoRefused(Exception):
    """Why a decision cannot be taken back: ``kind`` is the problem (409) the route answers."""

    def __init__(self, kind: ProblemKind) -> None:
        super().__init__(kind.code)
        self.kind = kind


def last_decision(s: Session, actor: str) -> AuditLog | None:
    """The actor's last review action (a decision, or the undo of one), from the audit log."""
    return s.scalars(select(AuditLog).where(AuditLog.actor == actor,
                                            AuditLog.action.in_([DECISION, UNDO]))
                     .order_by(AuditLog.id.desc()).limit(1)).first()


def undoable(s: Session, actor: str, now: datetime) -> AuditLog:
    """The actor's last decision if it can still be undone (or UndoRefused): only the
    actor's own, only the last one (an undo is not undone in turn), within UNDO_SECONDS."""
    row = last_decision(s, actor)
    if row is None or row.action != DECISION:
        raise UndoRefused(NOTHING_TO_UNDO)
    if now - as_utc(row.at) > timedelta(seconds=UNDO_SECONDS):
        raise UndoRefused(UNDO_EXPIRED)
    return row


def undo(s: Session, entry: Entry, decision: AuditLog, actor: str) -> None:
    """Take ``decision`` back: the entry is a possible duplicate again, exactly as it was
    before it (not counted, no duplicate_of, no claimed matching or blocking keys: a
    possible duplicate holds none, see ingest), and the device hears of it through the
    outcomes feed. The entry must still be as the decision left it."""
    decided = entry.status in (EntryStatus.DUPLICATE.value, EntryStatus.ACCEPTED.value)
    if not decided or entry.superseded_by or entry.id != decision.target:
        raise UndoRefused(UNDO_CONFLICT)
    if entry.status == EntryStatus.ACCEPTED.value:
        # "not a duplicate" made it count and claim its keys; the keys stay in the devices'
        # dedup-index feed, as when an entry is superseded (dedup.release_many).
        dedup.release_many(s, [entry.id])
    entry.status, entry.duplicate_of, entry.counted = EntryStatus.POSSIBLE_DUPLICATE.value, None, False
    emit_outcome(s, entry)
    audit(s, actor, UNDO, entry.id, f"{decision.detail} (audit {decision.id})")
