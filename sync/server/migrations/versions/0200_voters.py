"""voters: voter files (generations), encrypted voter records, keys, registration index
versions, the active-file pointer and each entry's registration match

Revision ID: 0200_voters
Revises: 0100_intake
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0200_voters"
down_revision = "0100_intake"
branch_labels = None
depends_on = None

_FILE_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "voter_files",
        sa.Column("id", _FILE_ID, autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.String(36), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("finished_at", _TS, nullable=True),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_loaded", sa.Integer(), nullable=False),
        sa.Column("stats_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_voter_files_campaign_id", "voter_files", ["campaign_id"])
    op.create_table(
        "voter_records",
        sa.Column("file_id", _FILE_ID, sa.ForeignKey("voter_files.id"), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("enc_fields", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("file_id", "row"),
    )
    op.create_table(
        "voter_keys",
        sa.Column("file_id", _FILE_ID, sa.ForeignKey("voter_files.id"), nullable=False),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("file_id", "key", "row"),
    )
    op.create_table(
        "registration_indexes",
        sa.Column("campaign_id", sa.String(36), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("version", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("bucket_bits", sa.Integer(), nullable=False),
        sa.Column("key_count", sa.Integer(), nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "version"),
    )
    op.create_table(
        "voter_file_pointer",
        sa.Column("campaign_id", sa.String(36), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("file_id", sa.BigInteger(), nullable=False),
        sa.Column("index_version", sa.BigInteger(), nullable=False),
        sa.Column("switched_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("campaign_id"),
    )
    op.create_table(
        "entry_registrations",
        sa.Column("entry_id", sa.String(64), sa.ForeignKey("entries.id"), nullable=False),
        sa.Column("campaign_id", sa.String(36), nullable=False),
        sa.Column("file_id", sa.BigInteger(), nullable=False),
        sa.Column("match", sa.String(24), nullable=False),
        sa.Column("how", sa.String(12), nullable=False),
        sa.Column("matched_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("entry_id"),
    )
    op.create_index("ix_entry_registrations_campaign_file", "entry_registrations",
                    ["campaign_id", "file_id"])


def downgrade() -> None:
    op.drop_index("ix_entry_registrations_campaign_file", table_name="entry_registrations")
    op.drop_table("entry_registrations")
    op.drop_table("voter_file_pointer")
    op.drop_table("registration_indexes")
    op.drop_table("voter_keys")
    op.drop_table("voter_records")
    op.drop_index("ix_voter_files_campaign_id", table_name="voter_files")
    op.drop_table("voter_files")
