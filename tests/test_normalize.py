"""Normalization table: realistic LA County names and addresses -> matching forms."""

from __future__ import annotations

import pytest

from sync.nicknames import AMBIGUOUS_NICKNAMES, KNOWN_GIVEN_NAMES, NICKNAMES
from sync.normalize import (
    NormalizedRecord,
    NormalizedStreet,
    canonical_first_name,
    normalize_name,
    normalize_street,
    normalize_suffix,
    normalize_unit,
    normalized_record,
    phonetic,
    split_unit_from_street,
    zip5,
)

NAME_CASES = [
    ("José Ángel Muñoz-García", "jose angel munoz garcia"),
    ("Muñoz García", "munoz garcia"),
    ("O'Brien", "obrien"),
    ("O’Brien", "obrien"),
    ("  MARÍA   de la   CRUZ ", "maria de la cruz"),
    ("Nguyễn", "nguyen"),
    ("St. John", "st john"),
    ("Ibáñez", "ibanez"),
    ("Zoë", "zoe"),
    ("D'Angelo-Smith", "dangelo smith"),
    ("Peña", "pena"),
    ("", ""),
]


@pytest.mark.parametrize(("raw", "expected"), NAME_CASES)
def test_normalize_name(raw, expected):
    assert normalize_name(raw) == expected


FIRST_NAME_CASES = [
    ("Bob", "robert"), ("BOBBY", "robert"), ("rob", "robert"), ("Robert", "robert"),
    ("Bill", "william"), ("Billy", "william"), ("Will", "william"),
    ("Liz", "elizabeth"), ("Beth", "elizabeth"), ("Peggy", "margaret"), ("Chuck", "charles"),
    ("Pepe", "jose"), ("Paco", "francisco"), ("Pancho", "francisco"), ("Lupe", "guadalupe"),
    ("Chuy", "jesus"), ("Memo", "guillermo"), ("Toño", "antonio"), ("Nacho", "ignacio"),
    ("Lalo", "eduardo"), ("Jesús", "jesus"), ("Jon", "john"),
    # Ambiguous nicknames stay as written: Chris may be Christopher or Christina.
    ("Chris", "chris"), ("Alex", "alex"), ("Beto", "beto"),
    ("Mary Ann", "mary ann"),
]


@pytest.mark.parametrize(("raw", "expected"), FIRST_NAME_CASES)
def test_canonical_first_name(raw, expected):
    assert canonical_first_name(raw) == expected


def test_nickname_tables_are_large_and_consistent():
    assert len(NICKNAMES) >= 150
    # Canonical values are never themselves nicknames: one lookup is enough.
    assert not [v for v in NICKNAMES.values() if v in NICKNAMES]
    assert not set(NICKNAMES) & set(AMBIGUOUS_NICKNAMES)
    for key in list(NICKNAMES) + list(AMBIGUOUS_NICKNAMES):
        assert normalize_name(key) == key
    assert {"maria", "mario", "michael", "michelle", "jose"} <= KNOWN_GIVEN_NAMES


@pytest.mark.parametrize(("raw", "expected"), [
    ("Jr.", "jr"), ("JR", "jr"), ("junior", "jr"), ("Sr.", "sr"), ("Senior", "sr"),
    ("II", "ii"), ("2nd", "ii"), ("III", "iii"), ("IV", "iv"), ("M.D.", ""), ("", ""),
])
def test_normalize_suffix(raw, expected):
    assert normalize_suffix(raw) == expected


STREET_CASES = [
    ("1600 W. Sunset Blvd., Apt #3", "1600", "w sunset blvd", "3"),
    ("1600 West Sunset Boulevard", "1600", "w sunset blvd", ""),
    ("742 Evergreen Terr", "742", "evergreen ter", ""),
    ("742 Evergreen Terrace", "742", "evergreen ter", ""),
    ("200 N Figueroa St", "200", "n figueroa st", ""),
    ("200 North Figueroa Street", "200", "n figueroa st", ""),
    ("123 1/2 E 5th Street", "123 1/2", "e 5th st", ""),
    ("123½ East Fifth St.", "123 1/2", "e 5th st", ""),
    ("123-1/2 E. 5th St", "123 1/2", "e 5th st", ""),
    ("123A Main St", "123a", "main st", ""),
    ("123-A Main Street", "123a", "main st", ""),
    ("123 Main St Apt 4", "123", "main st", "4"),
    ("123 Main St. #4-B", "123", "main st", "4b"),
    ("123 Main St 4B", "123", "main st", "4b"),
    ("1200 S Hoover St Unit 12", "1200", "s hoover st", "12"),
    ("4500 Whittier Blvd Spc 27", "4500", "whittier blvd", "27"),
    ("10 Universal City Plaza, Suite 100", "10", "universal city plz", "100"),
    ("3900 W 3 St", "3900", "w 3rd st", ""),
    ("1 World Way", "1", "world way", ""),
    ("987 Saint Andrews Place", "987", "st andrews pl", ""),
    ("987 St. Andrews Pl", "987", "st andrews pl", ""),
    ("2000 Avenue of the Stars", "2000", "ave of the stars", ""),
    ("1111 S Pacific Coast Hwy", "1111", "s pacific coast hwy", ""),
    ("500 Northwest Highway", "500", "nw hwy", ""),
    ("0045 Elm Ct", "45", "elm ct", ""),
    ("321 Calle Mayor", "321", "calle mayor", ""),
    ("88 Camino Real Apto 5", "88", "camino real", "5"),
    ("456 Pico Blvd Rear", "456", "pico blvd", "rear"),
    ("N Figueroa St", "", "n figueroa st", ""),
]


@pytest.mark.parametrize(("raw", "house", "street", "unit"), STREET_CASES)
def test_normalize_street_and_unit_on_street_line(raw, house, street, unit):
    assert normalize_street(raw) == NormalizedStreet(house, street)
    assert split_unit_from_street(raw)[1] == unit


def test_street_normalization_is_idempotent():
    for raw, house, street, _unit in STREET_CASES:
        again = normalize_street(f"{house} {street}".strip())
        assert again == NormalizedStreet(house, street), raw


@pytest.mark.parametrize(("raw", "expected"), [
    ("Apt. 4B", "4b"), ("#4b", "4b"), ("Unit 4-B", "4b"), ("apartment 4b", "4b"), ("Ste 100", "100"),
    ("Suite 100", "100"), ("APT 04", "4"), ("Spc 12", "12"), ("4b", "4b"), ("Apt4B", "4b"),
    ("Rear", "rear"), ("", ""),
])
def test_normalize_unit(raw, expected):
    assert normalize_unit(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("90012", "90012"), ("90012-3456", "90012"), ("900123456", "90012"), (" 90012 ", "90012"),
    ("90012 3456", "90012"), ("9001", ""), ("900123", ""), ("ABCDE", ""), ("00000", ""), ("", ""),
])
def test_zip5(raw, expected):
    assert zip5(raw) == expected


@pytest.mark.parametrize(("a", "b"), [
    ("Valdez", "Baldez"), ("Hernández", "Ernandez"), ("Gonzalez", "Gonzales"),
    ("Villalobos", "Viyalobos"), ("Ybarra", "Ibarra"), ("Smith", "Smyth"), ("Jiménez", "Gimenez"),
])
def test_phonetic_merges_usual_misspellings(a, b):
    assert phonetic(a) == phonetic(b) != ""


@pytest.mark.parametrize(("a", "b"), [("Garcia", "Lopez"), ("Smith", "Jones"), ("Nguyen", "Tran")])
def test_phonetic_keeps_different_names_apart(a, b):
    assert phonetic(a) != phonetic(b)


def test_normalized_record_from_wire_fields():
    record = normalized_record({
        "first_name": "Bobby", "middle_name": "Allen", "last_name": "Smith", "suffix": "Jr.",
        "street": "1600 W. Sunset Blvd., Apt #3", "city": "Los Ángeles", "zip": "90026-1234",
    })
    assert record == NormalizedRecord(
        first="bobby", first_canonical="robert", middle_initial="a", last="smith", suffix="jr",
        house_number="1600", street="w sunset blvd", unit="3", zip5="90026", city="los angeles")


def test_normalized_record_missing_keys_and_suffix_in_last_name():
    record = normalized_record({"first_name": "John Q", "last_name": "Smith Jr.", "unit": "Apt 2"})
    assert (record.first, record.middle_initial, record.last, record.suffix) == ("john", "q", "smith", "jr")
    assert record.unit == "2"
    assert (record.house_number, record.street, record.zip5, record.city) == ("", "", "", "")
