"""intake speed: the matching-key tables lose their foreign keys, entries a redundant index.

Every batch chunk writes, per accepted entry, 3 ``signer_keys``, 3 ``block_keys`` and 3
``dedup_index`` rows. Their foreign keys (to ``campaigns`` and ``entries``) cost one
referential-integrity lookup per row -- 15 per entry, about a fifth of PostgreSQL's CPU per
entry at 1,000,000 stored (measured: 0.29 -> 0.23 ms) -- and guard nothing the intake does
not already guarantee: these rows are written only by ``sync.server.dedup.claim_many`` and
the key rotation, in the same transaction as the entry they name, under that entry's
campaign, and entries are never deleted. ``sync.server.integrity.dangling_keys`` checks that
invariant; the test suite runs it after every kind of intake (see tests/test_key_integrity.py).

``ix_entries_campaign_id`` is redundant: every composite index on entries starts with
campaign_id, so PostgreSQL and SQLite use one of those for a campaign-only filter.

Revision ID: 0600_key_tables_without_fk
Revises: 0500_dashboard
"""

from __future__ import annotations

from alembic import op

revision = "0600_key_tables_without_fk"
down_revision = "0500_dashboard"
branch_labels = None
depends_on = None

# Names PostgreSQL gave the constraints of 0001 (SQLite's are unnamed: the convention below
# names them on reflection so batch mode can drop them).
_FKS = {
    "signer_keys": (("campaign_id", "campaigns"), ("entry_id", "entries")),
    "block_keys": (("campaign_id", "campaigns"), ("entry_id", "entries")),
    "dedup_index": (("campaign_id", "campaigns"),),
}
_CONVENTION = {"fk": "%(table_name)s_%(column_0_name)s_fkey"}


def upgrade() -> None:
    for table, fks in _FKS.items():
        with op.batch_alter_table(table, naming_convention=_CONVENTION) as batch:
            for column, _referred in fks:
                batch.drop_constraint(f"{table}_{column}_fkey", type_="foreignkey")
    op.drop_index("ix_entries_campaign_id", table_name="entries")


def downgrade() -> None:
    op.create_index("ix_entries_campaign_id", "entries", ["campaign_id"])
    for table, fks in _FKS.items():
        with op.batch_alter_table(table) as batch:
            for column, referred in fks:
                batch.create_foreign_key(f"{table}_{column}_fkey", referred, [column], ["id"])
