"""The door-step's rule on intake's scored candidates (sync/server/doorstep_rule.py, issue 15).

Pure: the scorer's real verdicts on labelled pairs (tests/scoring_pairs.py) and on slips
the circulators make; the same rule over HTTP is tests/test_doorstep_online.py.
"""

from __future__ import annotations

import pytest
from scoring_pairs import DIFFERENT, SAME, p

from sync.normalize import normalized_record
from sync.scoring import DISTINCT, score_records
from sync.server.doorstep_rule import doorstep_answer, is_slip


def word(stored: dict, typed: dict) -> str:
    """The door-step word for ``typed`` with ``stored`` the only counted candidate."""
    t, s = normalized_record(typed), normalized_record(stored)
    score = score_records(t, s)
    return doorstep_answer(t, False, [] if score.decision == DISTINCT else [(s, score)])


@pytest.mark.parametrize(("label", "a", "b"), [row[:3] for row in DIFFERENT], ids=[r[0] for r in DIFFERENT])
def test_two_people_are_never_probably_signed(label, a, b):
    assert word(a, b) != "probably_signed", label
    assert word(b, a) != "probably_signed", label


def test_intake_duplicates_stay_probably_and_its_doubts_mostly_maybe():
    for label, a, b, expected in SAME:
        if expected == "duplicate":
            assert word(a, b) == "probably_signed", label
    # Doubts that are not one slip of the pen stay a question at the door.
    for label in ("ambiguous_nickname", "initial_only", "suffix_one_side", "missing_house_number"):
        a, b = next((a, b) for lab, a, b, _e in SAME if lab == label)
        assert word(a, b) == "maybe", label


STORED = p("Guadalupe", "Hernandez", "1450 S Indiana St", "90063")


@pytest.mark.parametrize(("why", "typed"), [
    ("surname letter dropped inside", p("Lupe", "Hernadez", "1450 South Indiana Street", "90063")),
    ("first name letter dropped inside", p("Guadlupe", "Hernandez", "1450 S Indiana St", "90063")),
    ("first name last letter dropped, not a name", p("Javie", "Hernandez", "1450 S Indiana St", "90063")),
    ("neighbouring key", p("Guadalupe", "Hernandex", "1450 S Indiana St", "90063")),
    ("one ZIP digit", p("Guadalupe", "Hernandez", "1450 S Indiana St", "90023")),
    ("house digit not the last", p("Guadalupe", "Hernandez", "1750 S Indiana St", "90063")),
    ("second surname dropped", None),
])
def test_one_slip_of_the_pen_is_probably_signed(why, typed):
    stored = {**STORED, "first_name": "Javier"} if typed and typed["first_name"] == "Javie" else STORED
    if typed is None:
        stored = p("Guadalupe", "Hernandez Ruiz", "1450 S Indiana St", "90063")
        typed = p("Guadalupe", "Hernandez", "1450 S Indiana St", "90063")
    assert word(stored, typed) == "probably_signed", why


@pytest.mark.parametrize(("why", "stored", "typed"), [
    ("house number's last digit: the house next door",
     STORED, p("Guadalupe", "Hernandez", "1452 S Indiana St", "90063")),
    ("two slips", STORED, p("Guadlupe", "Hernandez", "1450 S Indiana St", "90023")),
    ("two units of one building", {**STORED, "unit": "Apt 1"}, {**STORED, "unit": "Apt 2"}),
    ("a slip and a middle initial each", {**STORED, "middle_name": "A"},
     {**STORED, "last_name": "Hernadez", "middle_name": "L"}),
])
def test_more_than_one_slip_or_a_neighbour_is_maybe(why, stored, typed):
    assert word(stored, typed) == "maybe", why


@pytest.mark.parametrize(("a", "b", "surname", "slip"), [
    ("hernandez", "hernadez", True, True),  # dropped inside
    ("powell", "powel", True, True),  # one of a doubled letter
    ("holt", "hol", True, True),  # last letter of a surname
    ("richards", "richard", True, False),  # a final s: another family
    ("julien", "julie", False, False),  # what is left is a given name
    ("yang", "yan", False, False),  # too short to tell
    ("juan", "jun", False, False),  # too short to tell
    ("lisa", "lisw", False, True),  # the key next to it
    ("mena", "meza", True, False),  # not a neighbouring key
    ("linh", "binh", False, False),  # another first letter
    ("irma", "iram", False, True),  # swapped letters
])
def test_what_a_slip_is(a, b, surname, slip):
    assert is_slip(a, b, surname=surname) is slip
    assert is_slip(b, a, surname=surname) is slip
