"""The token buckets of sync.server.ratelimit, one row per bucket (the module says why in the
database)."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from sync.server.models.base import Base


class RateBucket(Base):
    __tablename__ = "rate_buckets"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # keyed hash, see _row_key
    tokens: Mapped[float] = mapped_column(Float)
    stamp: Mapped[float] = mapped_column(Float, index=True)  # epoch seconds of ``tokens``
    allowed: Mapped[bool] = mapped_column(Boolean)  # the last take's answer (read by RETURNING)
