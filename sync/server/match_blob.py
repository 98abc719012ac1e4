"""The match blob: an entry's normalized record, sealed once at intake, for the fuzzy matcher.

A candidate of the fuzzy matcher used to cost seven field decryptions and a full
normalization (``normalized_record``) each time it was read -- about a quarter of the
intake's CPU at 1,000,000 stored, where most candidates are read for the first time. The
intake already holds each new entry's normalized record, so it seals it beside the fields
(``entries.enc_match``, the same FieldCipher, bound to the entry id and the name "match"):
a candidate is then one decryption and one JSON parse.

The blob records which normalizer made it (``sync.normalize.NORMALIZER_VERSION``, bumped by
hand with any change to what normalization, nicknames or USPS tables produce), so such a
change can never be answered with a record the current code would not produce: a blob of
another version is ignored and the candidate is read from its fields as before
(``sync.server.dedup.candidates``), until ``canvass-server reseal`` (sync/server/reseal.py)
seals it again. Blobs made before the version was a number hold a digest of the
normalizer's sources there, which is no version: they are read from their fields too, and
resealed. Entries stored before migration 0700 have no blob and are read the same way.
"""

from __future__ import annotations

import json

from sync.normalize import NORMALIZER_VERSION, NormalizedRecord

MATCH_FIELD = "match"  # the FieldCipher field name (associated data) of the blob

# The record's fields in blob order; the city is not scored and not kept.
_FIELDS = ("first", "first_canonical", "middle_initial", "last", "suffix", "house_number",
           "street", "unit", "zip5")
NORMALIZER = NORMALIZER_VERSION  # the first value of every blob sealed here


def seal_match(cipher, entry_id: str, record: NormalizedRecord) -> bytes:
    plain = json.dumps([NORMALIZER, *(getattr(record, name) for name in _FIELDS)],
                       ensure_ascii=False, separators=(",", ":"))
    return cipher.encrypt(plain, record_id=entry_id, field=MATCH_FIELD)


def open_match(cipher, entry_id: str, blob: bytes) -> NormalizedRecord | None:
    """The sealed record, or None when another normalizer made it (read the fields instead)."""
    values = json.loads(cipher.decrypt(blob, record_id=entry_id, field=MATCH_FIELD))
    if not _current(values):
        return None
    return NormalizedRecord(**dict(zip(_FIELDS, values[1:], strict=True)), city="")


def is_current(cipher, entry_id: str, blob: bytes) -> bool:
    """Whether this normalizer made the blob (``open_match`` uses it; reseal.py rewrites it
    if not)."""
    return _current(json.loads(cipher.decrypt(blob, record_id=entry_id, field=MATCH_FIELD)))


def _current(values: list) -> bool:
    return values[0] == NORMALIZER and len(values) == len(_FIELDS) + 1
