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

Why one module over 400 lines: the keys, the locks, the claims and the candidates are read and
written together by every caller (ingest, review, withdrawals, rotation, the door-step check);
the scores are sync/scoring.py, the sealed match records match_blob.py, the caches caches.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping

from sqlalchemy import any_, bindparam, delete, func, insert, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from sync.crypto import FieldCipher
from sync.domain import PERSONAL_FIELDS
from sync.protocol import MATCHED_FIELDS
from sync.scoring import MatchScore, address_conflict, match_records
from sync.server.caches import SharedCache
from sync.server.match_blob import open_match
from sync.server.models import BlockKey, Counter, Entry, IndexKey, SignerKey

# A block (one address, one phonetic surname in a ZIP) holds few people; the caps only bound
# the work a hostile or pathological block can cause. Per block: a device that fills one
# address with junk makes every later entry there score at most MAX_CANDIDATES_PER_BLOCK
# candidates from it (the oldest by entry id), however large the block grows; the entry's
# exact matching keys and its other blocks still find a true duplicate.
MAX_CANDIDATES_PER_BLOCK = 100
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


def decrypt_fields(cipher: FieldCipher, entry: Entry) -> dict[str, str]:
    out = {}
    for name in PERSONAL_FIELDS:
        blob = getattr(entry, f"enc_{name}")
        out[name] = cipher.decrypt(blob, record_id=entry.id, field=name) if blob else ""
    return out


def exact_owners(session: Session, campaign_id: str, keys: Iterable[str],
                 exclude: str | None = None) -> list[str]:
    """The counted entries that claimed any of ``keys``, in entry id order (read only)."""
    return sorted(set(signer_owners(session, campaign_id, keys).values()) - {exclude})


def find_exact(session: Session, campaign_id: str, keys: list[str], exclude: str | None) -> str | None:
    found = exact_owners(session, campaign_id, keys, exclude)
    return found[0] if found else None


def scored_candidates(session: Session, cipher: FieldCipher, cache: SharedCache, campaign_id: str,
                      record, blocks: list[str], exclude: str | None = None) -> list[tuple[str, MatchScore]]:
    """(entry id, MatchScore) of every candidate the fuzzy matcher would weigh for this
    normalized record that is not distinct from it -- the same blocks, caps and scorer as
    intake, reading only (a withdrawal request lists them for a person to pick from,
    sync.server.withdrawals). ``cache``: the candidate cache (Services.candidates)."""
    ids = capped_candidates(block_owners(session, campaign_id, blocks), blocks, exclude)
    cands = candidates(session, cipher, ids, cache) if ids else {}
    return list(_scores(record, [i for i in ids if i in cands], cands.__getitem__, cipher))


# --------------------------------------------------------------------------------------------
# Bulk reads and writes: a few IN queries per chunk of entries instead of several statements
# per entry. Every claim and release goes through claim_many / release_many (batch intake,
# review, withdrawals, key rotation); the caller holds the advisory locks of every key it
# passes, or a lock that excludes every other claim (rotation).

# The fields score_records needs (normalized_record's but the city): candidates are decrypted
# for these only, the address ones first (see Candidate).
SCORED_FIELDS: tuple[str, ...] = MATCHED_FIELDS
_ADDRESS_FIELDS = ("street", "zip")
_IN_CHUNK = 900  # bound on bound parameters per IN list (SQLite's limit is far higher)
_ANY_CHUNK = 20_000  # PostgreSQL: one array parameter per statement, bounded all the same


def _chunks(values: Iterable, size: int = _IN_CHUNK) -> Iterable[list]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _in_parts(session: Session, column, values: Iterable) -> Iterable:
    """``column IN values`` as WHERE clauses, a part at a time. On PostgreSQL a single array
    parameter (``= ANY(:values)``): an expanded IN list costs a bound parameter per value to
    render, send and plan."""
    values = list(values)
    for part in _chunks(values, _ANY_CHUNK if _pg(session) else _IN_CHUNK):
        yield in_values(session, column, part)


def in_values(session: Session, column, values: Iterable):
    """``column IN values`` in one clause (``= ANY(:array)`` on PostgreSQL); for short lists."""
    values = list(values)
    if _pg(session):
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


def signer_owners(session: Session, campaign_id: str, keys: Iterable[str]) -> dict[str, str]:
    """key -> the counted entry that claimed it, for those of ``keys`` that are claimed."""
    out: dict[str, str] = {}
    for where in _in_parts(session, SignerKey.key, set(keys)):
        out.update((key, entry_id) for key, entry_id in session.execute(
            select(SignerKey.key, SignerKey.entry_id).where(SignerKey.campaign_id == campaign_id, where)))
    return out


def block_owners(session: Session, campaign_id: str, blocks: Iterable[str]) -> dict[str, set[str]]:
    """block key -> the counted entries that hold it, at most MAX_CANDIDATES_PER_BLOCK each
    (the first by entry id): a huge block is never read in full."""
    out: dict[str, set[str]] = {}
    rank = func.row_number().over(partition_by=BlockKey.key, order_by=BlockKey.entry_id)
    for where in _in_parts(session, BlockKey.key, set(blocks)):
        ranked = (select(BlockKey.key, BlockKey.entry_id, rank.label("rank"))
                  .where(BlockKey.campaign_id == campaign_id, where).subquery())
        for key, entry_id in session.execute(select(ranked.c.key, ranked.c.entry_id).where(
                ranked.c.rank <= MAX_CANDIDATES_PER_BLOCK)):
            out.setdefault(key, set()).add(entry_id)
    return out


def claims_of(session: Session,
              entry_ids: Iterable[str]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The matching keys and the blocking keys each of ``entry_ids`` holds now."""
    signer: dict[str, list[str]] = {}
    blocks: dict[str, list[str]] = {}
    entry_ids = set(entry_ids)
    for where in _in_parts(session, SignerKey.entry_id, entry_ids):
        for key, entry_id in session.execute(select(SignerKey.key, SignerKey.entry_id).where(where)):
            signer.setdefault(entry_id, []).append(key)
    for where in _in_parts(session, BlockKey.entry_id, entry_ids):
        for key, entry_id in session.execute(select(BlockKey.key, BlockKey.entry_id).where(where)):
            blocks.setdefault(entry_id, []).append(key)
    return signer, blocks


# The one decision rule of the fuzzy matcher, shared by batch intake (ingest.py, over its
# in-memory maps); the read-only door-step check (stored_findings, doorstep.py) reads the same
# scored candidates with its own rule (doorstep_rule.py).
RANK = {"duplicate": 2, "possible_duplicate": 1}


def capped_candidates(owners_of: Mapping[str, Iterable[str]], blocks: Iterable[str],
                      exclude: str | None) -> list[str]:
    """The candidates of an entry's blocks: at most MAX_CANDIDATES_PER_BLOCK from each block
    (the first by entry id), MAX_CANDIDATES in all, ``exclude`` (a corrected entry) left out."""
    found: set[str] = set()
    for b in blocks:
        owners = owners_of.get(b, ())
        if len(owners) > MAX_CANDIDATES_PER_BLOCK:
            owners = sorted(owners)[:MAX_CANDIDATES_PER_BLOCK]
        found.update(owners)
    found.discard(exclude)
    return sorted(found)[:MAX_CANDIDATES]


def _scores(record, candidate_ids: Iterable[str], load: Callable[[str], Candidate],
            cipher: FieldCipher) -> Iterator[tuple[str, MatchScore]]:
    """(entry id, score) of each candidate the scorer does not call distinct."""
    for candidate in candidate_ids:
        cand = load(candidate)
        # A house / ZIP conflict first, from the candidate's address alone: exactly the pairs
        # the scorer calls distinct for it, most of a large block's candidates.
        if address_conflict(record.house_number, record.zip5, cand.house, cand.zip5):
            continue
        score = match_records(record, cand.record(cipher))  # None: distinct
        if score is not None:
            yield candidate, score


def best_candidate(record, candidate_ids: Iterable[str], load: Callable[[str], Candidate],
                   cipher: FieldCipher) -> tuple[int, float, str] | None:
    """(rank, score, entry id) of the best candidate (a duplicate beats a possible one, then
    the higher score), or None when every candidate is distinct."""
    best: tuple[int, float, str] | None = None
    for candidate, score in _scores(record, candidate_ids, load, cipher):
        rank = RANK[score.decision]
        if rank and (best is None or (rank, score.score) > best[:2]):
            best = (rank, score.score, candidate)
    return best


def stored_findings(session: Session, cipher: FieldCipher, cache: SharedCache, campaign_id: str, record,
                    keys: list[str], blocks: list[str]) -> tuple[bool, list[tuple[object, MatchScore]]]:
    """What batch intake would weigh for a new entry with this normalized record, matching
    keys and blocking keys, against the campaign's counted entries: whether one holds any of
    ``keys``, and (stored normalized record, score) of every candidate of ``blocks`` the
    scorer does not call distinct (the same caps and scorer as batch intake; none when an
    exact key is held). Reading only: nothing is claimed, locked or written. The door-step
    check (doorstep.py) decides on these with a rule of its own (doorstep_rule.py)."""
    if signer_owners(session, campaign_id, keys):
        return True, []
    ids = capped_candidates(block_owners(session, campaign_id, blocks), blocks, None)
    cands = candidates(session, cipher, ids, cache) if ids else {}
    scored = _scores(record, [i for i in ids if i in cands], cands.__getitem__, cipher)
    return False, [(cands[i].record(cipher), score) for i, score in scored]


class Candidate:
    """A stored entry as the fuzzy matcher reads it: from its match blob, the whole record at
    once; from its fields (no usable blob), in two steps: its house number and ZIP5 first
    (street + zip), which rule most candidates of a large block out
    (``sync.scoring.address_conflict``), the whole NormalizedRecord only when asked.

    Candidates are kept in a bounded cache of the Services (``Services.candidates``) keyed by
    entry id and checked against a digest of the stored ciphertexts, so a hit is always the
    same sealed values (a re-encryption or another database with a reused id is a miss). The
    cache holds what this process has decrypted already; a process whose memory can be read
    holds the data key."""

    __slots__ = ("entry_id", "digest", "house", "zip5", "_blobs", "_record")

    def __init__(self, entry_id: str, digest: bytes, house: str, zip_5: str,
                 blobs: dict[str, bytes] | None, record=None) -> None:
        self.entry_id, self.digest, self.house, self.zip5 = entry_id, digest, house, zip_5
        self._blobs, self._record = blobs, record

    @classmethod
    def of_record(cls, entry_id: str, record) -> Candidate:
        return cls(entry_id, b"", record.house_number, record.zip5, None, record)

    def record(self, cipher: FieldCipher):
        record = self._record
        if record is None:
            from sync.normalize import normalized_record

            blobs = self._blobs
            if blobs is None:  # another thread decoded it meanwhile (it sets _record first)
                return self._record
            record = normalized_record({name: cipher.decrypt(blob, record_id=self.entry_id, field=name)
                                        for name, blob in blobs.items()})
            self._record = record
            self._blobs = None
        return record


def _digest(entry_id: str, blobs: tuple) -> bytes:
    h = hashlib.blake2b(entry_id.encode(), digest_size=16)
    for blob in blobs:
        h.update(b"\x00" if blob is None else len(blob).to_bytes(2, "big") + bytes(blob))
    return h.digest()


def candidates(session: Session, cipher: FieldCipher, entry_ids: Iterable[str],
               cache: SharedCache) -> dict[str, Candidate]:
    """entry id -> Candidate (see the class), for the stored entries among ``entry_ids``;
    ``cache`` is the candidate cache (Services.candidates), read and filled.

    An entry's match blob (sync.server.match_blob) is one decryption; entries without a
    usable blob (stored before it existed, or by another normalizer) are read from their
    fields, the address first."""
    out: dict[str, Candidate] = {}
    fresh: list[Candidate] = []
    from_fields: list[str] = []
    sealed: list[tuple[str, bytes, bytes]] = []  # (entry id, digest, blob)
    for where in _in_parts(session, Entry.id, set(entry_ids)):
        for entry_id, blob in session.execute(select(Entry.id, Entry.enc_match).where(where)):
            if blob is None:
                from_fields.append(entry_id)
            else:
                sealed.append((entry_id, _digest(entry_id, (blob,)), blob))
    held = cache.get_many([entry_id for entry_id, _, _ in sealed])  # one lock for the lot
    for entry_id, digest, blob in sealed:
        cached = held.get(entry_id)
        if cached is not None and cached.digest == digest:
            out[entry_id] = cached
            continue
        record = open_match(cipher, entry_id, blob)
        if record is None:
            from_fields.append(entry_id)
            continue
        candidate = Candidate(entry_id, digest, record.house_number, record.zip5, None, record)
        out[entry_id] = candidate
        fresh.append(candidate)
    if from_fields:
        _from_fields(session, cipher, cache, from_fields, out, fresh)
    if fresh:
        cache.put_many((candidate.entry_id, candidate) for candidate in fresh)
    return out


def _from_fields(session: Session, cipher: FieldCipher, cache: SharedCache, entry_ids: list[str],
                 out: dict[str, Candidate], fresh: list[Candidate]) -> None:
    from sync.normalize import house_number, zip5

    columns = [getattr(Entry, f"enc_{name}") for name in SCORED_FIELDS]
    rows = []
    for where in _in_parts(session, Entry.id, entry_ids):
        rows.extend(session.execute(select(Entry.id, *columns).where(where)))
    held = cache.get_many([row[0] for row in rows])
    for row in rows:
        entry_id, blobs = row[0], row[1:]
        digest = _digest(entry_id, blobs)
        cached = held.get(entry_id)
        if cached is not None and cached.digest == digest:
            out[entry_id] = cached
            continue
        sealed = {name: blob for name, blob in zip(SCORED_FIELDS, blobs, strict=True) if blob}
        plain = {name: cipher.decrypt(sealed[name], record_id=entry_id, field=name)
                 for name in _ADDRESS_FIELDS if name in sealed}
        candidate = Candidate(entry_id, digest,
                              house_number(plain.get("street", "")),
                              zip5(plain.get("zip", "")), sealed)
        out[entry_id] = candidate
        fresh.append(candidate)


def candidate_records(session: Session, cipher: FieldCipher, entry_ids: Iterable[str],
                      cache: SharedCache) -> dict:
    """entry id -> NormalizedRecord of its stored scored fields (decrypted in memory only)."""
    found = candidates(session, cipher, entry_ids, cache)
    return {entry_id: c.record(cipher) for entry_id, c in found.items()}


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
    """Make entries the counted ones for their keys: (key, entry_id) rows to insert, and the
    matching keys for the devices' dedup-index feed in claim order (a key claimed and released
    within one chunk stays in the feed). One counter reservation for the whole feed, taken
    last so the counter row is locked only until the commit that follows.

    Plain inserts on purpose: if another transaction claimed one of the keys, the unique
    violation (IntegrityError, or psycopg's UniqueViolation from COPY) aborts this one, and
    batch intake retries it (ingest._retryable)."""
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
    """The entries stop counting (superseded, withdrawn, a review decision undone): their
    keys are free for others to claim. Their keys stay in the devices' index feed: a stale
    "already signed" hint on a device is harmless, the server decides."""
    entry_ids = set(entry_ids)
    for where in _in_parts(session, SignerKey.entry_id, entry_ids):
        session.execute(delete(SignerKey).where(where))
    for where in _in_parts(session, BlockKey.entry_id, entry_ids):
        session.execute(delete(BlockKey).where(where))
