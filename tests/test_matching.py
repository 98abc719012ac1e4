"""Blind-index keys: equal for equivalent spellings, different for different people."""

from __future__ import annotations

import re

import pytest

from sync.matching import (
    BLOCKING_KEY_KINDS,
    KEY_BYTES_HEX,
    MATCHING_KEY_KINDS,
    blocking_keys,
    matching_key_kinds,
    matching_keys,
)
from sync.normalize import normalized_record

INDEX_KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))

BASE = {
    "first_name": "Robert", "middle_name": "", "last_name": "Smith", "suffix": "",
    "street": "123 North Main Street", "unit": "", "city": "Los Angeles", "zip": "90012",
}


def keys(**changes: str) -> list[str]:
    return matching_keys(INDEX_KEY, {**BASE, **changes})


@pytest.mark.parametrize("changes", [
    {"street": "123 N Main St"},
    {"street": "123 n. main st."},
    {"first_name": "Bob"},
    {"first_name": "BOBBY", "last_name": "SMITH"},
    {"zip": "90012-3456"},
    {"zip": "900124321"},
    {"city": "LA"},  # the city is not part of the key: ZIP5 already places the address
])
def test_keys_equal_for_equivalent_spellings(changes):
    assert keys(**changes) == keys()


@pytest.mark.parametrize("first", ["Smith", "SMITH"])
@pytest.mark.parametrize("last", ["Robert", "Bob"])
def test_swapped_names_share_the_swapped_key(first, last):
    swapped = keys(first_name=first, last_name=last)
    assert set(swapped) & set(keys()) == {keys()[MATCHING_KEY_KINDS.index("swapped_house_zip")]}


def test_accents_and_case_do_not_change_keys():
    a = matching_keys(INDEX_KEY, {**BASE, "first_name": "José", "last_name": "Muñoz-García"})
    b = matching_keys(INDEX_KEY, {**BASE, "first_name": "JOSE", "last_name": "munoz garcia"})
    assert a == b
    c = matching_keys(INDEX_KEY, {**BASE, "first_name": "Pepe", "last_name": "Munoz Garcia"})
    assert a == c


def test_phonetic_key_shares_a_key_for_surname_misspelling():
    a = set(matching_keys(INDEX_KEY, {**BASE, "last_name": "Valdez"}))
    b = set(matching_keys(INDEX_KEY, {**BASE, "last_name": "Baldez"}))
    assert len(a & b) == 1  # only the phonetic kind


def test_unit_on_street_line_equals_unit_field():
    a = matching_keys(INDEX_KEY, {**BASE, "street": "123 N Main St Apt 4B"})
    b = matching_keys(INDEX_KEY, {**BASE, "street": "123 N Main St", "unit": "#4-b"})
    assert a == b


@pytest.mark.parametrize("changes", [
    {"street": "125 N Main St"},           # neighbor
    {"suffix": "Jr"},                       # son
    {"last_name": "Smith Jr."},             # son, suffix written in the last-name box
    {"first_name": "Mary"},                 # spouse
    {"first_name": "Roberta"},              # twin
    {"middle_name": "A"},                   # father/son by middle initial
    {"unit": "7"},                          # same name, another apartment
    {"zip": "90013"},
    {"first_name": "Chris"},                # ambiguous nickname is never canonicalized
])
def test_keys_differ_for_different_people(changes):
    assert not set(keys(**changes)) & set(keys())


def test_mario_and_maria_never_share_a_key():
    # Metaphone gives both "MR": the first name must not be keyed phonetically.
    a = matching_keys(INDEX_KEY, {**BASE, "first_name": "Mario", "last_name": "Garcia"})
    b = matching_keys(INDEX_KEY, {**BASE, "first_name": "Maria", "last_name": "Garcia"})
    assert a and b and not set(a) & set(b)


def test_keys_depend_on_index_key():
    a = matching_keys(INDEX_KEY, BASE)
    b = matching_keys(OTHER_KEY, BASE)
    assert len(a) == len(b) == len(MATCHING_KEY_KINDS)
    assert not set(a) & set(b)


def test_key_format_length_and_order_stability():
    first = keys()
    assert first == keys()
    assert len(first) == len(set(first)) == 3
    for key in first:
        assert len(key) == KEY_BYTES_HEX == 32
        assert re.fullmatch(r"[0-9a-f]{32}", key)
    assert matching_key_kinds() == MATCHING_KEY_KINDS


def test_keys_carry_no_plaintext():
    record = normalized_record(BASE)
    joined = " ".join(keys() + blocking_keys(INDEX_KEY, BASE))
    for part in (record.last, record.first_canonical, record.house_number, record.zip5,
                 "smith", "robert", "123", "90012", "main"):
        assert part not in joined
        assert part.encode().hex() not in joined


@pytest.mark.parametrize("missing", ["first_name", "last_name", "street", "zip"])
def test_no_keys_without_required_parts(missing):
    assert matching_keys(INDEX_KEY, {**BASE, missing: ""}) == []
    partial = dict(BASE)
    del partial[missing]
    assert matching_keys(INDEX_KEY, partial) == []


def test_no_keys_without_house_number():
    assert matching_keys(INDEX_KEY, {**BASE, "street": "N Main St"}) == []


def test_accepts_normalized_record():
    assert matching_keys(INDEX_KEY, normalized_record(BASE)) == keys()


def test_blocking_keys_catch_typos_with_distinct_kinds():
    base = blocking_keys(INDEX_KEY, BASE)
    assert len(base) == len(BLOCKING_KEY_KINDS) == 3
    assert not set(base) & set(keys())  # kinds are separated by their prefix
    # A first-name typo, a house-number typo and a ZIP typo each still share a block.
    for changes in ({"first_name": "Rboert"}, {"street": "132 N Main St"}, {"zip": "90021"},
                    {"first_name": "Smith", "last_name": "Robert"}, {"last_name": "Smyth"}):
        assert set(blocking_keys(INDEX_KEY, {**BASE, **changes})) & set(base), changes


def test_blocking_keys_separate_unrelated_signers():
    other = {**BASE, "first_name": "Ana", "last_name": "Lopez", "street": "9 Elm Ct", "zip": "91101"}
    assert not set(blocking_keys(INDEX_KEY, other)) & set(blocking_keys(INDEX_KEY, BASE))
    assert blocking_keys(INDEX_KEY, {}) == []
