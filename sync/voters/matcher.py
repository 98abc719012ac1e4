"""One petition entry -> ``protocol.RegistrationMatch`` against a voter file (server side).

The deduplication matcher is reused as it is:

1. Candidates at the entry's address: voters sharing a ``sync.matching.blocking_keys`` key
   with the entry (same house + ZIP; same phonetic last name + first initial in the ZIP;
   same phonetic last name + house), or a ``reg_address`` key (keys.py).
2. Each candidate is scored with ``sync.scoring.score_records``. "duplicate", or
   "possible_duplicate" with house number and ZIP exactly equal -> **registered here**
   (``how``: ``exact``, ``fuzzy`` or ``possible``). Scoring is what keeps twins
   (Mario/Maria), Jr/Sr and neighbours apart, and what tolerates a one-letter typo, a
   nickname, ZIP+4, a missing unit or middle name.
3. Otherwise a ``reg_person`` key hit (the name, anywhere in the file) -> **registered
   elsewhere**: a moved voter or a namesake. Name typos are not searched county-wide.
4. Otherwise **not found**. An entry without first or last name stays ``unknown``.

``VoterSource`` is what the matcher needs from storage: the database implementation is in
sync/server/voters/candidates.py, ``MemoryVoterSource`` below serves tests and benchmarks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from sync.matching import blocking_keys
from sync.normalize import NormalizedRecord, normalized_record
from sync.protocol import RegistrationMatch
from sync.scoring import DUPLICATE, POSSIBLE_DUPLICATE, score_records
from sync.voters.keys import probe_keys, registration_subkey, voter_keys

# "possible" counts as "here" only when house number and ZIP agree exactly: a possible match
# with a house or ZIP typo in the same ZIP is as often a neighbour or a moved namesake.
_SAME_ADDRESS = frozenset({"house_exact", "zip_exact"})
# A block (one address) is small; the cap bounds the work a pathological block can cause.
MAX_CANDIDATES = 500


@dataclass(frozen=True)
class MatchResult:
    match: RegistrationMatch
    voter: int | None = None  # the voter record matched "here" (storage id), if any
    how: str = "none"  # exact | fuzzy | possible | name | none | incomplete
    score: float = 0.0


class VoterSource(Protocol):
    def address_candidates(self, blocks: Sequence[str], address_keys: Sequence[bytes],
                           ) -> Iterable[tuple[int, Mapping[str, str]]]:
        """(voter id, voter fields) of voters sharing any of the given keys."""

    def person_exists(self, person_keys: Sequence[bytes]) -> bool:
        """Whether any voter holds one of these ``reg_person`` keys."""


def match_entry(index_key: bytes, fields: Mapping[str, str] | NormalizedRecord, source: VoterSource,
                *, reg_key: bytes | None = None) -> MatchResult:
    record = fields if isinstance(fields, NormalizedRecord) else normalized_record(fields)
    if not (record.first and record.last):
        return MatchResult(RegistrationMatch.UNKNOWN, how="incomplete")
    reg_key = reg_key or registration_subkey(index_key)
    probes = probe_keys(reg_key, record)
    blocks = blocking_keys(index_key, record)
    best: tuple[int, float, int] | None = None  # (rank, score, voter id)
    seen: set[int] = set()
    for voter_id, voter_fields in source.address_candidates(blocks, probes.address):
        if voter_id in seen:
            continue
        seen.add(voter_id)
        if len(seen) > MAX_CANDIDATES:
            break
        result = score_records(record, normalized_record(voter_fields))
        rank = 2 if result.decision == DUPLICATE else 0
        if result.decision == POSSIBLE_DUPLICATE and _SAME_ADDRESS <= set(result.reasons):
            rank = 1  # a doubt about the name, none about the address
        if rank and (best is None or (rank, result.score, -voter_id) > (best[0], best[1], -best[2])):
            best = (rank, result.score, voter_id)
    if best is not None:
        how = "possible" if best[0] == 1 else ("exact" if best[1] >= 0.999 else "fuzzy")
        return MatchResult(RegistrationMatch.REGISTERED_HERE, best[2], how, best[1])
    if probes.person and source.person_exists(probes.person):
        return MatchResult(RegistrationMatch.REGISTERED_ELSEWHERE, how="name")
    return MatchResult(RegistrationMatch.NOT_FOUND)


class MemoryVoterSource:
    """All voters in dictionaries (tests, benchmarks, small files)."""

    def __init__(self, index_key: bytes) -> None:
        self.index_key = index_key
        self.reg_key = registration_subkey(index_key)
        self.voters: dict[int, Mapping[str, str]] = {}
        self.by_block: dict[str, list[int]] = {}
        self.by_address_key: dict[bytes, list[int]] = {}
        self.person_keys: set[bytes] = set()

    def add(self, voter_id: int, fields: Mapping[str, str]) -> None:
        record = normalized_record(fields)
        self.voters[voter_id] = fields
        for block in blocking_keys(self.index_key, record):
            self.by_block.setdefault(block, []).append(voter_id)
        keys = voter_keys(self.reg_key, record)
        for key in keys.address:
            self.by_address_key.setdefault(key, []).append(voter_id)
        self.person_keys.update(keys.person)

    def address_candidates(self, blocks, address_keys):
        ids: list[int] = []
        for block in blocks:
            ids.extend(self.by_block.get(block, ()))
        for key in address_keys:
            ids.extend(self.by_address_key.get(key, ()))
        for voter_id in sorted(set(ids)):
            yield voter_id, self.voters[voter_id]

    def person_exists(self, person_keys) -> bool:
        return any(k in self.person_keys for k in person_keys)

    def registration_keys(self) -> set[bytes]:
        out: set[bytes] = set(self.person_keys)
        out.update(self.by_address_key)
        return out
