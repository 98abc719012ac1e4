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
from collections.abc import Iterable, Mapping

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


# ------------------------------------------------------------------------------ door-step keys
#
# The offline door-step check (issue 15) asks "did someone like this already sign?" against a
# filter of keys the server built for this device's scope (sync/keyfilter.py). Unlike
# matching_keys these are allowed to be loose, because the answer is a warning to ask, never a
# strike: each kind survives one kind of writing error, and the verdict says how far to trust
# a hit. They are keyed with a sub-key of the index key (doorstep_subkey), so a device that
# holds them cannot compute the server's matching or blocking keys. Chosen and measured on
# sync/synthetic.py drives (tests/benchmarks/doorstep_offline.py) against the household pairs
# of tests/test_scoring_table.py (tests/test_doorstep_offline.py).
#
# Strong kinds ("probably signed" when one hits). Every kind carries the street (normalized,
# directionals dropped): one house number on two streets of one ZIP is two households
# (tests/test_scoring_table.py); and the middle initial, suffix and unit as written.
# - door_exact: sorted canonical (first, last) | middle initial | suffix | house | street |
#   unit; no ZIP, so a ZIP slip still hits (one house number on one street name in two ZIPs
#   of a device's scope, with one full name at both, is rare).
#   The signer stores it with the middle initial as written and blank (up to 2 keys), the
#   device probes only what was typed: a repeat that drops the middle name still hits, while
#   a son written "Jose L Perez" does not hit his father "Jose A Perez". Sorted names survive
#   swapped boxes. (A dropped unit is left to door_nolast: a key a signer with a unit more
#   bought less than the kinds below.)
# - door_anagram: the same names with each name's letters sorted after doubled letters
#   collapse, and the ZIP: survives swapped and doubled letters (half of all typos) in
#   either name; Mario/Maria, Daniel/Daniela and Francis/Frances stay apart.
# - door_last_head, door_last_tail: canonical first | ... | the first surname's first three
#   letters and its length, or the first letter of its phonetic code (Valdez / Baldez, a
#   silent h) and its last three letters | ... | zip5. One typo in a
#   surname of six letters or more leaves one of them whole (a dropped or added letter
#   changes the length, so the head alone is not enough: Hernandez / Hernadez is the tail's),
#   and a dropped second surname leaves both. Richard/Richards, Mena/Meza and Lopez/Lozano
#   differ in both.
# - door_first_tail: the canonical first name's first letter and last three | last | ... |
#   zip5: a first-name typo before its last three letters (a letter dropped, doubled,
#   mistyped). No first-name head: twins differ in the ending (Mario/Maria, Daniel/Daniela,
#   Francis/Frances, Julie/Julien).
# Weak kind ("maybe" when only it hits):
# - door_nolast: canonical first | middle | suffix | house | street | zip5, no unit: any
#   surname error or a dropped unit, but also Jennifer Lopez / Jennifer Lozano at one address
#   and a namesake in another apartment of one building.
# Not covered, on purpose: a house-number slip (same-name neighbours on one street), a typo
# in the last three letters of a first name, two errors in one field. Chosen on
# tests/benchmarks/doorstep_offline.py drives against a budget of 16 bytes a signer (about
# 6.5 keys at 10,000 signers): door_phonetic and door_first_shape of the first version, and
# door_exact's blanked units, caught fewer repeats for a key each than the head and tail kinds.

DOOR_EXACT = "door_exact"
DOOR_ANAGRAM = "door_anagram"
DOOR_LAST_HEAD = "door_last_head"
DOOR_LAST_TAIL = "door_last_tail"
DOOR_FIRST_TAIL = "door_first_tail"
DOOR_NOLAST = "door_nolast"
DOORSTEP_STRONG_KINDS: tuple[str, ...] = (DOOR_EXACT, DOOR_ANAGRAM, DOOR_LAST_HEAD, DOOR_LAST_TAIL,
                                          DOOR_FIRST_TAIL)
DOORSTEP_WEAK_KINDS: tuple[str, ...] = (DOOR_NOLAST,)
DOORSTEP_KINDS: tuple[str, ...] = DOORSTEP_STRONG_KINDS + DOORSTEP_WEAK_KINDS
# Changes whenever a kind's parts change: part of a filter's tag (sync/server/doorstep_filter.py),
# so no device keeps a filter whose keys its probes no longer make. 2: head and tail kinds.
DOORSTEP_KEYS_VERSION = 2

PROBABLY = "probably_signed"  # the values of protocol.DoorstepAnswer (issue 15, online half)
MAYBE = "maybe"
NO = "no"

_DOORSTEP_LABEL = b"canvass doorstep keys v1"


def doorstep_subkey(index_key: bytes) -> bytes:
    """The door-step key: one-way from the campaign index key, so it rotates with it
    (rotation.py) and gives its holder no matching or blocking keys."""
    return hmac.new(index_key, _DOORSTEP_LABEL, hashlib.sha256).digest()


def _letters(text: str) -> str:
    """Letters sorted after doubled letters collapse: 'rboert' == 'robbert' == 'robert'."""
    text = text.replace(" ", "")
    return "".join(sorted(c for i, c in enumerate(text) if i == 0 or text[i - 1] != c))


_DIRECTIONALS = frozenset({"n", "s", "e", "w", "ne", "nw", "se", "sw"})


def _street_core(street: str) -> str:
    """The normalized street without directionals: "200 N Figueroa St" is often written
    without its "N"; two streets of one name and one ZIP that differ only by it are rare."""
    return " ".join(t for t in street.split() if t not in _DIRECTIONALS)


def _door_parts(r: NormalizedRecord, middle: str) -> dict[str, tuple[str, ...]]:
    last_c = canonical_first_name(r.last)
    names = tuple(sorted((last_c, r.first_canonical)))
    letters = tuple(sorted((_letters(last_c), _letters(r.first_canonical))))
    first = r.first_canonical
    surname = r.last.split()[0]  # the first surname: a second one is often left out
    street = (r.house_number, _street_core(r.street))
    who = (middle, r.suffix)
    return {
        DOOR_EXACT: (*names, *who, *street, r.unit),
        DOOR_ANAGRAM: (*letters, *who, *street, r.unit, r.zip5),
        DOOR_LAST_HEAD: (first, *who, surname[:3], str(len(surname)), *street, r.unit, r.zip5),
        DOOR_LAST_TAIL: (first, *who, phonetic(surname)[:1], surname[-3:], *street, r.unit, r.zip5),
        DOOR_FIRST_TAIL: (first[:1] + first[-3:], r.last, *who, *street, r.unit, r.zip5),
        DOOR_NOLAST: (first, *who, *street, r.zip5),
    }


def _door_ready(r: NormalizedRecord) -> bool:
    return bool(r.last and r.first_canonical and r.house_number and r.zip5)


def doorstep_keys(doorstep_key: bytes, fields: Mapping[str, str] | NormalizedRecord) -> list[str]:
    """What a counted signer puts in a device's filter (hex keys, deduplicated).

    door_exact is stored with the middle initial as written and blank; the other kinds once,
    as written: 6.3 keys a signer on the generated drives. [] when last name, first name,
    house number or ZIP5 is missing."""
    r = _record(fields)
    if not _door_ready(r):
        return []
    keys = [_key(doorstep_key, DOOR_EXACT, _door_parts(r, middle)[DOOR_EXACT])
            for middle in dict.fromkeys((r.middle_initial, ""))]
    for kind, parts in _door_parts(r, r.middle_initial).items():
        if kind != DOOR_EXACT:
            keys.append(_key(doorstep_key, kind, parts))
    return _unique(keys)


def doorstep_probes(doorstep_key: bytes, fields: Mapping[str, str] | NormalizedRecord) -> dict[str, str]:
    """kind -> hex key to look up for what the circulator typed (exactly as typed: a blank
    middle in the form matches any, a written one only the same)."""
    r = _record(fields)
    if not _door_ready(r):
        return {}
    return {kind: _key(doorstep_key, kind, parts)
            for kind, parts in _door_parts(r, r.middle_initial).items()}


def doorstep_verdict(hit_kinds: Iterable[str]) -> str:
    """"probably" when a strong kind hit, "maybe" when only weak kinds did, else "no"."""
    hits = set(hit_kinds)
    if hits & set(DOORSTEP_STRONG_KINDS):
        return PROBABLY
    if hits & set(DOORSTEP_WEAK_KINDS):
        return MAYBE
    return NO
