"""Registration keys: what the device index and the server's exact lookup hold.

All keys are HMAC-SHA256 under the *registration key*, a sub-key derived from the campaign
index key (``registration_subkey``), so a registration key never equals a dedup key of the
same person and the two indexes cannot be joined. Without the index key nobody can test a
guessed name against a key; keys carry no plaintext. A key is 16 bytes.

Two kinds (the kind is inside the HMAC message, so kinds never collide):

- ``reg_address`` -- person at an address: last | canonical first | house number | ZIP5.
  A hit means "registered here". Deliberately *without* unit, middle initial and suffix:
  a petition line often omits the unit or middle name the voter file has (and the other way
  round). The price: a namesake in another apartment of the same building, or a father and
  son of one name at one house, reads as "registered here" on the device (the server's
  matcher, which scores the full records, tells them apart).
- ``reg_person`` -- the name alone: last | canonical first. A hit without an address hit
  means "a voter with this name is registered at another address": a moved voter, *or a
  namesake* (Maria Garcia is registered at many addresses). Words on screen must say so.

Variants, so that the usual differences between the file and the petition still hit:

- voter side (``voter_keys``): the last name as written, and for a compound last name also
  its first word (a dropped second surname, "Garcia Lopez" -> "Garcia") and the words joined
  ("De La Cruz" -> "delacruz"); the first name as written and, for two given names, the first.
- probe side (``probe_keys``): the entry as written, first and last names swapped (written in
  the other boxes), and for two given names the first one.
Nicknames are mapped by ``canonical_first_name`` on both sides (Bob -> Robert); accents,
capitals, punctuation, ZIP+4, street spelling and units do not enter the keys at all.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from sync.normalize import NormalizedRecord, canonical_first_name, normalized_record

KEY_BYTES = 16
REG_ADDRESS = "reg_address"
REG_PERSON = "reg_person"
_LABEL = b"canvass/registration-index/v1"
_SEPARATOR = "\x1f"
# Particles that are not a surname on their own ("de la cruz" -> first word would be "de").
_PARTICLES = frozenset({"de", "del", "la", "las", "los", "da", "di", "van", "von", "der", "le", "y", "st"})


def registration_subkey(index_key: bytes) -> bytes:
    """The registration key of a campaign, derived from its index key."""
    return hmac.new(index_key, _LABEL, hashlib.sha256).digest()


def _key(reg_key: bytes, kind: str, parts: tuple[str, ...]) -> bytes:
    message = (kind + _SEPARATOR + "|".join(parts)).encode("utf-8")
    return hmac.digest(reg_key, message, "sha256")[:KEY_BYTES]


@dataclass(frozen=True)
class RegistrationKeys:
    address: tuple[bytes, ...]
    person: tuple[bytes, ...]

    def all(self) -> tuple[bytes, ...]:
        return self.address + self.person


def _record(fields: Mapping[str, str] | NormalizedRecord) -> NormalizedRecord:
    return fields if isinstance(fields, NormalizedRecord) else normalized_record(fields)


def last_name_variants(last: str) -> list[str]:
    tokens = last.split()
    out = [last]
    if len(tokens) > 1:
        out.append("".join(tokens))
        head = tokens[0]
        if head not in _PARTICLES and len(head) > 1:
            out.append(head)
    return list(dict.fromkeys(out))


def first_name_variants(first_canonical: str) -> list[str]:
    tokens = first_canonical.split()
    out = [first_canonical]
    if len(tokens) > 1 and len(tokens[0]) > 1:
        out.append(canonical_first_name(tokens[0]))
    return list(dict.fromkeys(out))


def _keys_for(reg_key: bytes, pairs: list[tuple[str, str]], house: str, zip5: str) -> RegistrationKeys:
    address, person = [], []
    for last, first in dict.fromkeys(pairs):
        if not (last and first):
            continue
        person.append(_key(reg_key, REG_PERSON, (last, first)))
        if house and zip5:
            address.append(_key(reg_key, REG_ADDRESS, (last, first, house, zip5)))
    return RegistrationKeys(tuple(dict.fromkeys(address)), tuple(dict.fromkeys(person)))


def voter_keys(reg_key: bytes, fields: Mapping[str, str] | NormalizedRecord) -> RegistrationKeys:
    """Keys of one voter-file record (the index holds these)."""
    r = _record(fields)
    pairs = [(last, first) for last in last_name_variants(r.last)
             for first in first_name_variants(r.first_canonical)]
    return _keys_for(reg_key, pairs, r.house_number, r.zip5)


def probe_keys(reg_key: bytes, fields: Mapping[str, str] | NormalizedRecord) -> RegistrationKeys:
    """Keys to look up for one petition entry (as written, swapped, first given name)."""
    r = _record(fields)
    firsts = first_name_variants(r.first_canonical)
    pairs = [(r.last, first) for first in firsts]
    if r.first and r.last:
        pairs.append((r.first, canonical_first_name(r.last)))  # names in the other boxes
    return _keys_for(reg_key, pairs, r.house_number, r.zip5)
