"""data_keys: random field-cipher data keys wrapped under the server key (key rotation)

Revision ID: 0300_data_keys
Revises: 0200_voters
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0300_data_keys"
down_revision = "0200_voters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_keys",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("data_keys")
