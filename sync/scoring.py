"""Pure pairwise fuzzy scorer: are two signer entries the same person?

Built for precision of "duplicate" (a wrong "duplicate" silently strikes a valid signature):
a pair is "duplicate" only when every component agrees strongly and nothing conflicts. Any
doubt -> "possible_duplicate" (a person reviews it). Clear evidence of two people -> "distinct".

Each component returns a similarity and a *relation* label; the decision is made from the
labels (rules below), the numeric score is only reported (weighted mean of the components).

Hard "distinct" (two people): first names that are two different known given names
(Mario/Maria, John/Mary: twins, spouses, siblings), clearly different first or last names,
different house numbers that are not a one-edit typo (neighbors), different ZIPs that are not
a one-edit typo, explicit different generational suffixes (Jr vs Sr).
Caps at "possible_duplicate": ambiguous nickname (Chris), initial only (J.), only part of a
compound first or last name written (Jose / Jose Angel, Garcia / Garcia Lopez), different
middle initials, suffix written on one side only, different units, a one-edit house or ZIP
typo, a missing house/ZIP, a conflicting street, typos in both names at once, and a "near"
name: a typo that is not a clean one-letter substitution/transposition (Julie/Julien,
Mena/Meza, Richard/Richards are as often other people as slips of the pen).
A "duplicate" allows: nicknames from the certain table, spelling variants (Cristina/Christina),
one clean typo in one name, phonetic surname variants one edit apart (Valdez/Baldez), swapped
first/last, St/Street, ZIP+4, a middle name or unit written on one side only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.fuzz import token_sort_ratio

from sync.nicknames import AMBIGUOUS_NICKNAMES, KNOWN_GIVEN_NAMES
from sync.normalize import NormalizedRecord, canonical_first_name, normalized_record, phonetic
from sync.usps import DIRECTIONALS, STREET_SUFFIXES

DUPLICATE = "duplicate"
POSSIBLE_DUPLICATE = "possible_duplicate"
DISTINCT = "distinct"

# Below this weighted score a pair with no hard conflict is still called distinct.
POSSIBLE_THRESHOLD = 0.75
# A name counts as "typo of the same name" at or above this Jaro-Winkler similarity.
TYPO_JW = 0.9
# Score range of each decision (see score_records).
_SCORE_BANDS = {DISTINCT: (0.0, 0.7499), POSSIBLE_DUPLICATE: (POSSIBLE_THRESHOLD, 0.9499),
                DUPLICATE: (0.95, 1.0)}
_WEIGHTS = {"first": 0.3, "last": 0.3, "house": 0.15, "street": 0.1, "zip": 0.1, "extra": 0.05}


@dataclass(frozen=True)
class MatchScore:
    score: float
    decision: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class _Part:
    sim: float
    relation: str  # see the module docstring; also reported in MatchScore.reasons


_STRONG = {"exact", "nickname", "variant", "typo", "phonetic", "middle_in_first"}
_CAPPED = {"ambiguous_nickname", "initial", "partial", "same_sound_name", "near"}


@lru_cache(maxsize=1 << 14)
def _skeleton(name: str) -> str:
    """Spelling-variant skeleton: Christina/Cristina, Ana/Anna, Silvia/Sylvia agree."""
    s = name.replace("ph", "f").replace("qu", "c").replace("k", "c").replace("y", "i")
    s = s.replace("v", "b").replace("z", "s").replace("h", "")
    return re.sub(r"(.)\1+", r"\1", s)


def _is_known(name: str) -> bool:
    tokens = name.split()
    return bool(tokens) and all(t in KNOWN_GIVEN_NAMES for t in tokens)


def _ambiguous_related(a: str, b: str) -> bool:
    """Chris / Christina, Pat / Patricia, Alex / Alejandro: maybe one name, maybe two."""
    formals_a, formals_b = set(AMBIGUOUS_NICKNAMES.get(a, ())), set(AMBIGUOUS_NICKNAMES.get(b, ()))
    return (canonical_first_name(b) in formals_a or canonical_first_name(a) in formals_b
            or bool(formals_a & formals_b))


_VOWELS = frozenset("aeiou")
# Examples: Mario/Maria, Ernesto/Ernestina, Paul/Paula, Louis/Louise, Daniel/Danielle.


def _gendered_pair(a: str, b: str) -> bool:
    """Mario/Maria, Julio/Julia, Daniel/Daniela, Manuel/Manuela: masculine and feminine forms
    of one name (Spanish and English), typically twins or siblings, never a typo to merge."""
    if len(a) > 2 and len(a) == len(b) and a[:-1] == b[:-1] and {a[-1], b[-1]} <= _VOWELS:
        return True
    return bool(_stems(a) & _stems(b))


_GENDER_ENDINGS = ("ina", "ita", "le", "ne", "a", "o", "e")


@lru_cache(maxsize=1 << 14)
def _stems(name: str) -> frozenset[str]:
    """The name itself plus the name without each gendered ending (Ernest-o / Ernest-ina)."""
    stems = {name}
    for ending in _GENDER_ENDINGS:
        if name.endswith(ending) and len(name) - len(ending) >= 3:
            stems.add(name[: -len(ending)])
    return frozenset(stems)


def _compare_first(a: str, b: str, a_middle: str, b_middle: str) -> _Part:
    """a, b: raw normalized first names (canonicalized here)."""
    if not a or not b:
        return _Part(0.0, "missing")
    ca, cb = canonical_first_name(a), canonical_first_name(b)
    if ca == cb:
        return _Part(1.0, "exact" if a == b else "nickname")
    if _skeleton(ca) == _skeleton(cb) and (ca[-1] == cb[-1] or not _gendered_pair(ca, cb)):
        return _Part(0.95, "variant")
    ta, tb = ca.split(), cb.split()
    if len(ta) != len(tb):
        short, long, short_mid = (ta, tb, a_middle) if len(ta) < len(tb) else (tb, ta, b_middle)
        if long[: len(short)] == short:
            # "Jose Angel" vs "Jose" + middle "A": the same name written in two boxes.
            if short_mid and short_mid == long[len(short)][:1]:
                return _Part(0.97, "middle_in_first")
            return _Part(0.85, "partial")
    if _ambiguous_related(a, b):
        return _Part(0.85, "ambiguous_nickname")
    if min(len(ca), len(cb)) == 1 and ca[0] == cb[0]:
        return _Part(0.7, "initial")
    sim = JaroWinkler.similarity(ca, cb)
    if _gendered_pair(ca, cb):
        return _Part(min(sim, 0.5), "different_name")
    if _is_known(ca) and _is_known(cb):
        # Two real, different names. Same sound and same last letter (Francis/Frances,
        # Luis/Louis) may be one person spelled two ways; otherwise two people.
        if phonetic(ca) == phonetic(cb) and ca[-1] == cb[-1]:
            return _Part(0.8, "same_sound_name")
        return _Part(min(sim, 0.5), "different_name")
    if _clean_typo(ca, cb):
        return _Part(sim, "typo")
    if sim >= TYPO_JW or (min(len(ca), len(cb)) >= 4 and OSA.distance(ca, cb) <= 1):
        # Julie/Julien, Ina/Dina, Stepen/Stephen: likely a slip, but also a real other name.
        return _Part(sim, "near")
    return _Part(sim, "different")


def _clean_typo(a: str, b: str) -> bool:
    """One substituted or transposed letter, not the first, in a name of 5+ letters
    (Rboert/Robert, Jaun/Juan is too short). Only such a typo may still be a "duplicate":
    a letter added or dropped is as often another name (Julie/Julien) as a slip."""
    return (len(a) == len(b) >= 5 and a[0] == b[0] and OSA.distance(a, b) == 1)


def _compare_last(a: str, b: str) -> _Part:
    if not a or not b:
        return _Part(0.0, "missing")
    if a == b:
        return _Part(1.0, "exact")
    if a.replace(" ", "") == b.replace(" ", ""):
        return _Part(0.98, "exact")  # "De La Cruz" / "Delacruz"
    ta, tb = set(a.split()), set(b.split())
    if ta < tb or tb < ta:
        return _Part(0.85, "partial")  # "Garcia" / "Garcia Lopez"
    sim = JaroWinkler.similarity(a, b)
    edits = OSA.distance(a, b)
    if phonetic(a) == phonetic(b) and edits <= 1:
        return _Part(max(sim, 0.95), "phonetic")  # Valdez/Baldez, Gonzalez/Gonzales
    if _clean_typo(a, b) or (
            edits == 1 and min(len(a), len(b)) >= 7 and a[0] == b[0] and a[-1] == b[-1]):
        return _Part(sim, "typo")  # Nguyen/Ngueyn, Hernandez/Hernadez
    if sim >= TYPO_JW or (min(len(a), len(b)) >= 4 and edits <= 1) or (
            phonetic(a) == phonetic(b) and edits <= 2):
        # Mena/Meza, Richard/Richards, Ross/Rose: a slip or another family.
        return _Part(sim, "near")
    return _Part(sim, "different")


@lru_cache(maxsize=1 << 14)
def _street_core(street: str) -> tuple[str, frozenset[str]]:
    """Street name without directionals and suffix; plus the suffix tokens."""
    core, suffixes = [], set()
    for token in street.split():
        if token in DIRECTIONALS:
            continue
        if token in STREET_SUFFIXES.values() and len(street.split()) > 1:
            suffixes.add(token)
            continue
        core.append(token)
    return " ".join(core), frozenset(suffixes)


def _compare_street(a: str, b: str) -> _Part:
    if not a or not b:
        return _Part(0.5, "missing")
    if a == b:
        return _Part(1.0, "exact")
    (core_a, suf_a), (core_b, suf_b) = _street_core(a), _street_core(b)
    sim = token_sort_ratio(core_a, core_b) / 100
    if sim >= 0.85:
        if suf_a and suf_b and not suf_a & suf_b:
            return _Part(0.7, "suffix_conflict")  # "Main St" vs "Main Ave"
        return _Part(max(sim, 0.95), "similar")
    return _Part(sim, "different")


def _compare_code(a: str, b: str) -> _Part:
    """House numbers and ZIPs: equal, missing, one-edit typo or different."""
    if not a or not b:
        return _Part(0.5, "missing")
    if a == b:
        return _Part(1.0, "exact")
    if OSA.distance(a, b) <= 1:
        return _Part(0.6, "typo")
    return _Part(0.0, "different")


def _optional_difference(a: str, b: str) -> str | None:
    """How an optional part (suffix, unit) differs: "conflict" when both records write one and
    they are not the same, "one_side" when only one writes it, None when they agree."""
    if a == b:
        return None
    return "conflict" if a and b else "one_side"


def _code_differs(a: str, b: str) -> bool:
    """_compare_code(a, b).relation == "different", without building the part."""
    return bool(a) and bool(b) and a != b and OSA.distance(a, b) > 1


def address_conflict(house_a: str, zip_a: str, house_b: str, zip_b: str) -> bool:
    """House numbers or ZIP5s more than one edit apart: score_records calls such a pair
    distinct whatever the names (neighbors, or one name in two places)."""
    return _code_differs(house_a, house_b) or _code_differs(zip_a, zip_b)


def _names(ra: NormalizedRecord, rb: NormalizedRecord, *, swapped: bool) -> tuple[_Part, _Part]:
    if swapped:
        return (_compare_first(ra.first, rb.last, ra.middle_initial, rb.middle_initial),
                _compare_last(ra.last, rb.first))
    return (_compare_first(ra.first, rb.first, ra.middle_initial, rb.middle_initial),
            _compare_last(ra.last, rb.last))


def score_records(ra: NormalizedRecord, rb: NormalizedRecord) -> MatchScore:
    """Score two normalized records (see module docstring for the rules)."""
    return _score(ra, rb, quick=False)


def match_records(ra: NormalizedRecord, rb: NormalizedRecord) -> MatchScore | None:
    """``score_records(ra, rb)``, or None when its decision is DISTINCT -- cheaper: it stops as
    soon as the pair is certainly distinct (the names, a suffix, the house or the ZIP)."""
    return _score(ra, rb, quick=True)


def _name_parts(ra: NormalizedRecord, rb: NormalizedRecord) -> tuple[_Part, _Part, bool]:
    """The first/last parts, and whether the swapped orientation was taken: only when the
    straight one is not strong on both names and the swapped one is."""
    first, last = _names(ra, rb, swapped=False)
    if first.relation in _STRONG and last.relation in _STRONG:
        return first, last, False
    s_last = _compare_last(ra.last, rb.first)
    if s_last.relation not in _STRONG:
        return first, last, False
    s_first = _compare_first(ra.first, rb.last, ra.middle_initial, rb.middle_initial)
    if s_first.relation not in _STRONG:
        return first, last, False
    return s_first, s_last, True


def _score(ra: NormalizedRecord, rb: NormalizedRecord, *, quick: bool) -> MatchScore | None:
    reasons: list[str] = []
    first, last, swapped = _name_parts(ra, rb)
    names_distinct = (first.relation in {"different_name", "different", "missing"}
                      or last.relation in {"different", "missing"})
    suffix = _optional_difference(ra.suffix, rb.suffix)
    if quick and (names_distinct or suffix == "conflict"):
        return None
    if swapped:
        reasons.append("swapped_names")
    house = _compare_code(ra.house_number, rb.house_number)
    zip_part = _compare_code(ra.zip5, rb.zip5)
    if quick and (house.relation == "different" or zip_part.relation == "different"):
        return None
    street = _compare_street(ra.street, rb.street)
    reasons += [f"first_{first.relation}", f"last_{last.relation}", f"house_{house.relation}",
                f"street_{street.relation}", f"zip_{zip_part.relation}"]

    # Different suffixes are two people (Jr vs Sr); a suffix written on one side only caps.
    if suffix:
        reasons.append(f"suffix_{suffix}")
    distinct, capped = suffix == "conflict", suffix == "one_side"
    if ra.middle_initial and rb.middle_initial and ra.middle_initial != rb.middle_initial:
        # A "middle_in_first" match already used the middle initial; otherwise it conflicts.
        reasons.append("middle_conflict")
        capped = True
    # Different units cap; a unit written on one side only is allowed.
    unit = _optional_difference(ra.unit, rb.unit)
    if unit:
        reasons.append(f"unit_{unit}")
    if unit == "conflict":
        capped = True
    extra = 0.0 if distinct else (0.5 if capped else 1.0)

    if names_distinct:
        distinct = True
    if house.relation == "different" or zip_part.relation == "different":
        distinct = True
    if first.relation in _CAPPED or last.relation in _CAPPED:
        capped = True
    if first.relation in {"typo", "near"} and last.relation in {"typo", "phonetic", "near"}:
        reasons.append("typos_in_both_names")
        capped = True
    if house.relation != "exact" or zip_part.relation != "exact":
        capped = True
    if street.relation != "similar" and street.relation != "exact":
        capped = True

    score = (_WEIGHTS["first"] * first.sim + _WEIGHTS["last"] * last.sim
             + _WEIGHTS["house"] * house.sim + _WEIGHTS["street"] * street.sim
             + _WEIGHTS["zip"] * zip_part.sim + _WEIGHTS["extra"] * extra)
    if distinct:
        decision = DISTINCT
    elif capped:
        decision = POSSIBLE_DUPLICATE if score >= POSSIBLE_THRESHOLD else DISTINCT
    else:
        decision = DUPLICATE
    if quick and decision == DISTINCT:
        return None
    # The reported score is kept consistent with the decision, so that sorting candidates by
    # score never ranks a "distinct" pair above a "possible_duplicate" one.
    low, high = _SCORE_BANDS[decision]
    score = round(min(max(score, low), high), 4)
    return MatchScore(score=score, decision=decision, reasons=tuple(reasons))


def score_pair(a: Mapping[str, str], b: Mapping[str, str]) -> MatchScore:
    """Score two entries given by wire field names (first_name, last_name, street, zip...)."""
    return score_records(normalized_record(a), normalized_record(b))
