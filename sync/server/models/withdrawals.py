"""Tables of signers' withdrawals (Elections Code 11303): the requests and the lines withdrawn.

Who asked is personal data: the request's fields are one FieldCipher blob (``enc_signer``,
AAD = the withdrawal id + "signer"), re-sealed by data-key rotation and dropped by a purge
(``sync.server.withdrawals.purge_withdrawals``). Everything else is ids, dates and words.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sync.server.models.base import Base, ident

WITHDRAWAL_SEALED_FIELD = "signer"  # the FieldCipher field name of Withdrawal.enc_signer


class Withdrawal(Base):
    """A signer's request to withdraw their signature, and what became of it."""

    __tablename__ = "withdrawals"
    __table_args__ = (Index("ix_withdrawals_campaign", "campaign_id", "recorded_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    enc_signer: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # JSON of fields
    received_at: Mapped[datetime]  # when the request reached the campaign
    received_via: Mapped[str] = mapped_column(String(20))  # mail, email, in_person
    recorded_by: Mapped[str] = mapped_column(String(100))  # staff username
    recorded_at: Mapped[datetime]
    # pending (a person must pick or confirm a candidate), withdrawn, not_matched (dismissed)
    state: Mapped[str] = mapped_column(String(20))
    match: Mapped[str] = mapped_column(String(10), default="none")  # exact, fuzzy, none
    candidates_json: Mapped[str] = mapped_column(Text, default="[]")  # [{entry_id, score, decision}]
    entry_id: Mapped[str | None] = mapped_column(ident(64), nullable=True)  # the signer's entry
    decided_by: Mapped[str] = mapped_column(String(100), default="")
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)


class WithdrawnLine(Base):
    """An entry whose signer withdrew: it stays a line on the paper but no longer counts."""

    __tablename__ = "withdrawn_lines"
    __table_args__ = (Index("ix_withdrawn_lines_campaign", "campaign_id"),)

    entry_id: Mapped[str] = mapped_column(ident(64), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ident(36))
    withdrawal_id: Mapped[str] = mapped_column(String(36), ForeignKey("withdrawals.id"))
    withdrawn_at: Mapped[datetime]
