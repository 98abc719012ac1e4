"""intake speed: ``entries.enc_match``, the sealed normalized record the fuzzy matcher reads
(sync.server.match_blob). Nullable: entries stored before it are read from their fields.

Revision ID: 0700_entry_match_blob
Revises: 0600_key_tables_without_fk
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0700_entry_match_blob"
down_revision = "0600_key_tables_without_fk"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.add_column(sa.Column("enc_match", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.drop_column("enc_match")
