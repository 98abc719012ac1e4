"""Blind-index matching keys: HMAC-SHA256 with the campaign's index key over normalized fields.

A key is ``hmac(index_key, kind + "\\x1f" + "|".join(parts))`` truncated to 16 bytes (32 hex
chars). The kind prefix keeps kinds from colliding with each other. Without the index key
nobody can test a guessed name against a key, and the keys carry no plaintext.

Exact keys (``matching_keys``): the device's "already signed" index and the server's exact
matcher treat equal keys as the same signer, so every kind must be precise. All of them
therefore include the middle initial and the unit ('' when not written): father and son
with different middle initials, or two people of one common name in different apartments of
one building, must not share a key. Entries where only one side wrote a middle initial or
unit are left to the fuzzy scorer (through ``blocking_keys``).

Kinds (the parts after the kind, in order):
- ``name_house_zip``: last | canonical first | middle initial | suffix | house | unit | zip5
- ``phonetic_house_zip``: phonetic(last) | canonical first | ... (same tail). The first name
  is deliberately NOT phonetic: Metaphone merges Mario/Maria, Michael/Michelle and
  Francis/Frances, who are typically twins or siblings at one address. First-name typos are
  the fuzzy scorer's job.
- ``swapped_house_zip``: the two canonical names sorted | ... so first/last written in the
  other boxes still match.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from sync.normalize import NormalizedRecord, canonical_first_name, normalized_record, phonetic

KEY_BYTES = 16
KEY_BYTES_HEX = 32

NAME_HOUSE_ZIP = "name_house_zip"
PHONETIC_HOUSE_ZIP = "phonetic_house_zip"
SWAPPED_HOUSE_ZIP = "swapped_house_zip"
MATCHING_KEY_KINDS: tuple[str, ...] = (NAME_HOUSE_ZIP, PHONETIC_HOUSE_ZIP, SWAPPED_HOUSE_ZIP)

HOUSE_ZIP = "house_zip"
PHONETIC_LAST_INITIAL_ZIP = "phonetic_last_initial_zip"
PHONETIC_LAST_HOUSE = "phonetic_last_house"
BLOCKING_KEY_KINDS: tuple[str, ...] = (HOUSE_ZIP, PHONETIC_LAST_INITIAL_ZIP, PHONETIC_LAST_HOUSE)

_SEPARATOR = "\x1f"


def matching_key_kinds() -> tuple[str, ...]:
    return MATCHING_KEY_KINDS


def blocking_key_kinds() -> tuple[str, ...]:
    return BLOCKING_KEY_KINDS


def _key(index_key: bytes, kind: str, parts: tuple[str, ...]) -> str:
    message = (kind + _SEPARATOR + "|".join(parts)).encode("utf-8")
    return hmac.new(index_key, message, hashlib.sha256).digest()[:KEY_BYTES].hex()


def _unique(keys: list[str]) -> list[str]:
    return list(dict.fromkeys(keys))


def _record(fields: Mapping[str, str] | NormalizedRecord) -> NormalizedRecord:
    return fields if isinstance(fields, NormalizedRecord) else normalized_record(fields)


def matching_keys(index_key: bytes, fields: Mapping[str, str] | NormalizedRecord) -> list[str]:
    """Exact blind keys of one entry, in MATCHING_KEY_KINDS order, deduplicated.

    [] when last name, first name, house number or ZIP5 is missing: such an entry cannot be
    matched exactly and goes to the fuzzy path only."""
    r = _record(fields)
    if not (r.last and r.first_canonical and r.house_number and r.zip5):
        return []
    tail = (r.middle_initial, r.suffix, r.house_number, r.unit, r.zip5)
    swapped = tuple(sorted((canonical_first_name(r.last), r.first_canonical)))
    return _unique([
        _key(index_key, NAME_HOUSE_ZIP, (r.last, r.first_canonical, *tail)),
        _key(index_key, PHONETIC_HOUSE_ZIP, (phonetic(r.last), r.first_canonical, *tail)),
        _key(index_key, SWAPPED_HOUSE_ZIP, (*swapped, *tail)),
    ])


def blocking_keys(index_key: bytes, fields: Mapping[str, str] | NormalizedRecord) -> list[str]:
    """Coarse candidate keys for the server's fuzzy search (never sent to devices).

    Each kind survives a different kind of error, and any one shared key makes a candidate:
    - ``house_zip`` (house | zip5): survives every name error (typos, nicknames, swapped
      names, missing middle/suffix/unit). Block = signers at one address; a large apartment
      building is the worst case and still small.
    - ``phonetic_last_initial_zip`` (phonetic(last) | first initial | zip5): survives a
      house-number typo or a changed street line. The first initial keeps a "Garcia" block
      in a dense ZIP to the M's, not thousands.
    - ``phonetic_last_house`` (phonetic(last) | house): survives a ZIP typo (90012 / 90021).
    Swapped first/last names are caught by house_zip."""
    r = _record(fields)
    keys: list[str] = []
    last_code = phonetic(r.last)
    if r.house_number and r.zip5:
        keys.append(_key(index_key, HOUSE_ZIP, (r.house_number, r.zip5)))
    if last_code and r.first_canonical and r.zip5:
        keys.append(_key(index_key, PHONETIC_LAST_INITIAL_ZIP,
                         (last_code, r.first_canonical[:1], r.zip5)))
    if last_code and r.house_number:
        keys.append(_key(index_key, PHONETIC_LAST_HOUSE, (last_code, r.house_number)))
    return _unique(keys)
