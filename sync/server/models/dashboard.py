"""The dashboard's rollup of settled entries (sync.server.dashboard writes it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sync.server.models.base import Base


class DashboardRollup(Base):
    """Dashboard figures of *settled* entries (received before the campaign's
    ``DashboardRollupState.settled_before``), per device and campaign-local day of capture.
    Written only by the dashboard (sync.server.dashboard.rollup.refresh_rollup), never by
    ingest; entries received since are added live at query time."""

    __tablename__ = "dashboard_rollup"

    campaign_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # ISO campaign-local date
    entries: Mapped[int] = mapped_column(Integer)
    duplicates: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    outside: Mapped[int] = mapped_column(Integer)  # rejected for a ZIP outside the jurisdiction
    counted: Mapped[int] = mapped_column(Integer)
    max_window: Mapped[int] = mapped_column(Integer)  # most entries in one 10-minute window
    windows: Mapped[str] = mapped_column(Text)  # "window:count ..." of the day's windows
    last_received: Mapped[datetime | None] = mapped_column(nullable=True)


class DashboardSection(Base):
    """(device, section) pairs with at least one settled, not superseded entry."""

    __tablename__ = "dashboard_sections"

    campaign_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    section: Mapped[str] = mapped_column(String(2000), primary_key=True)


class DashboardRollupState(Base):
    """Per campaign: what the rollup covers (entries received before ``settled_before``, the
    outcomes feed up to ``outcome_seq``) and the time zone its days are in."""

    __tablename__ = "dashboard_rollup_state"

    campaign_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    settled_before: Mapped[datetime]
    outcome_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime]
