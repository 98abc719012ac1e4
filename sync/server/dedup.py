"""Server-side deduplication: the first signature of a signer counts, later ones point at it.

Exact matching: the entry's blind ``matching_keys`` are looked up in ``signer_keys``, where
every counted entry has claimed its keys. Fuzzy matching: entries sharing a ``blocking_key``
are candidates; their fields are decrypted in memory only and scored with
``sync.scoring.score_pair``.

Correctness under concurrency is the database's job, never an in-process lock:
- ``signer_keys`` has a primary key (campaign_id, key). Two concurrent first signatures of one
  signer cannot both claim a key: the second INSERT fails, its transaction is retried
  (ingest.py) and then finds the first one as an exact match.
- Fuzzy matches share no exact key, so the unique key cannot catch them. On PostgreSQL each
  transaction therefore takes ``pg_advisory_xact_lock`` on a 64-bit hash of every key it will
  read or claim (matching and blocking keys), in sorted order so that two transactions can
  never wait on each other in a cycle. Held until commit, the locks make check-then-claim
  atomic for every pair of entries that share any key. On SQLite, write transactions start
  with BEGIN IMMEDIATE (db.py), so they are serialized whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from sync.crypto import FieldCipher
from sync.domain import PERSONAL_FIELDS
from sync.protocol import EntryStatus
from sync.scoring import score_pair
from sync.server.models import BlockKey, Counter, Entry, IndexKey, SignerKey

# A block (one address, one phonetic surname in a ZIP) holds few people; the cap only bounds
# the work a hostile or pathological block can cause.
MAX_CANDIDATES = 500


def lock_id(campaign_id: str, key: str) -> int:
    digest = hashlib.sha256(f"{campaign_id}\x1f{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_keys(session: Session, campaign_id: str, keys: Iterable[str]) -> None:
    """Transaction-level advisory locks on PostgreSQL (no-op on SQLite, which serializes)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for ident in sorted({lock_id(campaign_id, k) for k in keys}):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ident})


def next_counter(session: Session, name: str, step: int = 1) -> int:
    """Reserve ``step`` values of a named counter; returns the last one reserved.

    The upsert locks the counter row until commit, so rows stamped with these values become
    visible in counter order: a reader's cursor can never pass a value still uncommitted.
    """
    dialect = session.get_bind().dialect.name
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(Counter)
    stmt = ins.values(name=name, value=step).on_conflict_do_update(
        index_elements=[Counter.name], set_={"value": Counter.value + step}
    ).returning(Counter.value)
    return int(session.execute(stmt).scalar_one())


def index_counter_name(campaign_id: str) -> str:
    return f"index:{campaign_id}"


@dataclass(frozen=True)
class Verdict:
    status: EntryStatus
    duplicate_of: str | None = None
    candidate_of: str | None = None


def decrypt_fields(cipher: FieldCipher, entry: Entry) -> dict[str, str]:
    out = {}
    for name in PERSONAL_FIELDS:
        blob = getattr(entry, f"enc_{name}")
        out[name] = cipher.decrypt(blob, record_id=entry.id, field=name) if blob else ""
    return out


def find_exact(session: Session, campaign_id: str, keys: list[str], exclude: str | None) -> str | None:
    if not keys:
        return None
    stmt = select(SignerKey.entry_id).where(SignerKey.campaign_id == campaign_id,
                                            SignerKey.key.in_(keys))
    if exclude:
        stmt = stmt.where(SignerKey.entry_id != exclude)
    found = sorted(set(session.scalars(stmt)))
    return found[0] if found else None


def find_fuzzy(session: Session, cipher: FieldCipher, campaign_id: str, blocks: list[str],
               fields: Mapping[str, str], exclude: str | None) -> Verdict | None:
    if not blocks:
        return None
    stmt = (select(BlockKey.entry_id).where(BlockKey.campaign_id == campaign_id,
                                            BlockKey.key.in_(blocks))
            .distinct().order_by(BlockKey.entry_id).limit(MAX_CANDIDATES))
    if exclude:
        stmt = stmt.where(BlockKey.entry_id != exclude)
    ids = list(session.scalars(stmt))
    if not ids:
        return None
    best: tuple[int, float, str] | None = None  # (rank, score, entry_id): duplicate beats possible
    for candidate in session.scalars(select(Entry).where(Entry.id.in_(ids))):
        result = score_pair(fields, decrypt_fields(cipher, candidate))
        rank = {"duplicate": 2, "possible_duplicate": 1}.get(result.decision, 0)
        if rank and (best is None or (rank, result.score) > best[:2]):
            best = (rank, result.score, candidate.id)
    if best is None:
        return None
    if best[0] == 2:
        return Verdict(EntryStatus.DUPLICATE, duplicate_of=best[2])
    return Verdict(EntryStatus.POSSIBLE_DUPLICATE, candidate_of=best[2])


def judge(session: Session, cipher: FieldCipher, campaign_id: str, fields: Mapping[str, str],
          keys: list[str], blocks: list[str], exclude: str | None) -> Verdict:
    """Exact first, then fuzzy. The caller holds the key locks (see lock_keys)."""
    exact = find_exact(session, campaign_id, keys, exclude)
    if exact is not None:
        return Verdict(EntryStatus.DUPLICATE, duplicate_of=exact)
    fuzzy = find_fuzzy(session, cipher, campaign_id, blocks, fields, exclude)
    return fuzzy or Verdict(EntryStatus.ACCEPTED)


def claim(session: Session, campaign_id: str, entry_id: str, keys: list[str], blocks: list[str]) -> None:
    """Make ``entry_id`` the counted entry for its keys. A plain INSERT on purpose: if another
    transaction claimed one of the keys, IntegrityError aborts this one and it is retried."""
    if keys:
        session.execute(insert(SignerKey), [{"campaign_id": campaign_id, "key": k, "entry_id": entry_id}
                                            for k in keys])
        last = next_counter(session, index_counter_name(campaign_id), len(keys))
        first = last - len(keys) + 1
        session.execute(insert(IndexKey), [{"version": first + i, "campaign_id": campaign_id, "key": k}
                                           for i, k in enumerate(keys)])
    if blocks:
        session.execute(insert(BlockKey), [{"campaign_id": campaign_id, "key": b, "entry_id": entry_id}
                                           for b in blocks])


def release(session: Session, entry_id: str) -> None:
    """The entry stops counting (superseded): its keys are free for others to claim.

    Its keys stay in the devices' index feed: a stale "already signed" hint on a device is
    harmless, the server decides."""
    session.execute(delete(SignerKey).where(SignerKey.entry_id == entry_id))
    session.execute(delete(BlockKey).where(BlockKey.entry_id == entry_id))


def claimed_keys(session: Session, entry_id: str) -> list[str]:
    rows = session.scalars(select(SignerKey.key).where(SignerKey.entry_id == entry_id)).all()
    rows += session.scalars(select(BlockKey.key).where(BlockKey.entry_id == entry_id)).all()
    return list(rows)
