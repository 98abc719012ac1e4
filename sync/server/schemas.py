"""Server-only request/response models for staff endpoints (the device wire format stays in
sync.protocol)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


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
