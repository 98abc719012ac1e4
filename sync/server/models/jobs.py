"""The durable background jobs of sync.server.jobs (claim, lease and resume are told there)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from sync.server.models.base import Base


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_lease", "state", "lease_until"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    ref_id: Mapped[str] = mapped_column(String(36))  # the kind's own status row (import_jobs.id)
    state: Mapped[str] = mapped_column(String(20))  # queued, running, done, failed
    payload: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # sealed; cleared when done
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the claiming process
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    error: Mapped[str] = mapped_column(String(200), default="")  # an exception's class name only
