"""SQLAlchemy 2.x declarative models of the server database.

Personal fields live only as FieldCipher blobs (``enc_<field>`` columns). Tokens, codes and
passwords are stored as hashes. Matching and blocking keys are HMACs under the campaign's
index key, which itself is stored wrapped under the server key (kept outside the database).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sync.domain import PERSONAL_FIELDS

# BIGINT autoincrement on PostgreSQL, INTEGER PRIMARY KEY (rowid alias) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def ident(length: int) -> String:
    """An identifier column (ids, blind keys): compared byte by byte on PostgreSQL.

    The hot indexes of the intake are on such columns, and a database's default collation
    (C.UTF-8, en_US.UTF-8) compares through strcoll: COLLATE "C" is a memcmp, and the same
    order for the ASCII these columns hold (migration 0800 measured it). SQLite has no "C"
    collation; its default BINARY already is one."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True)}


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


_IN_DOUBT = text("status IN ('duplicate', 'possible_duplicate')")


class Entry(Base):
    """One received signer entry (every status but conflict, which is never stored)."""

    __tablename__ = "entries"
    __table_args__ = (
        UniqueConstraint("device_id", "device_seq", name="uq_entries_device_seq"),
        Index("ix_entries_campaign_line", "campaign_id", "section", "line"),
        # The dashboard (migration 0500): a device's entries by capture time (rollup buckets,
        # 10-minute windows) and the campaign's entries by arrival (the not-yet-settled part).
        Index("ix_entries_device_captured", "campaign_id", "device_id", "captured_at"),
        Index("ix_entries_campaign_received", "campaign_id", "received_at"),
        # The review queue and the filing export's duplicate list (migration 0800): only the
        # few entries in doubt are indexed, so an accepted entry's INSERT skips this index.
        Index("ix_entries_in_doubt", "campaign_id", "status", "received_at",
              postgresql_where=_IN_DOUBT, sqlite_where=_IN_DOUBT),
    )

    id: Mapped[str] = mapped_column(ident(64), primary_key=True)  # the entry_id
    campaign_id: Mapped[str] = mapped_column(ident(36), ForeignKey("campaigns.id"))
    device_id: Mapped[str] = mapped_column(ident(36), ForeignKey("devices.id"))
    device_seq: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[str] = mapped_column(String(64))
    section: Mapped[str] = mapped_column(String(2000))
    line: Mapped[int] = mapped_column(Integer)
    captured_at: Mapped[datetime]
    supersedes: Mapped[str | None] = mapped_column(String(64), nullable=True)
    superseded_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime]
    # Current standing (changes with review decisions) ...
    status: Mapped[str] = mapped_column(String(20))
    duplicate_of: Mapped[str | None] = mapped_column(String(64), nullable=True)
    candidate_of: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason_field: Mapped[str | None] = mapped_column(String(40), nullable=True)
    counted: Mapped[bool] = mapped_column(Boolean, default=False)
    # ... and the first answer, returned unchanged when the same batch is replayed.
    first_result_json: Mapped[str] = mapped_column(Text)


for _name in PERSONAL_FIELDS:
    # Declared in a loop so the encrypted columns can never drift from domain.PERSONAL_FIELDS.
    setattr(Entry, f"enc_{_name}", mapped_column(f"enc_{_name}", LargeBinary, nullable=True))
# The sealed normalized record for the fuzzy matcher (sync.server.match_blob); personal data
# like the fields above, so it is re-sealed by data-key rotation and dropped by a purge.
Entry.enc_match = mapped_column("enc_match", LargeBinary, nullable=True)
# Every sealed column of an entry with its FieldCipher field name.
SEALED_ENTRY_FIELDS: tuple[tuple[str, str], ...] = (
    *((f"enc_{name}", name) for name in PERSONAL_FIELDS), ("enc_match", "match"))


class SignerKey(Base):
    """Matching keys claimed by counted entries. The primary key is the race guard: two
    concurrent first signatures of one signer cannot both claim the same key."""

    __tablename__ = "signer_keys"

    # No foreign keys on the key tables (migration 0600 says why; integrity.py checks).
    campaign_id: Mapped[str] = mapped_column(ident(36), primary_key=True)
    key: Mapped[str] = mapped_column(ident(80), primary_key=True)
    entry_id: Mapped[str] = mapped_column(ident(64), index=True)


class BlockKey(Base):
    """Coarse blocking keys of counted entries: the fuzzy matcher's candidate search."""

    __tablename__ = "block_keys"

    campaign_id: Mapped[str] = mapped_column(ident(36), primary_key=True)
    key: Mapped[str] = mapped_column(ident(80), primary_key=True)
    entry_id: Mapped[str] = mapped_column(ident(64), primary_key=True, index=True)


class Counter(Base):
    """Monotonic sequences for the device feeds. Taking the next value locks the row until
    commit, so feed rows become visible in sequence order and a cursor never skips one."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class IndexKey(Base):
    """The dedup-index feed: matching keys of counted signers, in the order they were claimed."""

    __tablename__ = "dedup_index"

    campaign_id: Mapped[str] = mapped_column(ident(36), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(String(80))


class TeamZip(Base):
    """A ZIP a team is assigned to (issue 15): the region whose signers its devices hold for
    the offline door-step check (sync/server/doorstep_filter.py)."""

    __tablename__ = "team_zips"

    campaign_id: Mapped[str] = mapped_column(String(36), ForeignKey("campaigns.id"), primary_key=True)
    team: Mapped[str] = mapped_column(String(100), primary_key=True)
    zip5: Mapped[str] = mapped_column(String(5), primary_key=True)


class OutcomeRow(Base):
    """The outcomes feed: changes of an entry's standing after its first answer."""

    __tablename__ = "outcomes"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), index=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("entries.id"))
    status: Mapped[str] = mapped_column(String(20))
    duplicate_of: Mapped[str | None] = mapped_column(String(64), nullable=True)
    candidate_of: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime]


class BatchRecord(Base):
    """The first response to each batch, returned verbatim when the batch is replayed."""

    __tablename__ = "batches"

    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    body_fingerprint: Mapped[str] = mapped_column(String(64))
    response_json: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]


class DataKey(Base):
    """Random field-cipher data keys, wrapped under the server key (sync.server.rotation).
    Key id 1 is the legacy key derived from the server key and has no row."""

    __tablename__ = "data_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class AuditLog(Base):
    """Who did what to which object, when. Ids and action names only: no personal data."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(120), default="")
    detail: Mapped[str] = mapped_column(String(200), default="")


class DashboardRollup(Base):
    """Dashboard figures of *settled* entries (received before the campaign's
    ``DashboardRollupState.settled_before``), per device and campaign-local day of capture.
    Written only by the dashboard (sync.server.dashboard_queries.refresh_rollup), never by
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
