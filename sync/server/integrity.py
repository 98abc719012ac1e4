"""Checks of invariants the database no longer enforces itself.

The matching-key tables (``signer_keys``, ``block_keys``, ``dedup_index``) carry no foreign
keys (migration 0600: they cost a fifth of PostgreSQL's CPU per entry). The intake keeps them
consistent on its own: every key row names an entry of the same campaign that exists, and
claimed keys (``signer_keys``, ``block_keys``) belong to counted entries only. This module
states those rules as queries, so tests (and an operator) can check them on a live database.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func, not_, select
from sqlalchemy.orm import Session

from sync.server.models import BlockKey, Campaign, Entry, IndexKey, SignerKey


@dataclass(frozen=True)
class KeyIntegrity:
    """Counts of rows breaking a rule; all zero on a consistent database."""

    signer_keys_dangling: int  # entry missing, of another campaign, or not counted
    block_keys_dangling: int
    index_rows_orphaned: int  # feed rows of a campaign that does not exist

    @property
    def ok(self) -> bool:
        return not (self.signer_keys_dangling or self.block_keys_dangling or self.index_rows_orphaned)


def _dangling(session: Session, table) -> int:
    c = table.c
    owner = exists().where(Entry.id == c.entry_id, Entry.campaign_id == c.campaign_id,
                           Entry.counted.is_(True))
    return session.scalar(select(func.count()).select_from(table).where(not_(owner))) or 0


def key_integrity(session: Session) -> KeyIntegrity:
    orphaned = session.scalar(select(func.count()).select_from(IndexKey).where(
        not_(exists().where(Campaign.id == IndexKey.campaign_id)))) or 0
    return KeyIntegrity(_dangling(session, SignerKey.__table__),
                        _dangling(session, BlockKey.__table__), orphaned)


