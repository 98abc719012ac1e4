"""Plain values the store hands out: a stored entry with its sync standing, and a batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sync.domain import SignerEntry
from sync.protocol import PROTOCOL_VERSION, BatchRequest, EntryWire

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
    # The entries' wire forms, in order. The store builds each once (forming a batch measures
    # them anyway), so a push does not validate every entry again; a batch made by hand leaves
    # this None and to_request builds them. Being derived from entries, it is not compared.
    wires: list[EntryWire] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.wires is not None and (
                [w.entry_id for w in self.wires] != [e.entry_id for e in self.entries]):
            raise ValueError("a batch's wires must be its entries', in the same order")

    def to_request(self) -> BatchRequest:
        """The request body. It shares the batch's wires (pydantic keeps model instances as
        given), so treat it as read-only."""
        wires = self.wires if self.wires is not None else [e.to_wire() for e in self.entries]
        return BatchRequest(protocol_version=PROTOCOL_VERSION, batch_id=self.batch_id,
                            entries=wires)
