"""intake tables: paper sections, check-ins, import jobs, retention settings

Revision ID: 0100_intake
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0100_intake"
down_revision = "0001"
branch_labels = None
depends_on = None

_BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "paper_sections",
        sa.Column("campaign_id", sa.String(36), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("serial", sa.String(20), nullable=False),
        sa.Column("circulator", sa.String(100), nullable=False),
        sa.Column("issued_at", _TS, nullable=False),
        sa.Column("handed_out_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("campaign_id", "serial"),
    )
    op.create_table(
        "section_checkins",
        sa.Column("id", _BIGID, autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.String(36), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("serial", sa.String(20), nullable=False),
        sa.Column("returned_by", sa.String(100), nullable=False),
        sa.Column("returned_at", _TS, nullable=False),
        sa.Column("signed_lines", sa.Integer(), nullable=False),
        sa.Column("skipped_lines", sa.Text(), nullable=False),
        sa.Column("declaration", sa.String(200), nullable=False),
        sa.Column("received_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_section_checkins_campaign_serial", "section_checkins",
                    ["campaign_id", "serial"])
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("campaign_id", sa.String(36), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("finished_at", _TS, nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("counts_json", sa.Text(), nullable=False),
        sa.Column("enc_rejections", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_import_jobs_campaign_id", "import_jobs", ["campaign_id"])
    op.create_table(
        "intake_settings",
        sa.Column("campaign_id", sa.String(36), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("filed_on", sa.String(10), nullable=False),
        sa.Column("purged_at", _TS, nullable=True),
        sa.Column("purged", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id"),
    )


def downgrade() -> None:
    op.drop_table("intake_settings")
    op.drop_index("ix_import_jobs_campaign_id", table_name="import_jobs")
    op.drop_table("import_jobs")
    op.drop_index("ix_section_checkins_campaign_serial", table_name="section_checkins")
    op.drop_table("section_checkins")
    op.drop_table("paper_sections")
