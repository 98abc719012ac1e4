"""Who may call the server: staff users and their sessions, enrollment codes, enrolled devices,
and the one-time download links that stand for a staff session.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sync.server.models.base import Base


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    campaign_id: Mapped[str | None] = mapped_column(ForeignKey("campaigns.id"), nullable=True)
    team: Mapped[str] = mapped_column(String(100), default="")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class StaffSession(Base):
    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class EnrollCode(Base):
    __tablename__ = "enroll_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    circulator: Mapped[str] = mapped_column(String(100))
    team: Mapped[str] = mapped_column(String(100), default="", server_default="")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(nullable=True)
    device_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class Device(Base):
    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    circulator: Mapped[str] = mapped_column(String(100))
    team: Mapped[str] = mapped_column(String(100), default="", server_default="")  # from the code
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    enrolled_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(nullable=True)
    pending_count: Mapped[int] = mapped_column(Integer, default=0)
    last_device_seq: Mapped[int] = mapped_column(Integer, default=0)
    app_version: Mapped[str] = mapped_column(String(40), default="")


class DownloadLink(Base):
    """A one-time link to a staff export (sync.server.routes.downloads): the browser opens it
    without the staff session's bearer header, so the link stands for that session, for one
    export, for one use and a minute. Only the token's SHA-256 is stored."""

    __tablename__ = "download_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64))  # the staff session that asked
    user_id: Mapped[str] = mapped_column(String(36))
    export: Mapped[str] = mapped_column(String(20))
    params_json: Mapped[str] = mapped_column(Text, default="{}")  # ids only, never personal data
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None] = mapped_column(nullable=True)
