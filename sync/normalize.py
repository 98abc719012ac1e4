"""Normalization of signer names and addresses for matching (pure functions, no I/O).

Every function here produces a *matching form*, not a display or mailing form: two ways of
writing the same thing must give the same string, and the output is never shown to people.

Choices (documented because the blind-index keys depend on them and must never drift):

- Names: NFKD, combining marks dropped, casefolded. Apostrophes and periods are deleted
  (O'Brien -> obrien, St. -> st); every other non-alphanumeric character, hyphens included,
  becomes a space (Muñoz-García -> "munoz garcia"), so "Muñoz-García" and "Muñoz García"
  agree. Whitespace is collapsed.
- Streets: every token is mapped through the USPS Pub 28 tables (suffixes, directionals,
  spelled ordinals), not only the last one. For matching this is deterministic on both
  sides ("Mountain View Ave" and "Mtn View Avenue" both become "mtn vw ave").
- Units: the designator is dropped ("Apt 4B", "Unit 4-B", "#4b" -> "4b"); leading zeros too.
- Phonetic code: Metaphone per token (sync.metaphone: jellyfish's codes, in pure Python), after
  a small Spanish-aware rewrite (v -> b, ll -> y, silent initial h, initial y before a
  consonant -> i), since b/v, ll/y and a dropped h are the usual misspellings of Spanish
  surnames (Valdez/Baldez, Hernández/Ernandez).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from sync.metaphone import metaphone
from sync.nicknames import NICKNAMES
from sync.usps import DIRECTIONALS, ORDINALS, STREET_SUFFIXES, UNIT_DESIGNATORS

# The version of what this module, sync.nicknames and sync.usps produce. Bump it with ANY
# change to an output for some input: a rule, a regex, a nickname, a USPS table entry. Not for
# comments, renames, refactors or speed-ups that leave every output as it was. The server's
# stored match records (sync/server/match_blob.py) name the version that made them: one of an
# older version is read from its fields instead (slower), until `canvass-server reseal` rewrites
# it. tests/test_normalizer_version.py compares outputs with a golden file, to catch a change
# made without a bump.
NORMALIZER_VERSION = 1

# The pure string functions below are memoized (bounded): the server normalizes the same
# names, streets and nicknames over and over (each candidate of each entry, both orientations
# of the scorer). The caches hold matching forms of values the process has already decrypted
# or received; a process whose memory can be read also holds the data key.
_CACHE = 1 << 16

_DELETED = str.maketrans("", "", "'’‘`´.")
_NON_ALNUM = re.compile(r"[^0-9a-z/#]+")
_SPACES = re.compile(r"\s+")


def _fold(text: str) -> str:
    """NFKD + drop combining marks + casefold. The fraction slash becomes a plain '/'."""
    text = (text or "").translate(_DELETED)
    if text.isascii():  # the common case: NFKD changes nothing and nothing combines
        return text.casefold()
    text = text.replace("\u2044", "/")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


# Cyrillic and Greek letters that look like a Latin letter, mapped to it (the single-letter
# Latin prototypes of Unicode TS #39 confusables.txt for these scripts). Without this,
# 'Quасkеnbush' with three Cyrillic letters became 'qu k nbush' and passed deduplication as
# a new signer. Full-width and other compatibility forms are already folded by NFKD.
_CONFUSABLES = str.maketrans({
    # Cyrillic
    "а": "a", "А": "A", "В": "B", "с": "c", "С": "C", "ԁ": "d", "е": "e", "Е": "E", "ё": "e",
    "Ё": "E", "һ": "h", "Һ": "H", "Н": "H", "і": "i", "І": "I", "ї": "i", "Ї": "I", "ј": "j",
    "Ј": "J", "К": "K", "ӏ": "l", "Ӏ": "I", "М": "M", "о": "o", "О": "O", "р": "p", "Р": "P",
    "ԛ": "q", "Ԛ": "Q", "ѕ": "s", "Ѕ": "S", "Т": "T", "ԝ": "w", "Ԝ": "W", "х": "x", "Х": "X",
    "у": "y", "У": "Y", "ү": "y", "Ү": "Y",
    # Greek
    "α": "a", "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "ι": "i", "Ι": "I", "ϳ": "j",
    "Κ": "K", "Μ": "M", "Ν": "N", "ν": "v", "ο": "o", "Ο": "O", "ρ": "p", "Ρ": "P", "ϲ": "c",
    "Ϲ": "C", "Τ": "T", "Υ": "Y", "γ": "y", "Χ": "X",
})


@lru_cache(maxsize=_CACHE)
def normalize_name(text: str) -> str:
    """Matching form of a name: 'José Ángel Muñoz-García' -> 'jose angel munoz garcia'.
    Cyrillic and Greek look-alikes of Latin letters are read as those letters first."""
    text = text or ""
    folded = _fold(text if text.isascii() else text.translate(_CONFUSABLES))
    return _SPACES.sub(" ", re.sub(r"[^0-9a-z]+", " ", folded)).strip()


@lru_cache(maxsize=_CACHE)
def canonical_first_name(text: str) -> str:
    """Normalized first name with certain nicknames mapped to the formal name (bob -> robert).

    Ambiguous nicknames (chris, alex, beto...) are left as written: see sync.nicknames."""
    name = normalize_name(text)
    if name in NICKNAMES:
        return NICKNAMES[name]
    return " ".join(NICKNAMES.get(token, token) for token in name.split())


_SUFFIXES = {
    "jr": "jr", "junior": "jr", "jnr": "jr", "jun": "jr",
    "sr": "sr", "senior": "sr", "snr": "sr", "sen": "sr",
    "ii": "ii", "2": "ii", "2nd": "ii", "second": "ii",
    "iii": "iii", "3": "iii", "3rd": "iii", "third": "iii",
    "iv": "iv", "4": "iv", "4th": "iv", "fourth": "iv",
    "v": "v", "5th": "v", "fifth": "v",
}
# Professional post-nominals say nothing about which person it is; they are dropped.
_NON_GENERATIONAL = frozenset({"md", "phd", "dds", "esq", "rn", "cpa", "dvm", "do", "jd"})
# Generational suffixes that may be written at the end of the last-name field.
_TRAILING_SUFFIXES = frozenset({"jr", "junior", "sr", "senior", "ii", "iii", "iv"})
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "sra", "srta"})


def normalize_suffix(text: str) -> str:
    """'Jr.', 'JR', 'junior' -> 'jr'; 'Sr' -> 'sr'; 'II'/'2nd' -> 'ii'; 'MD' -> ''."""
    name = normalize_name(text).replace(" ", "")
    if name in _NON_GENERATIONAL:
        return ""
    return _SUFFIXES.get(name, name)


@dataclass(frozen=True)
class NormalizedStreet:
    house_number: str
    street: str


# House number: digits, an optional letter glued to them ("123A"; "123-A" is glued first by
# _street_tokens), an optional fraction ("123 1/2"). A spaced letter is a directional ("1600 W").
_HOUSE = re.compile(r"^(\d+)([a-z])?(?:\s+(\d/\d+))?(?=\s|$)")
_HOUSE_HYPHEN = re.compile(r"^\s*(\d+)\s*-\s*([a-z]|\d/\d+)(?![a-z0-9])")
# Suffixes that are routinely followed by a route number, which is then not a unit.
_NUMBERED_ROUTES = frozenset({"hwy", "rte", "fwy", "expy", "tpke", "pike", "byp"})


def _street_tokens(text: str) -> list[str]:
    folded = _fold(text.replace("½", " 1/2")).replace("#", " # ")
    folded = _HOUSE_HYPHEN.sub(lambda m: m.group(1) + ("" if m.group(2).isalpha() else " ") + m.group(2),
                               folded)
    return [t for t in _SPACES.split(_NON_ALNUM.sub(" ", folded).strip()) if t]


def _unit_start(tokens: list[str]) -> int | None:
    """Index where a unit begins on a street line, or None. Index 0/1 are house and name."""
    for i in range(2, len(tokens)):
        token = tokens[i]
        if token in UNIT_DESIGNATORS and token not in STREET_SUFFIXES and i + 1 < len(tokens):
            return i
        if token == "#":
            return i
        if re.fullmatch(r"(apt|unit|ste|spc|rm)\d+[a-z]?", token):
            return i
        previous = STREET_SUFFIXES.get(tokens[i - 1])
        if previous and previous not in _NUMBERED_ROUTES and any(c.isdigit() for c in token):
            return i  # "123 Main St 4B": a bare number after the suffix is a unit
        if token in {"rear", "front", "upper", "lower"} and i == len(tokens) - 1:
            return i
    return None


@lru_cache(maxsize=_CACHE)
def split_unit_from_street(text: str) -> tuple[str, str]:
    """'123 Main St Apt 4' -> ('123 main st', '4'): the street part (folded, punctuation-free)
    and the normalized unit ('' when the line carries none)."""
    tokens = _street_tokens(text)
    start = _unit_start(tokens)
    if start is None:
        return " ".join(t for t in tokens if t != "#"), ""
    return " ".join(tokens[:start]), normalize_unit(" ".join(tokens[start:]))


def _street_name(tokens: list[str]) -> str:
    out: list[str] = []
    for i, token in enumerate(tokens):
        if token in ORDINALS:
            token = ORDINALS[token]
        elif token.isdigit() and i + 1 < len(tokens) and tokens[i + 1] in STREET_SUFFIXES:
            token = _ordinal(token)  # "W 3 St" -> "w 3rd st"
        elif token in DIRECTIONALS and len(tokens) > 1:
            token = DIRECTIONALS[token]
        elif token in STREET_SUFFIXES and len(tokens) > 1:
            token = STREET_SUFFIXES[token]
        out.append(token)
    return " ".join(out)


def _ordinal(number: str) -> str:
    n = int(number)
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }".replace(" ", "")


@lru_cache(maxsize=_CACHE)
def normalize_street(text: str) -> NormalizedStreet:
    """'1600 W. Sunset Blvd., Apt #3' -> NormalizedStreet('1600', 'w sunset blvd').

    A unit on the street line is dropped here; use split_unit_from_street to keep it."""
    street_part, _unit = split_unit_from_street(text)
    match = _HOUSE.match(street_part)
    if not match:
        return NormalizedStreet("", _street_name(street_part.split()))
    number, letter, fraction = match.groups()
    house = number.lstrip("0") or "0"
    house += letter or ""
    if fraction:
        house += " " + fraction
    return NormalizedStreet(house, _street_name(street_part[match.end():].split()))


# "1234 Main St": ASCII digits, one space, a letter. For such a line normalize_street's first
# token is the digit run and its house number is that run without leading zeros (no glued
# letter, hyphen or fraction can follow, and a unit never starts before the third token).
_PLAIN_HOUSE = re.compile(r"([0-9]+) [A-Za-z]")


def house_number(street: str) -> str:
    """``normalize_street(street).house_number``, without tokenizing the common plain line."""
    match = _PLAIN_HOUSE.match(street)
    if match:
        return match.group(1).lstrip("0") or "0"
    return normalize_street(street).house_number


@lru_cache(maxsize=_CACHE)
def normalize_unit(text: str) -> str:
    """'Apt. 4B', '#4b', 'Unit 4-B', 'apartment 4b' -> '4b'; 'Ste 100' -> '100'."""
    tokens = _street_tokens(text)
    kept: list[str] = []
    for token in tokens:
        if token in UNIT_DESIGNATORS and (len(tokens) > 1 or token == "#"):
            continue
        glued = re.fullmatch(r"(apt|unit|ste|spc|rm)(\d+[a-z]?)", token)
        kept.append(glued.group(2) if glued else token)
    unit = "".join(kept).replace("/", "")
    return unit.lstrip("0") or ("0" if unit else "")


def zip5(text: str) -> str:
    """'90012-3456', '900123456', ' 90012 ' -> '90012'; anything else -> ''."""
    match = re.fullmatch(r"\s*(\d{5})(?:\s*-?\s*\d{4})?\s*", text or "")
    if not match or match.group(1) == "00000":
        return ""
    return match.group(1)


def _spanish_rewrite(token: str) -> str:
    token = token.replace("v", "b").replace("ll", "y")
    if len(token) > 1 and token[0] == "h" and token[1] in "aeiou":
        token = token[1:]
    if len(token) > 1 and token[0] == "y" and token[1] not in "aeiou":
        token = "i" + token[1:]
    return token


@lru_cache(maxsize=_CACHE)
def phonetic(text: str) -> str:
    """Metaphone code per token after the Spanish-aware rewrite: 'Valdéz' == 'Baldez'."""
    codes = [metaphone(_spanish_rewrite(t)) for t in normalize_name(text).split()]
    return " ".join(c for c in codes if c)


@dataclass(frozen=True)
class NormalizedRecord:
    first: str
    first_canonical: str
    middle_initial: str
    last: str
    suffix: str
    house_number: str
    street: str
    unit: str
    zip5: str
    city: str


def _split_first(first: str, middle: str) -> tuple[str, str]:
    """Drop a leading title and take a trailing lone initial as the middle initial."""
    tokens = first.split()
    if len(tokens) > 1 and tokens[0] in _TITLES:
        tokens = tokens[1:]
    initial = middle[:1]
    if not initial and len(tokens) > 1 and len(tokens[-1]) == 1:
        initial = tokens.pop()
    return " ".join(tokens), initial


def _split_last(last: str, suffix: str) -> tuple[str, str]:
    """'Smith Jr' in the last-name field -> ('smith', 'jr') when no suffix was given."""
    tokens = last.split()
    if not suffix and len(tokens) > 1 and tokens[-1] in _TRAILING_SUFFIXES:
        return " ".join(tokens[:-1]), normalize_suffix(tokens[-1])
    return last, suffix


def normalized_record(fields: Mapping[str, str]) -> NormalizedRecord:
    """All normalizations for one entry given by wire field names (missing keys = '')."""
    def get(name: str) -> str:
        return fields.get(name) or ""

    first, middle_initial = _split_first(normalize_name(get("first_name")),
                                         normalize_name(get("middle_name")))
    last, suffix = _split_last(normalize_name(get("last_name")), normalize_suffix(get("suffix")))
    street = normalize_street(get("street"))
    unit = normalize_unit(get("unit")) or split_unit_from_street(get("street"))[1]
    return NormalizedRecord(
        first=first,
        first_canonical=canonical_first_name(first),
        middle_initial=middle_initial,
        last=last,
        suffix=suffix,
        house_number=street.house_number,
        street=street.street,
        unit=unit,
        zip5=zip5(get("zip")),
        city=normalize_name(get("city")),
    )
