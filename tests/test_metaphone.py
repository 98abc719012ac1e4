"""sync.metaphone gives exactly jellyfish's Metaphone codes, so the matching keys the device
(pure Python, no jellyfish on a phone) and the server compute stay the keys stored before.

jellyfish is only this test's oracle (dev extra)."""

from __future__ import annotations

import jellyfish
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from metaphone_names import ALL_NAMES

from sync.metaphone import metaphone
from sync.normalize import _spanish_rewrite, normalize_name, phonetic


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
