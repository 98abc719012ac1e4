"""Server-only request/response models for staff endpoints (the device wire format stays in
sync.protocol)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sync.protocol import NO_NUL


class ReviewRecord(BaseModel):
    entry_id: str
    section: str
    line: int
    received_at: datetime
    fields: dict[str, str]  # decrypted for the reviewer's eyes only; never logged


class ReviewItem(BaseModel):
    entry: ReviewRecord
    candidate: ReviewRecord | None


class ReviewQueue(BaseModel):
    items: list[ReviewItem]


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["duplicate", "not_duplicate"]


class DecisionResponse(BaseModel):
    entry_id: str
    status: str
    duplicate_of: str | None = None


# ---- withdrawals (sync.server.routes.withdrawals) -------------------------------------------

WITHDRAWAL_CHANNELS = ("mail", "email", "in_person")


class WithdrawalSigner(BaseModel):
    """Who asks to withdraw, as written on the request: matched like an entry, stored sealed."""

    model_config = ConfigDict(extra="forbid")
    first_name: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    middle_name: str = Field("", max_length=100, pattern=NO_NUL)
    last_name: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    suffix: str = Field("", max_length=20, pattern=NO_NUL)
    street: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    unit: str = Field("", max_length=40, pattern=NO_NUL)
    city: str = Field("", max_length=100, pattern=NO_NUL)
    zip: str = Field(min_length=1, max_length=10, pattern=NO_NUL)


class WithdrawalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signer: WithdrawalSigner
    received_at: datetime  # when the request reached the campaign
    received_via: Literal["mail", "email", "in_person"]


class WithdrawalCandidate(BaseModel):
    entry_id: str
    section: str
    line: int
    match: Literal["exact", "fuzzy"]
    score: float
    fields: dict[str, str]  # decrypted for the clerk's eyes only; never logged


class WithdrawnLineView(BaseModel):
    entry_id: str
    section: str
    line: int


class WithdrawalView(BaseModel):
    id: str
    state: Literal["pending", "withdrawn", "not_matched"]
    match: Literal["exact", "fuzzy", "none"]
    received_at: datetime
    received_via: str
    recorded_by: str
    recorded_at: datetime
    signer: dict[str, str] | None = None  # None in lists and once purged
    candidates: list[WithdrawalCandidate] = []
    entry_id: str | None = None
    lines: list[WithdrawnLineView] = []
    decided_by: str = ""


class WithdrawalList(BaseModel):
    items: list[WithdrawalView]


class WithdrawalDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["withdraw", "not_a_match"]
    entry_id: str | None = Field(None, max_length=64)  # the candidate confirmed ("withdraw")


# ---- the filing check (sync.server.routes.filing) -------------------------------------------


class FilingBlocker(BaseModel):
    code: str  # sync.intake.filing_check.RULES
    rule: str  # the statute or rule it breaks
    serial: str | None  # None: the whole drive
    lines: list[int] = []
    parts: list[str] = []  # declaration parts missing


class FilingCheckView(BaseModel):
    ready: bool
    final: bool  # the filing export may call itself final
    blocking: int
    window_start: str  # ISO date: the first day a line may be dated
    deadline: str
    blockers: list[FilingBlocker]
    sections: dict[str, list[FilingBlocker]]
