"""Seal again the stored match records an older normalizer made (``canvass-server reseal``).

A match blob (match_blob.py) names the ``sync.normalize.NORMALIZER_VERSION`` that made it.
After an upgrade that bumped it, every stored blob is stale, and the fuzzy matcher reads such
a candidate from its fields: seven decryptions and a normalization instead of one decryption.
``reseal`` rewrites them while the server keeps serving:

- in batches of entries, in id order: a read transaction finds the stale blobs and normalizes
  their entries' fields again; then a short write transaction seals each record (inside the
  transaction, as every sealing is, so a data-key rotation's grace covers it: rotation.py)
  and stores it only if the blob is still the one read -- a purge or a data-key rotation
  meanwhile wins, and what it left stale is resealed by the next run;
- idempotent: a blob of the current version is left as it is, so a second run, or one after
  an interrupted run, rewrites only what is still stale;
- serving processes need no restart: their candidate cache checks each entry against a digest
  of what is stored (dedup.candidates), so a resealed entry is read from its new blob.

Entries without a blob (rejected for their content, stored before migration 0700, purged)
are left without one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select, update

from sync.normalize import NORMALIZER_VERSION, normalized_record
from sync.server.db import Database
from sync.server.dedup import SCORED_FIELDS
from sync.server.match_blob import is_current, seal_match
from sync.server.models import Entry

BATCH_SIZE = 500


@dataclass(frozen=True)
class ResealReport:
    examined: int  # entries with a match blob
    resealed: int  # of those, blobs written again under NORMALIZER_VERSION
    version: int = NORMALIZER_VERSION


def reseal(db: Database, cipher, *, campaign_id: str | None = None, batch_size: int = BATCH_SIZE,
           progress: Callable[[int, int, int], None] | None = None) -> ResealReport:
    """Reseal every stale match blob (of ``campaign_id``'s entries, or of all). ``cipher``
    seals under the current data key (a ServerCipher while others serve). ``progress(examined,
    total, resealed)`` is told after each batch."""
    if batch_size < 1:
        raise ValueError("batch size must be at least 1")
    where = [Entry.enc_match.is_not(None)]
    if campaign_id is not None:
        where.append(Entry.campaign_id == campaign_id)
    with db.read() as s:
        total = s.scalar(select(func.count()).select_from(Entry).where(*where)) or 0
    columns = [getattr(Entry, f"enc_{name}") for name in SCORED_FIELDS]
    examined = resealed = 0
    after = ""
    while True:
        stale = []  # (entry id, blob read, record of its fields)
        with db.read() as s:
            rows = s.execute(select(Entry.id, Entry.enc_match, *columns).where(Entry.id > after, *where)
                             .order_by(Entry.id).limit(batch_size)).all()
            for entry_id, blob, *sealed in rows:
                if is_current(cipher, entry_id, blob):
                    continue
                fields = {name: cipher.decrypt(value, record_id=entry_id, field=name)
                          for name, value in zip(SCORED_FIELDS, sealed, strict=True) if value}
                stale.append((entry_id, blob, normalized_record(fields)))
        if stale:
            with db.write() as s:
                for entry_id, blob, record in stale:
                    done = s.execute(update(Entry).where(Entry.id == entry_id, Entry.enc_match == blob)
                                     .values(enc_match=seal_match(cipher, entry_id, record)))
                    resealed += done.rowcount
        examined += len(rows)
        if progress is not None and rows:
            progress(examined, max(total, examined), resealed)
        if len(rows) < batch_size:
            return ResealReport(examined, resealed)
        after = rows[-1][0]
