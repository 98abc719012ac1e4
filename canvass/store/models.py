"""Plain values the store hands out: a stored entry with its sync standing, and a batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sync.domain import SignerEntry
from sync.protocol import PROTOCOL_VERSION, BatchRequest

PENDING = "pending"


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """An entry as saved, plus what the server said about it. ``status`` is "pending" until the
    server answers, then an EntryStatus value."""

    entry: SignerEntry
    status: str = PENDING
    duplicate_of: str | None = None
    candidate_of: str | None = None
    reason_code: int | None = None
    registration: str = "unknown"
    acknowledged_at: datetime | None = None
    superseded_by: str | None = None

    @property
    def is_live(self) -> bool:
        return self.superseded_by is None


@dataclass(frozen=True, slots=True)
class OutboxBatch:
    """Entries sent together under one batch_id (the server's idempotency key)."""

    batch_id: str
    entries: list[SignerEntry] = field(default_factory=list)

    def to_request(self) -> BatchRequest:
        return BatchRequest(protocol_version=PROTOCOL_VERSION, batch_id=self.batch_id,
                            entries=[e.to_wire() for e in self.entries])
