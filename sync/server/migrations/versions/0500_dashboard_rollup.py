"""dashboard: indexes on entries for the dashboard's queries, and the dashboard's rollup of
settled entries (written by the dashboard itself, never by ingest; see
sync.server.dashboard).

Revision ID: 0500_dashboard
Revises: 0400_device_teams
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0500_dashboard"
down_revision = "0400_device_teams"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_entries_device_captured", "entries",
                    ["campaign_id", "device_id", "captured_at"])
    op.create_index("ix_entries_campaign_received", "entries", ["campaign_id", "received_at"])
    op.create_table(
        "dashboard_rollup",
        sa.Column("campaign_id", sa.String(36), nullable=False),
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("outside", sa.Integer(), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.Column("max_window", sa.Integer(), nullable=False),
        sa.Column("windows", sa.Text(), nullable=False),
        sa.Column("last_received", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("campaign_id", "device_id", "day"),
    )
    op.create_table(
        "dashboard_sections",
        sa.Column("campaign_id", sa.String(36), nullable=False),
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("section", sa.String(2000), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "device_id", "section"),
    )
    op.create_table(
        "dashboard_rollup_state",
        sa.Column("campaign_id", sa.String(36), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("settled_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id"),
    )


def downgrade() -> None:
    op.drop_table("dashboard_rollup_state")
    op.drop_table("dashboard_sections")
    op.drop_table("dashboard_rollup")
    op.drop_index("ix_entries_campaign_received", table_name="entries")
    op.drop_index("ix_entries_device_captured", table_name="entries")
