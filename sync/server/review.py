"""Review of possible duplicates by intake staff: the decision changes the entry's standing,
emits an outcome to the device that sent it, and is audited."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sync.domain import utcnow
from sync.matching import blocking_keys, matching_keys
from sync.protocol import EntryStatus
from sync.server import dedup
from sync.server.audit import audit
from sync.server.models import Entry, OutcomeRow

OUTCOMES_COUNTER = "outcomes"


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
            dedup.claim(s, entry.campaign_id, entry.id, keys, blocks)
    emit_outcome(s, entry)
    audit(s, actor, "review.decision", entry.id, decision)
