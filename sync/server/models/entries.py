"""Received signer entries, the matching and blocking keys of counted signers, the device feeds
(dedup index, outcomes, their counters) and each batch's first answer.

Each entry's first result is stored once (migration 0970): in its batch's part while the batch
is unfinished (``BatchPart``), in the batch's response once it is finished (``BatchRecord``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from sync.domain import PERSONAL_FIELDS
from sync.server.models.base import Base, ident

_IN_DOUBT = text("status IN ('duplicate', 'possible_duplicate')")

class Entry(Base):
    """One received signer entry (every status but conflict, which is never stored)."""

    __tablename__ = "entries"
    __table_args__ = (
        UniqueConstraint("device_id", "device_seq", name="uq_entries_device_seq"),
        Index("ix_entries_campaign_line", "campaign_id", "section", "line"),
        # The dashboard (migration 0500): a device's entries by capture time (rollup buckets,
        # 10-minute windows) and the campaign's entries by arrival (the not-yet-settled part).
        Index("ix_entries_device_captured", "campaign_id", "device_id", "captured_at"),
        Index("ix_entries_campaign_received", "campaign_id", "received_at"),
        # The review queue and the filing export's duplicate list (migration 0800): only the
        # few entries in doubt are indexed, so an accepted entry's INSERT skips this index.
        Index("ix_entries_in_doubt", "campaign_id", "status", "received_at",
              postgresql_where=_IN_DOUBT, sqlite_where=_IN_DOUBT),
    )

    id: Mapped[str] = mapped_column(ident(64), primary_key=True)  # the entry_id
    campaign_id: Mapped[str] = mapped_column(ident(36), ForeignKey("campaigns.id"))
    device_id: Mapped[str] = mapped_column(ident(36), ForeignKey("devices.id"))
    device_seq: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[str] = mapped_column(String(64))
    section: Mapped[str] = mapped_column(String(2000))
    line: Mapped[int] = mapped_column(Integer)
    captured_at: Mapped[datetime]
    supersedes: Mapped[str | None] = mapped_column(String(64), nullable=True)
    superseded_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime]
    # Current standing (changes with review decisions) ...
    status: Mapped[str] = mapped_column(String(20))
    duplicate_of: Mapped[str | None] = mapped_column(String(64), nullable=True)
    candidate_of: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason_field: Mapped[str | None] = mapped_column(String(40), nullable=True)
    counted: Mapped[bool] = mapped_column(Boolean, default=False)
    # The first answer is not a column: it is in the batch's part or response (see the top).


for _name in PERSONAL_FIELDS:
    # Declared in a loop so the encrypted columns can never drift from domain.PERSONAL_FIELDS.
    setattr(Entry, f"enc_{_name}", mapped_column(f"enc_{_name}", LargeBinary, nullable=True))
# The sealed normalized record for the fuzzy matcher (sync.server.match_blob); personal data
# like the fields above, so it is re-sealed by data-key rotation and dropped by a purge.
Entry.enc_match = mapped_column("enc_match", LargeBinary, nullable=True)
# Every sealed column of an entry with its FieldCipher field name.
SEALED_ENTRY_FIELDS: tuple[tuple[str, str], ...] = (
    *((f"enc_{name}", name) for name in PERSONAL_FIELDS), ("enc_match", "match"))


class SignerKey(Base):
    """Matching keys claimed by counted entries. The primary key is the race guard: two
    concurrent first signatures of one signer cannot both claim the same key."""

    __tablename__ = "signer_keys"

    # No foreign keys on the key tables (migration 0600 says why; integrity.py checks).
    campaign_id: Mapped[str] = mapped_column(ident(36), primary_key=True)
    key: Mapped[str] = mapped_column(ident(80), primary_key=True)
    entry_id: Mapped[str] = mapped_column(ident(64), index=True)


class BlockKey(Base):
    """Coarse blocking keys of counted entries: the fuzzy matcher's candidate search."""

    __tablename__ = "block_keys"

    campaign_id: Mapped[str] = mapped_column(ident(36), primary_key=True)
    key: Mapped[str] = mapped_column(ident(80), primary_key=True)
    entry_id: Mapped[str] = mapped_column(ident(64), primary_key=True, index=True)


class Counter(Base):
    """Monotonic sequences for the device feeds. Taking the next value locks the row until
    commit, so feed rows become visible in sequence order and a cursor never skips one."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class IndexKey(Base):
    """The dedup-index feed: matching keys of counted signers, in the order they were claimed."""

    __tablename__ = "dedup_index"

    campaign_id: Mapped[str] = mapped_column(ident(36), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(String(80))


class OutcomeRow(Base):
    """The outcomes feed: changes of an entry's standing after its first answer."""

    __tablename__ = "outcomes"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), index=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("entries.id"))
    status: Mapped[str] = mapped_column(String(20))
    duplicate_of: Mapped[str | None] = mapped_column(String(64), nullable=True)
    candidate_of: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime]


class BatchRecord(Base):
    """The first response to each finished batch, returned verbatim when the batch is replayed.
    Written by the batch's last chunk, which deletes the batch's parts in the same transaction:
    from then on this response is the only copy of its entries' first results."""

    __tablename__ = "batches"

    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    body_fingerprint: Mapped[str] = mapped_column(String(64))
    response_json: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]


class BatchPart(Base):
    """The first results of the entries one chunk of an unfinished batch stored, written in that
    chunk's transaction: a replay of the batch after an interruption (some chunks committed,
    the last not) answers each of those entries with its first result.

    A JSON array of EntryResult. Keyed by the first entry it answers for: an entry is stored
    once, so no two parts share it, whatever the chunk boundaries of the attempts were."""

    __tablename__ = "batch_parts"

    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    entry_id: Mapped[str] = mapped_column(ident(64), primary_key=True)
    # No index: the table holds only batches in flight (the purge scans it by device).
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    results_json: Mapped[str] = mapped_column(Text)
