"""The match blob: an entry's normalized record, sealed once at intake, for the fuzzy matcher.

A candidate of the fuzzy matcher used to cost seven field decryptions and a full
normalization (``normalized_record``) each time it was read -- about a quarter of the
intake's CPU at 1,000,000 stored, where most candidates are read for the first time. The
intake already holds each new entry's normalized record, so it seals it beside the fields
(``entries.enc_match``, the same FieldCipher, bound to the entry id and the name "match"):
a candidate is then one decryption and one JSON parse.

The blob records which normalizer made it (a digest of the normalizer's sources), so a
change to normalization, nicknames or USPS tables can never be answered with a record
the current code would not produce: such a blob is ignored and the candidate is read from
its fields as before (``sync.server.dedup.candidates``). Entries stored before migration
0700 have no blob and are read the same way.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sync import nicknames, normalize, usps
from sync.normalize import NormalizedRecord

MATCH_FIELD = "match"  # the FieldCipher field name (associated data) of the blob

# The record's fields in blob order; the city is not scored and not kept.
_FIELDS = ("first", "first_canonical", "middle_initial", "last", "suffix", "house_number",
           "street", "unit", "zip5")


def _normalizer_digest() -> str:
    h = hashlib.sha256()
    for module in (normalize, nicknames, usps):
        h.update(Path(module.__file__).read_bytes())
    return h.hexdigest()[:16]


NORMALIZER = _normalizer_digest()


def seal_match(cipher, entry_id: str, record: NormalizedRecord) -> bytes:
    plain = json.dumps([NORMALIZER, *(getattr(record, name) for name in _FIELDS)],
                       ensure_ascii=False, separators=(",", ":"))
    return cipher.encrypt(plain, record_id=entry_id, field=MATCH_FIELD)


def open_match(cipher, entry_id: str, blob: bytes) -> NormalizedRecord | None:
    """The sealed record, or None when another normalizer made it (read the fields instead)."""
    values = json.loads(cipher.decrypt(blob, record_id=entry_id, field=MATCH_FIELD))
    if values[0] != NORMALIZER or len(values) != len(_FIELDS) + 1:
        return None
    return NormalizedRecord(**dict(zip(_FIELDS, values[1:], strict=True)), city="")
