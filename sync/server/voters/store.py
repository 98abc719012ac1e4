"""Voter files on the server, what is stored and how it is read: encrypted voter records, their
keys, the device index versions, and each entry's registration match.

Storage (tables below; migration ``0200_voters``):

- ``voter_files``: one row per import (a *generation*): state loading -> active -> retired
  (or failed), row counts, never content.
- ``voter_records``: one row per voter, keyed (file_id, row). The voter's fields (names,
  address, county voter id) are sealed together as one JSON value (field ``voter``, record id
  ``voter:<file>:<row>``): they are only ever used together (scoring), so one AES-GCM seal per
  voter instead of nine keeps the import fast. The cipher is the one entries use: the server's
  rotating data keys (sync.server.rotation; ``svc.cipher`` in the server, a ``ServerCipher`` of
  its own in the CLI), and ``rotate_data`` re-seals voter records with entries, so after a
  rotation no voter is left under a retired key.
- ``voter_keys``: (file_id, key, row, kind): blind keys of each voter. kind 0 = the dedup
  blocking keys (sync.matching, server only), 1 = ``reg_address``, 2 = ``reg_person``
  (sync.voters.keys; the device index is built from kinds 1 and 2 only).
- ``registration_indexes``: the serialized device index of each generation (version = the
  voter file id, so versions only grow), kept for the last KEEP_INDEX_VERSIONS generations
  so devices get deltas.
- ``voter_file_pointer``: per campaign, the active generation. Re-importing loads a new
  generation next to the old one and flips this pointer in one transaction: readers see the
  old file or the new one, never a mix. The old generation's rows are deleted afterwards.
- ``entry_registrations``: the match of each entry against a generation. Rows of another
  generation than the active one are stale (treated as unknown) until re-matched.

When entries are matched: at intake, inside the batch's chunk transaction
(``match_new_entries`` before the chunk's writes, ``PendingRegistrations.write`` after them;
without an active voter file it costs one primary-key read), and for every stored entry
after an import (``rematch_campaign``). The batch answer carries no registration, so each
match known at intake, and each match a re-match changes, adds an outcome row: the device
learns it from its outcomes feed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sync.crypto import FieldCipher
from sync.server.models import (
    RegistrationIndexRow,
    VoterFilePointer,
    VoterKey,
    VoterRecord,
)
from sync.server.rotation import ServerCipher, data_cipher

log = logging.getLogger("canvass.server.voters")

KIND_BLOCK, KIND_ADDRESS, KIND_PERSON = 0, 1, 2
KEEP_INDEX_VERSIONS = 3


def voter_cipher(db, server_keys) -> FieldCipher:
    """Every data key the database names, sealing under the newest (rotation.data_cipher): the
    keys entries use. A snapshot of the key table; long runs use ``cipher_for``."""
    return data_cipher(db, server_keys)


@contextmanager
def cipher_for(db, server_keys, cipher) -> Iterator:
    """``cipher`` when the caller has one (the server passes svc.cipher), else a ServerCipher of
    our own: it follows a data-key rotation that runs meanwhile (seals under the new key within
    its ttl, re-reads the keys when a blob names one it does not hold)."""
    if cipher is not None:
        yield cipher
        return
    own = ServerCipher(db, server_keys)
    try:
        yield own
    finally:
        own.dispose()


def active_file_id(s: Session, campaign_id: str) -> int | None:
    return s.scalar(select(VoterFilePointer.file_id).where(VoterFilePointer.campaign_id == campaign_id))


class VoterImportError(Exception):
    """A refused import (message names no personal data)."""


def drop_generation(db, file_id: int, *, batch: int = 50_000) -> None:
    """Delete a retired or failed generation's records and keys (in slices of rows)."""
    while True:
        with db.write() as s:
            top = s.scalar(select(VoterRecord.row).where(VoterRecord.file_id == file_id)
                           .order_by(VoterRecord.row).offset(batch).limit(1))
            key_cond = [VoterKey.file_id == file_id]
            rec_cond = [VoterRecord.file_id == file_id]
            if top is not None:
                key_cond.append(VoterKey.row < top)
                rec_cond.append(VoterRecord.row < top)
            s.execute(delete(VoterKey).where(*key_cond))
            s.execute(delete(VoterRecord).where(*rec_cond))
        if top is None:
            return


def slices(values: Iterable, size: int = 900) -> Iterator[list]:
    items = sorted(values)
    for i in range(0, len(items), size):
        yield items[i:i + size]


def index_row(s: Session, campaign_id: str, version: int | None = None) -> RegistrationIndexRow | None:
    stmt = select(RegistrationIndexRow).where(RegistrationIndexRow.campaign_id == campaign_id)
    if version is None:
        current = s.scalar(select(VoterFilePointer.index_version)
                           .where(VoterFilePointer.campaign_id == campaign_id))
        if current is None:
            return None
        version = current
    return s.scalar(stmt.where(RegistrationIndexRow.version == version))
