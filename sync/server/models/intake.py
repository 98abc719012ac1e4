"""Tables of office intake: paper sections issued and checked in, import jobs, retention.

No signer data in clear: an import job's rejection file (which repeats the rejected rows) is
stored sealed with the server's FieldCipher and dropped by the retention purge.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sync.server.models.base import Base, BigId


class PaperSection(Base):
    """A paper section the campaign issued (printed, assigned); optional until check-in."""

    __tablename__ = "paper_sections"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    serial: Mapped[str] = mapped_column(String(20), primary_key=True)
    circulator: Mapped[str] = mapped_column(String(100), default="")
    issued_at: Mapped[datetime]
    handed_out_at: Mapped[datetime | None] = mapped_column(nullable=True)


class SectionCheckIn(Base):
    """One return of a paper section to the office (a section may be returned more than once)."""

    __tablename__ = "section_checkins"
    __table_args__ = (Index("ix_section_checkins_campaign_serial", "campaign_id", "serial"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    serial: Mapped[str] = mapped_column(String(20))
    returned_by: Mapped[str] = mapped_column(String(100))
    returned_at: Mapped[datetime]
    signed_lines: Mapped[int] = mapped_column(Integer)
    skipped_lines: Mapped[str] = mapped_column(Text, default="")  # "3,7,8"
    declaration: Mapped[str] = mapped_column(String(200), default="")  # "signature,dates_gathered"
    county: Mapped[str] = mapped_column(String(64), default="", server_default="")  # as on the paper
    received_by: Mapped[str] = mapped_column(String(100))  # staff username
    recorded_at: Mapped[datetime]


class ImportJob(Base):
    __tablename__ = "import_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    state: Mapped[str] = mapped_column(String(20))  # running, cancelling, done, failed, cancelled
    kind: Mapped[str] = mapped_column(String(10))  # csv, xlsx
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    counts_json: Mapped[str] = mapped_column(Text, default="{}")
    enc_rejections: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class IntakeSettings(Base):
    """Per-campaign retention: signer data is purged ``retention_days`` after filing."""

    __tablename__ = "intake_settings"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    retention_days: Mapped[int] = mapped_column(Integer, default=90)
    filed_on: Mapped[str] = mapped_column(String(10), default="")  # ISO date, "" = not filed
    purged_at: Mapped[datetime | None] = mapped_column(nullable=True)
    purged: Mapped[bool] = mapped_column(Boolean, default=False)
