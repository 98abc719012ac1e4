"""The door-step's own reading of the intake scorer (issue 15): "probably signed", "maybe", "no".

The online door-step check runs the intake matcher unchanged (the same exact keys, blocks,
caps and ``sync.scoring`` verdicts: one engine) and reads its candidates with a rule of its
own, because the two answers cost different things. Intake's "duplicate" strikes a signature
without a person looking, so a single doubtful field caps a pair at "possible_duplicate". At
the door a warning costs one question ("have you signed already?"), and a miss costs a
duplicate line the registrar's sample may find (hundreds of projected signatures). So a
possible duplicate whose only doubt is *one slip of the pen* is "probably signed" here:

- a name "near" another (not a clean typo for intake) that is one slip of a typist: same first
  letter, one edit, and the edit is a transposition, a key next to the right one, a doubled
  letter, or a letter dropped inside a name of five letters or more (Juan / Jun are two
  names); a letter dropped at the end of a given name only when five letters or more are
  left and they are not a given name of their own (Julie / Julien, Yan / Yang stay apart),
  at the end of a surname unless it is a final "s" (Richard / Richards, Collin / Collins:
  other families);
- the second surname dropped ("Garcia Lopez" / "Garcia");
- one ZIP digit (the street, house number and names agree);
- one house-number digit that is not the last one: neighbours on one side of a street differ
  in the last digit (Maria Garcia at 2150 and 2152 E 1st St stay a "maybe");
- clean typos in both names at once (intake caps it), when each is a slip and the address is
  exact.

Everything else intake doubts stays "maybe": a suffix on one side or two middle initials
(father and son), two units (neighbours in one building), an ambiguous nickname (Pat /
Patrick), names of one sound (Francis / Frances), a second slip. The household pairs of
tests/test_scoring_table.py are checked in tests/test_doorstep_rule.py and, over HTTP,
tests/test_doorstep_online.py.
"""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz.distance import OSA

from sync.matching import MAYBE, NO, PROBABLY
from sync.nicknames import KNOWN_GIVEN_NAMES
from sync.normalize import NormalizedRecord, canonical_first_name
from sync.scoring import DUPLICATE, POSSIBLE_DUPLICATE, MatchScore

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _keyboard() -> dict[str, frozenset[str]]:
    """Letter -> the letters around it on a QWERTY keyboard (a tablet's): the same row one key
    away, or the row above or below less than a key's width away (rows are staggered)."""
    where = {c: (r, i + offset) for r, (row, offset) in enumerate(zip(_ROWS, (0, 0.25, 0.75), strict=True))
             for i, c in enumerate(row)}
    def near(r: int, x: float, r2: int, x2: float) -> bool:
        return (r2 == r and abs(x2 - x) == 1) or (abs(r2 - r) == 1 and abs(x2 - x) < 1)

    return {c: frozenset(d for d, (r2, x2) in where.items() if d != c and near(r, x, r2, x2))
            for c, (r, x) in where.items()}


_NEAR_KEYS = _keyboard()


def _dropped_at(longer: str, shorter: str) -> int | None:
    """Where one letter was dropped from ``longer`` to give ``shorter``, else None."""
    for i in range(len(longer)):
        if longer[:i] + longer[i + 1:] == shorter:
            return i
    return None


def is_slip(a: str, b: str, *, surname: bool) -> bool:
    """One slip of a typist between two normalized names (see the module docstring)."""
    a, b = a.replace(" ", ""), b.replace(" ", "")
    if a == b or min(len(a), len(b)) < 3 or a[0] != b[0] or OSA.distance(a, b) != 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 2:  # OSA 1 with two differences: neighbouring letters swapped
            return True
        i = diff[0]
        return b[i] in _NEAR_KEYS.get(a[i], ())
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    i = _dropped_at(longer, shorter)
    if i is None:
        return False
    if (i > 0 and longer[i - 1] == longer[i]) or (i + 1 < len(longer) and longer[i + 1] == longer[i]):
        return True  # a doubled letter, or one of two written once
    if i < len(longer) - 1:
        # A letter dropped inside the name; not from a short one (Juan / Jun are two names).
        return len(shorter) >= 4
    if surname:
        return longer[-1] != "s"
    # Short given names one letter apart at the end are often two (Yan / Yang, Nare / Narek).
    return len(shorter) >= 5 and shorter not in KNOWN_GIVEN_NAMES


def _house_slip(a: str, b: str) -> bool:
    """One digit of the house number, not the last one, mistyped or two digits swapped."""
    if len(a) != len(b) or a == b or a[-1] != b[-1]:
        return False
    return OSA.distance(a, b) == 1


def _second_surname_dropped(a: str, b: str) -> bool:
    ta, tb = a.split(), b.split()
    short, long = (ta, tb) if len(ta) < len(tb) else (tb, ta)
    return bool(short) and long[: len(short)] == short


# What intake caps a pair for, and what the door-step makes of it.
_NAME_OK = {"exact", "nickname", "variant", "typo", "phonetic", "middle_in_first"}
_ADDRESS_OK = {"house_exact", "zip_exact", "street_exact", "street_similar"}


def _orient(typed: NormalizedRecord, stored: NormalizedRecord, swapped: bool) -> tuple[str, str, str, str]:
    """(typed first, stored first, typed last, stored last) as the scorer paired them."""
    if swapped:
        return typed.first, stored.last, typed.last, stored.first
    return typed.first, stored.first, typed.last, stored.last


def upgraded(typed: NormalizedRecord, stored: NormalizedRecord, score: MatchScore) -> bool:
    """Whether a "possible_duplicate" pair is "probably signed" at the door: one slip."""
    reasons = set(score.reasons)
    blocking = reasons & {"suffix_one_side", "suffix_conflict", "middle_conflict", "unit_conflict"}
    if blocking:
        return False
    first_a, first_b, last_a, last_b = _orient(typed, stored, "swapped_names" in reasons)
    first = next(r[6:] for r in score.reasons if r.startswith("first_"))
    last = next(r[5:] for r in score.reasons if r.startswith("last_"))
    slips = 0
    if first == "near":
        if not is_slip(canonical_first_name(first_a), canonical_first_name(first_b), surname=False):
            return False
        slips += 1
    elif first not in _NAME_OK:
        return False
    if last == "near":
        if not is_slip(last_a, last_b, surname=True):
            return False
        slips += 1
    elif last == "partial":
        if not _second_surname_dropped(last_a, last_b):
            return False
        slips += 1
    elif last not in _NAME_OK:
        return False
    if "typos_in_both_names" in reasons:
        slips = max(slips, 1)
    address = {r for r in score.reasons if r.startswith(("house_", "zip_", "street_"))}
    for reason in address - _ADDRESS_OK:
        if reason == "zip_typo":
            slips += 1
        elif reason == "house_typo" and _house_slip(typed.house_number, stored.house_number):
            slips += 1
        else:
            return False
    if "typos_in_both_names" in reasons and address - _ADDRESS_OK:
        return False
    return slips <= 1


def doorstep_answer(typed: NormalizedRecord, exact: bool,
                    scored: Iterable[tuple[NormalizedRecord, MatchScore]]) -> str:
    """The door-step word for the person typed, from intake's findings: ``exact`` (a stored
    signer shares an exact matching key) and the scored candidates (stored record, score) that
    the scorer did not call distinct."""
    if exact:
        return PROBABLY
    word = NO
    for stored, score in scored:
        if score.decision == DUPLICATE or (score.decision == POSSIBLE_DUPLICATE
                                           and upgraded(typed, stored, score)):
            return PROBABLY
        if score.decision == POSSIBLE_DUPLICATE:
            word = MAYBE
    return word
