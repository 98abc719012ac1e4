"""Campaigns, the ZIPs their teams are assigned to, and the data keys that seal personal fields.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sync.server.models.base import Base


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    goal: Mapped[int] = mapped_column(Integer)
    deadline: Mapped[str] = mapped_column(String(10))
    jurisdiction: Mapped[str] = mapped_column(String(64))
    jurisdiction_zips: Mapped[str] = mapped_column(Text, default="")  # JSON list, "" = named list
    validity_rate: Mapped[float] = mapped_column(Float, default=0.726)
    settings_json: Mapped[str] = mapped_column(Text, default="{}")  # other CampaignSettings fields
    index_key_wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    index_key_id: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]


class TeamZip(Base):
    """A ZIP a team is assigned to (issue 15): the region whose signers its devices hold for
    the offline door-step check (sync/server/doorstep_filter.py)."""

    __tablename__ = "team_zips"

    campaign_id: Mapped[str] = mapped_column(String(36), ForeignKey("campaigns.id"), primary_key=True)
    team: Mapped[str] = mapped_column(String(100), primary_key=True)
    zip5: Mapped[str] = mapped_column(String(5), primary_key=True)


class DataKey(Base):
    """Random field-cipher data keys, wrapped under the server key (sync.server.rotation).
    Key id 1 is the legacy key derived from the server key and has no row."""

    __tablename__ = "data_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
