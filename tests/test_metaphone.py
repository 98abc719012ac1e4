"""sync.metaphone gives exactly jellyfish's Metaphone codes, so the matching keys the device
(pure Python, no jellyfish on a phone) and the server compute stay the keys stored before.

jellyfish is only this test's oracle (dev extra)."""

from __future__ import annotations

import importlib

import jellyfish
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync import nicknames, synthetic
from sync.metaphone import metaphone
from sync.normalize import _spanish_rewrite, normalize_name, phonetic

FAKER_LOCALES = ("es_MX", "en_US", "en_IN", "zh_CN")  # the synthetic generator's (sync.synthetic)
NAME_LISTS = ("first_names", "first_names_male", "first_names_female", "last_names",
              "first_romanized_names", "last_romanized_names")


def _faker_names() -> set[str]:
    """Every name of the Faker pools the generator draws from, not only the ones one seed draws."""
    names: set[str] = set()
    for locale in FAKER_LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attribute in NAME_LISTS:
            pool = getattr(provider, attribute, ())
            names.update(pool.keys() if isinstance(pool, dict) else pool)
    return names


def _table_names() -> set[str]:
    names = set(synthetic.KOREAN_FIRST + synthetic.KOREAN_LAST + synthetic.VIET_FIRST
                + synthetic.VIET_LAST + synthetic.FILIPINO_LAST + synthetic.ARMENIAN_FIRST
                + synthetic.ARMENIAN_LAST + synthetic.LA_STREETS)
    for formal, written in synthetic.NICKNAMES.items():
        names.add(formal)
        names.update(written)
    names.update(nicknames.NICKNAMES)
    names.update(nicknames.NICKNAMES.values())
    for nickname, formals in nicknames.AMBIGUOUS_NICKNAMES.items():
        names.add(nickname)
        names.update(formals)
    names.update(nicknames.KNOWN_GIVEN_NAMES)
    return names


ALL_NAMES = sorted(_faker_names() | _table_names())


def _jellyfish_phonetic(text: str) -> str:
    """sync.normalize.phonetic as it was written before: jellyfish per token."""
    codes = [jellyfish.metaphone(_spanish_rewrite(t)) for t in normalize_name(text).split()]
    return " ".join(c for c in codes if c)


def test_the_name_list_is_large():
    assert len(ALL_NAMES) > 5000


def test_every_pool_and_table_name_gets_jellyfish_code():
    differ = [name for name in ALL_NAMES
              if metaphone(name) != jellyfish.metaphone(name)
              or phonetic(name) != _jellyfish_phonetic(name)]
    assert differ == []


@pytest.mark.parametrize("word, code", [("Thompson", "0MPSN"), ("knight", "NT"), ("Schmidt", "SXMTT"),
                                        ("lamb", "LM"), ("Hugh", "H"), ("Xavier", "SFR"),
                                        ("Hernández", "HRNNTS"), ("", "")])
def test_known_codes(word, code):
    assert metaphone(word) == jellyfish.metaphone(word) == code


# Letters of names as they are written (normalize_name gives a-z0-9 and spaces; the raw
# function is also held equal on capitals, accented Latin letters and ligatures).
_NAME_TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 '-."
                              "áéíóúñüçÁÉÑÆæßøØﬁ\u0301", max_size=24)


@settings(max_examples=3000, deadline=None)
@given(_NAME_TEXT)
def test_generated_strings_get_jellyfish_code(text):
    assert metaphone(text) == jellyfish.metaphone(text)
    assert phonetic(text) == _jellyfish_phonetic(text)
