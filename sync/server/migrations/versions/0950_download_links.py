"""download links: one-time, short-lived links to staff exports (sync.server.routes.downloads).

Revision ID: 0950_download_links
Revises: 0900_keyed_fingerprints
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0950_download_links"
down_revision = "0940_withdrawals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "download_links",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("session_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("export", sa.String(20), nullable=False),
        sa.Column("params_json", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_download_links_expires_at", "download_links", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_download_links_expires_at", table_name="download_links")
    op.drop_table("download_links")
