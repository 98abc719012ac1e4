"""One catalogue per kind of word (issue 17): the words a screen shows for a protocol reason
code are one key family per audience, each key derived from a ReasonCode
(canvass.i18n.reason_key), present in every language; protocol.REASON_TEXT is the one English
text of each code for logs and the API; no other table restates any of them."""

from __future__ import annotations

import re

import pytest

from canvass.i18n import (
    CATALOGUES,
    CIRCULATOR_REASONS,
    EN,
    ES,
    LANGUAGES,
    OFFICE_REASONS,
    REASON_FAMILIES,
    jurisdiction_label,
    reason_key,
)
from canvass.state.registration_check import ANSWERS, UNKNOWN
from sync.protocol import REASON_TEXT, ReasonCode


def test_every_reason_code_has_its_english_text_for_logs_and_the_api():
    assert set(REASON_TEXT) == set(ReasonCode)
    assert all(text.strip().endswith(".") for text in REASON_TEXT.values())


@pytest.mark.parametrize("family", REASON_FAMILIES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_reason_code_has_words_in_every_language_and_nothing_else(lang, family):
    catalogue = CATALOGUES[lang]
    expected = {reason_key(code, family) for code in ReasonCode} | {reason_key(None, family)}
    assert {key for key in catalogue if key.startswith(family + ".")} == expected
    assert all(catalogue[key].strip() for key in expected)


def test_no_reason_key_outside_the_families():
    families = tuple(family + "." for family in REASON_FAMILIES)
    for catalogue in CATALOGUES.values():
        stray = [key for key in catalogue
                 if re.search(r"(^|\.)reasons?\.", key) and not key.startswith(families)]
        assert stray == []


def test_spanish_reason_words_are_translated():
    for family in REASON_FAMILIES:
        for code in ReasonCode:
            key = reason_key(code, family)
            assert ES[key] != EN[key], key


def test_reason_key_is_the_code_or_unknown():
    assert reason_key(ReasonCode.INVALID_ZIP) == "reason.102"
    assert reason_key(102, OFFICE_REASONS) == "staff.intake.reason.102"
    assert reason_key(999) == f"{CIRCULATOR_REASONS}.unknown"  # a newer server's code
    assert reason_key(None, OFFICE_REASONS) == "staff.intake.reason.unknown"


def test_the_office_reads_its_own_words_or_the_server_s(monkeypatch):
    from canvass.intake.state import reason_text

    monkeypatch.setenv("CANVASS_STAFF_LANG", "en")
    assert reason_text(102) == "Not a 5-digit ZIP or ZIP+4."
    assert reason_text(102, "server words") == "Not a 5-digit ZIP or ZIP+4."
    assert reason_text(999, "server words") == "server words"
    assert reason_text(999) == reason_text(None) == "refused"
    monkeypatch.setenv("CANVASS_STAFF_LANG", "es")
    assert reason_text(102) == "No es un código postal de 5 dígitos o ZIP+4."


def test_the_circulator_reads_unknown_codes_as_see_your_team_lead():
    from canvass.state.lines import outcome_text

    class Stored:
        status, superseded_by = "rejected", None

        def __init__(self, code):
            self.reason_code = code

    assert outcome_text(Stored(999)).render("en") == "Rejected: see your team lead"
    assert outcome_text(Stored(None)).render("es") == "Rechazada: consulte a su líder de equipo"
    assert outcome_text(Stored(111)).render("en") == "Rejected: the street address is not a residence"


def test_registration_answers_have_their_words():
    for lang in LANGUAGES:
        shown = {key for key in CATALOGUES[lang] if key.startswith("registration.")}
        assert shown == {f"registration.{answer}" for answer in ANSWERS if answer != UNKNOWN}


def test_jurisdictions_are_said_in_the_language():
    assert jurisdiction_label("los_angeles_county", "en") == "Los Angeles County"
    assert jurisdiction_label("los_angeles_county", "es") == "condado de Los Ángeles"
    assert jurisdiction_label("orange_county", "es") == "Orange County"  # no words yet: its name


def test_every_box_of_the_capture_form_has_its_label():
    from canvass.state.capture import ALL_FIELDS

    for lang in LANGUAGES:
        labels = {key for key in CATALOGUES[lang] if key.startswith("field.")}
        assert labels == {f"field.{name}" for name in ("line", *ALL_FIELDS)}
