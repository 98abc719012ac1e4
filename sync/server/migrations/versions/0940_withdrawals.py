"""withdrawals: signers' withdrawal requests (Elections Code 11303) and the lines withdrawn;
the county a returned section names (``section_checkins.county``, for the filing check).

Revision ID: 0940_withdrawals
Revises: 0900_keyed_fingerprints
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0940_withdrawals"
down_revision = "0920_doorstep_scope"
branch_labels = None
depends_on = None


def _ident(length: int) -> sa.String:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "withdrawals",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("campaign_id", sa.String(36), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("enc_signer", sa.LargeBinary(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_via", sa.String(20), nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("match", sa.String(10), nullable=False),
        sa.Column("candidates_json", sa.Text(), nullable=False),
        sa.Column("entry_id", _ident(64), nullable=True),
        sa.Column("decided_by", sa.String(100), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_withdrawals_campaign", "withdrawals", ["campaign_id", "recorded_at"])
    op.create_table(
        "withdrawn_lines",
        sa.Column("entry_id", _ident(64), primary_key=True),
        sa.Column("campaign_id", _ident(36), nullable=False),
        sa.Column("withdrawal_id", sa.String(36), sa.ForeignKey("withdrawals.id"), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_withdrawn_lines_campaign", "withdrawn_lines", ["campaign_id"])
    with op.batch_alter_table("section_checkins") as batch:
        batch.add_column(sa.Column("county", sa.String(64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("section_checkins") as batch:
        batch.drop_column("county")
    op.drop_index("ix_withdrawn_lines_campaign", "withdrawn_lines")
    op.drop_table("withdrawn_lines")
    op.drop_index("ix_withdrawals_campaign", "withdrawals")
    op.drop_table("withdrawals")
