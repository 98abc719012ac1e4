"""The voter candidates of an entry, read from one generation (sync.voters.matcher's
VoterSource): one entry at a time, or a whole page of entries from three bulk reads."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.crypto import FieldCipher
from sync.server.models import (
    VoterKey,
    VoterRecord,
)
from sync.server.voters.sealing import open_voter
from sync.server.voters.store import (
    KIND_PERSON,
    slices,
)
from sync.voters.matcher import MAX_CANDIDATES

log = logging.getLogger("canvass.server.voters")


class DbVoterSource:
    """sync.voters.matcher.VoterSource over one generation, inside an open session."""

    def __init__(self, session: Session, cipher: FieldCipher, file_id: int) -> None:
        self.s, self.cipher, self.file_id = session, cipher, file_id

    def address_candidates(self, blocks: Sequence[str], address_keys: Sequence[bytes]):
        keys = list(blocks) + [k.hex() for k in address_keys]
        if not keys:
            return []
        rows = sorted(set(self.s.scalars(select(VoterKey.row).where(
            VoterKey.file_id == self.file_id, VoterKey.key.in_(keys)))))[:500]
        if not rows:
            return []
        found = self.s.execute(select(VoterRecord.row, VoterRecord.enc_fields).where(
            VoterRecord.file_id == self.file_id, VoterRecord.row.in_(rows)).order_by(VoterRecord.row))
        return [(row, open_voter(self.cipher, self.file_id, row, blob)) for row, blob in found]

    def person_exists(self, person_keys: Sequence[bytes]) -> bool:
        if not person_keys:
            return False
        return self.s.scalar(select(VoterKey.row).where(
            VoterKey.file_id == self.file_id, VoterKey.key.in_([k.hex() for k in person_keys]),
            VoterKey.kind == KIND_PERSON).limit(1)) is not None


class BulkVoterSource:
    """VoterSource answering a whole page of entries from three bulk reads (DbVoterSource makes
    two or three queries per entry): the voter rows of every entry's blocking and address keys,
    the records of each entry's first MAX_CANDIDATES rows, the person keys that exist. Same
    candidates as DbVoterSource; keys outside the prefetch fall back to it."""

    def __init__(self, s: Session, cipher: FieldCipher, file_id: int,
                 wanted: Sequence[tuple[Sequence[str], Sequence[bytes]]]) -> None:
        self.fallback = DbVoterSource(s, cipher, file_id)
        self.s, self.cipher, self.file_id = s, cipher, file_id
        self.address_keys = {k for keys, _ in wanted for k in keys}
        self.person_keys = {k.hex() for _, persons in wanted for k in persons}
        self.rows_of: dict[str, list[int]] = {}
        for part in slices(self.address_keys):
            for key, row in s.execute(select(VoterKey.key, VoterKey.row).where(
                    VoterKey.file_id == file_id, VoterKey.key.in_(part))):
                self.rows_of.setdefault(key, []).append(row)
        rows = {row for keys, _ in wanted for row in self._rows(keys)}
        self.voters: dict[int, dict[str, str]] = {}
        for part in slices(rows):
            for row, blob in s.execute(select(VoterRecord.row, VoterRecord.enc_fields).where(
                    VoterRecord.file_id == file_id, VoterRecord.row.in_(part))):
                self.voters[row] = open_voter(cipher, file_id, row, blob)
        self.persons_found: set[str] = set()
        for part in slices(self.person_keys):
            self.persons_found.update(s.scalars(select(VoterKey.key).distinct().where(
                VoterKey.file_id == file_id, VoterKey.kind == KIND_PERSON, VoterKey.key.in_(part))))

    def _rows(self, keys: Iterable[str]) -> list[int]:
        found = {row for key in keys for row in self.rows_of.get(key, ())}
        return sorted(found)[:MAX_CANDIDATES]

    def address_candidates(self, blocks: Sequence[str], address_keys: Sequence[bytes]):
        keys = list(blocks) + [k.hex() for k in address_keys]
        if not self.address_keys.issuperset(keys):
            return self.fallback.address_candidates(blocks, address_keys)
        rows = self._rows(keys)
        if not all(row in self.voters for row in rows):
            return self.fallback.address_candidates(blocks, address_keys)
        return [(row, self.voters[row]) for row in rows]

    def person_exists(self, person_keys: Sequence[bytes]) -> bool:
        keys = [k.hex() for k in person_keys]
        if not self.person_keys.issuperset(keys):
            return self.fallback.person_exists(person_keys)
        return any(k in self.persons_found for k in keys)
