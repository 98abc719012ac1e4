"""Tables of voter files (sync.server.voters): each import's generation, its sealed voter records
and blind keys, the device index versions, the active generation per campaign, and each
entry's registration match. What each table holds is told in sync/server/voters/store.py.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sync.server.models.base import Base

_FileId = BigInteger().with_variant(Integer(), "sqlite")


class VoterFile(Base):
    __tablename__ = "voter_files"

    id: Mapped[int] = mapped_column(_FileId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    state: Mapped[str] = mapped_column(String(12))  # loading | active | retired | failed
    source: Mapped[str] = mapped_column(String(200), default="")  # file name only
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_loaded: Mapped[int] = mapped_column(Integer, default=0)
    stats_json: Mapped[str] = mapped_column(Text, default="{}")


class VoterRecord(Base):
    __tablename__ = "voter_records"

    file_id: Mapped[int] = mapped_column(ForeignKey("voter_files.id"), primary_key=True,
                                         autoincrement=False)
    row: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    enc_fields: Mapped[bytes] = mapped_column(LargeBinary)


class VoterKey(Base):
    __tablename__ = "voter_keys"

    file_id: Mapped[int] = mapped_column(ForeignKey("voter_files.id"), primary_key=True,
                                         autoincrement=False)
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    row: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[int] = mapped_column(SmallInteger)


class RegistrationIndexRow(Base):
    __tablename__ = "registration_indexes"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    bucket_bits: Mapped[int] = mapped_column(Integer)
    key_count: Mapped[int] = mapped_column(Integer)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class VoterFilePointer(Base):
    __tablename__ = "voter_file_pointer"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    file_id: Mapped[int] = mapped_column(BigInteger)
    index_version: Mapped[int] = mapped_column(BigInteger)
    switched_at: Mapped[datetime]


class EntryRegistration(Base):
    __tablename__ = "entry_registrations"
    __table_args__ = (Index("ix_entry_registrations_campaign_file", "campaign_id", "file_id"),)

    entry_id: Mapped[str] = mapped_column(ForeignKey("entries.id"), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(36))
    file_id: Mapped[int] = mapped_column(BigInteger)
    match: Mapped[str] = mapped_column(String(24))
    how: Mapped[str] = mapped_column(String(12))
    matched_at: Mapped[datetime]
