"""door-step scope (issue 15): the ZIPs each team is assigned, for the offline filter.

Revision ID: 0920_doorstep_scope
Revises: 0900_keyed_fingerprints
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0920_doorstep_scope"
down_revision = "0900_keyed_fingerprints"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("team_zips"):
        return  # a schema built from the models, its version set back by a test of an older step
    op.create_table(
        "team_zips",
        sa.Column("campaign_id", sa.String(36), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("team", sa.String(100), nullable=False),
        sa.Column("zip5", sa.String(5), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "team", "zip5"),
    )


def downgrade() -> None:
    op.drop_table("team_zips")
