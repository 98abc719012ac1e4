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
- Batch intake (ingest.py) locks the blocking keys (and section lines) of a whole chunk of
  entries in one statement, and not the matching keys: an entry has matching keys only when
  it has a house number and a ZIP5, every matching key includes both, so two entries that
  share a matching key always share the ``house_zip`` blocking key and hence a lock. That
  halves the locks a chunk holds in PostgreSQL's shared lock table.
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


_LOCK_MANY = text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:ids AS bigint[])) AS k")


def lock_keys(session: Session, campaign_id: str, keys: Iterable[str]) -> None:
    """Transaction-level advisory locks on PostgreSQL (no-op on SQLite, which serializes).

    One statement for all keys: ``unnest`` yields the ids in the (sorted) array order and the
    locks are taken row by row in that order, so two transactions never wait in a cycle."""
    if session.get_bind().dialect.name != "postgresql":
        return
    ids = sorted({lock_id(campaign_id, k) for k in keys})
    if ids:
        session.execute(_LOCK_MANY, {"ids": ids}).all()


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


# --------------------------------------------------------------------------------------------
# Bulk forms for batch intake (ingest.py): a few IN queries per chunk instead of several
# statements per entry. The caller holds the advisory locks of every key it passes.

# The fields normalized_record reads: candidates are decrypted for these only.
SCORED_FIELDS: tuple[str, ...] = ("first_name", "middle_name", "last_name", "suffix", "street",
                                  "unit", "city", "zip")
_IN_CHUNK = 900  # bound on bound parameters per IN list (SQLite's limit is far higher)


def _chunks(values: Iterable, size: int = _IN_CHUNK) -> Iterable[list]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def signer_owners(session: Session, campaign_id: str, keys: Iterable[str]) -> dict[str, str]:
    """key -> the counted entry that claimed it, for those of ``keys`` that are claimed."""
    out: dict[str, str] = {}
    for part in _chunks(set(keys)):
        out.update((key, entry_id) for key, entry_id in session.execute(
            select(SignerKey.key, SignerKey.entry_id).where(
                SignerKey.campaign_id == campaign_id, SignerKey.key.in_(part))))
    return out


def block_owners(session: Session, campaign_id: str, blocks: Iterable[str]) -> dict[str, set[str]]:
    """block key -> the counted entries that hold it."""
    out: dict[str, set[str]] = {}
    for part in _chunks(set(blocks)):
        for key, entry_id in session.execute(select(BlockKey.key, BlockKey.entry_id).where(
                BlockKey.campaign_id == campaign_id, BlockKey.key.in_(part))):
            out.setdefault(key, set()).add(entry_id)
    return out


def claims_of(session: Session,
              entry_ids: Iterable[str]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The matching keys and the blocking keys each of ``entry_ids`` holds now."""
    signer: dict[str, list[str]] = {}
    blocks: dict[str, list[str]] = {}
    for part in _chunks(set(entry_ids)):
        for key, entry_id in session.execute(select(SignerKey.key, SignerKey.entry_id).where(
                SignerKey.entry_id.in_(part))):
            signer.setdefault(entry_id, []).append(key)
        for key, entry_id in session.execute(select(BlockKey.key, BlockKey.entry_id).where(
                BlockKey.entry_id.in_(part))):
            blocks.setdefault(entry_id, []).append(key)
    return signer, blocks


def candidate_records(session: Session, cipher: FieldCipher, entry_ids: Iterable[str]) -> dict:
    """entry id -> NormalizedRecord of its stored fields (decrypted in memory only)."""
    from sync.normalize import normalized_record

    columns = [getattr(Entry, f"enc_{name}") for name in SCORED_FIELDS]
    out = {}
    for part in _chunks(set(entry_ids)):
        for row in session.execute(select(Entry.id, *columns).where(Entry.id.in_(part))):
            entry_id = row[0]
            fields = {name: cipher.decrypt(blob, record_id=entry_id, field=name)
                      for name, blob in zip(SCORED_FIELDS, row[1:], strict=True) if blob}
            out[entry_id] = normalized_record(fields)
    return out


def bulk_insert(session: Session, table, rows: list[dict]) -> None:
    """INSERT many rows in the session's transaction: COPY on PostgreSQL (an executemany costs
    a protocol round per row there), executemany elsewhere. Every row has the same keys.
    A unique violation surfaces as psycopg's UniqueViolation (sqlstate 23505) from COPY."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(table), rows)
        return
    columns = list(rows[0])
    cursor = session.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def claim_many(session: Session, campaign_id: str, signer: list[tuple[str, str]],
               blocks: list[tuple[str, str]], feed: list[str]) -> None:
    """Bulk ``claim``: (key, entry_id) rows to insert, and the matching keys for the devices'
    dedup-index feed in claim order (a key claimed and released within one chunk stays in the
    feed, as with ``claim`` then ``release``). One counter reservation for the whole feed,
    taken last so the counter row is locked only until the commit that follows."""
    if signer:
        bulk_insert(session, SignerKey.__table__, [{"campaign_id": campaign_id, "key": k, "entry_id": e}
                                            for k, e in signer])
    if blocks:
        bulk_insert(session, BlockKey.__table__, [{"campaign_id": campaign_id, "key": k, "entry_id": e}
                                           for k, e in blocks])
    if feed:
        last = next_counter(session, index_counter_name(campaign_id), len(feed))
        first = last - len(feed) + 1
        bulk_insert(session, IndexKey.__table__, [
            {"version": first + i, "campaign_id": campaign_id, "key": k} for i, k in enumerate(feed)])


def release_many(session: Session, entry_ids: Iterable[str]) -> None:
    for part in _chunks(set(entry_ids)):
        session.execute(delete(SignerKey).where(SignerKey.entry_id.in_(part)))
        session.execute(delete(BlockKey).where(BlockKey.entry_id.in_(part)))
