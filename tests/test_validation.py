"""Field-level validation of signer entries: a table of realistic entries, each with the exact
set of (field, reason code) it must produce, plus the helpers the stores and server share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canvass.i18n import CATALOGUES, EN
from canvass.i18n import field_message as message
from sync.domain import PERSONAL_FIELDS, REQUIRED_FIELDS, SignerEntry
from sync.jurisdiction import jurisdiction_from_zips, load_jurisdiction
from sync.protocol import REASON_TEXT, EntryWire, ReasonCode
from sync.validation import (
    FIELD_LIMITS,
    MAX_LINE_NUMBER,
    FieldError,
    first_error_reason,
    line_used_error,
    rejection_details,
    validate_entry,
    validate_line,
    validate_section_serial,
    validate_wire,
)

R = ReasonCode
LA = load_jurisdiction()
PACIFIC = timezone(timedelta(hours=-8))

BASE = dict(
    section="LA-2024-0042",
    line=1,
    first_name="Maria",
    last_name="Hernandez",
    street="200 N Spring St",
    city="Los Angeles",
    zip="90012",
    captured_at=datetime(2024, 3, 2, 10, 15, tzinfo=PACIFIC),
)


def entry(**changes) -> SignerEntry:
    return SignerEntry(**{**BASE, **changes})


# (case id, changes to BASE, expected {(field, code)})
CASES: list[tuple[str, dict, set[tuple[str, ReasonCode]]]] = [
    # --- valid entries -----------------------------------------------------------------------
    ("minimal valid", {}, set()),
    ("all optional fields", dict(middle_name="Luisa", suffix="Jr.", unit="Apt 4B",
                                 phone="(213) 555-0100", email="maria.h@example.com",
                                 notes="Prefers Spanish materials"), set()),
    ("accented and hyphenated", dict(first_name="José", last_name="García-López"), set()),
    ("apostrophe surname", dict(first_name="Sean", last_name="O'Brien"), set()),
    ("typographic apostrophe", dict(last_name="D’Angelo"), set()),
    ("multi-word surname", dict(first_name="Ana", last_name="de la Cruz"), set()),
    ("vietnamese name", dict(first_name="Thị Lan", last_name="Nguyễn",
                             street="9200 Westminster Ave", city="Rosemead", zip="91770"), set()),
    ("korean name", dict(first_name="민준", last_name="김", street="3500 W 6th St",
                         city="Los Angeles", zip="90020"), set()),
    ("middle initial", dict(middle_name="Q."), set()),
    ("suffix III", dict(suffix="III"), set()),
    ("suffix 2nd", dict(suffix="2nd"), set()),
    ("ZIP+4", dict(zip="90802-4417", street="411 W Ocean Blvd", city="Long Beach"), set()),
    ("ZIP 9 digits", dict(zip="935351234", street="44933 Fern Ave", city="Lancaster"), set()),
    ("ZIP surrounded by spaces", dict(zip=" 91101 "), set()),
    ("half house number", dict(street="1234 1/2 W 5th St"), set()),
    ("lettered house number", dict(street="123B Colorado Blvd", city="Pasadena", zip="91101"), set()),
    ("numbered street", dict(street="5600 W 3rd St"), set()),
    ("santa clarita", dict(street="23920 Valencia Blvd", city="Santa Clarita", zip="91355"), set()),
    ("city with tilde", dict(street="1327 Foothill Blvd", city="La Cañada Flintridge",
                             zip="91011"), set()),
    ("phone +1 dots", dict(phone="+1 213.555.0100"), set()),
    ("phone 11 digits", dict(phone="1-818-555-0199"), set()),
    ("notes with emoji and newline", dict(notes="Signed twice? 👍\nCheck with lead"), set()),
    ("fields exactly at limits", dict(first_name="A" * 50, last_name="B" * 50,
                                      street="1 " + "C" * 98, notes="n" * 500), set()),
    ("captured_at in UTC", dict(captured_at=datetime(2024, 3, 2, 18, 15, tzinfo=UTC)), set()),
    ("max line", dict(line=MAX_LINE_NUMBER), set()),
    ("nbsp inside name", dict(first_name="Mary\u00a0Ann"), set()),
    # --- missing required fields ---------------------------------------------------------------
    ("missing last name", dict(last_name=""), {("last_name", R.MISSING_REQUIRED_FIELD)}),
    ("blank first name", dict(first_name="   "), {("first_name", R.MISSING_REQUIRED_FIELD)}),
    ("everything missing", dict(first_name="", last_name="", street="", city="", zip=""),
     {(name, R.MISSING_REQUIRED_FIELD) for name in REQUIRED_FIELDS}),
    # --- names -----------------------------------------------------------------------------------
    ("digits-only first name", dict(first_name="12345"), {("first_name", R.IMPLAUSIBLE_NAME)}),
    ("name with a digit", dict(last_name="Sm1th"), {("last_name", R.IMPLAUSIBLE_NAME)}),
    ("punctuation-only name", dict(last_name="--"), {("last_name", R.IMPLAUSIBLE_NAME)}),
    ("email typed as name", dict(first_name="maria@example.com"), {("first_name", R.IMPLAUSIBLE_NAME)}),
    ("emoji in name", dict(first_name="Maria 😀"), {("first_name", R.IMPLAUSIBLE_NAME)}),
    ("middle name of digits", dict(middle_name="42"), {("middle_name", R.IMPLAUSIBLE_NAME)}),
    ("implausible suffix", dict(suffix="Jr/Sr"), {("suffix", R.IMPLAUSIBLE_NAME)}),
    ("51-char last name", dict(last_name="B" * 51), {("last_name", R.FIELD_TOO_LONG)}),
    ("500-char first name", dict(first_name="x" * 500), {("first_name", R.FIELD_TOO_LONG)}),
    # --- control characters --------------------------------------------------------------------
    ("NUL in last name", dict(last_name="Hern\x00andez"), {("last_name", R.CONTROL_CHARACTERS)}),
    ("tab in street", dict(street="200 N\tSpring St"), {("street", R.CONTROL_CHARACTERS)}),
    ("newline in city", dict(city="Los\nAngeles"), {("city", R.CONTROL_CHARACTERS)}),
    ("bidi override in name", dict(first_name="Maria\u202e"), {("first_name", R.CONTROL_CHARACTERS)}),
    ("NUL in notes", dict(notes="ok\x00"), {("notes", R.CONTROL_CHARACTERS)}),
    ("escape in unit", dict(unit="4B\x1b[31m"), {("unit", R.CONTROL_CHARACTERS)}),
    # --- address -------------------------------------------------------------------------------
    ("street without number", dict(street="N Spring St"), {("street", R.IMPLAUSIBLE_STREET)}),
    ("PO box", dict(street="PO Box 1234"), {("street", R.IMPLAUSIBLE_STREET)}),
    ("house number only", dict(street="200"), {("street", R.IMPLAUSIBLE_STREET)}),
    ("101-char street", dict(street="1 " + "C" * 99), {("street", R.FIELD_TOO_LONG)}),
    ("21-char unit", dict(unit="U" * 21), {("unit", R.FIELD_TOO_LONG)}),
    ("ZIP typed into city", dict(city="90012"), {("city", R.IMPLAUSIBLE_STREET)}),
    ("51-char city", dict(city="C" * 51), {("city", R.FIELD_TOO_LONG)}),
    # --- ZIP -----------------------------------------------------------------------------------
    ("4-digit ZIP", dict(zip="9001"), {("zip", R.INVALID_ZIP)}),
    ("6-digit ZIP", dict(zip="900120"), {("zip", R.INVALID_ZIP)}),
    ("letters in ZIP", dict(zip="9OO12"), {("zip", R.INVALID_ZIP)}),
    ("ZIP+4 with space", dict(zip="90012 3456"), {("zip", R.INVALID_ZIP)}),
    ("San Francisco ZIP", dict(zip="94103", city="San Francisco"), {("zip", R.ZIP_OUTSIDE_JURISDICTION)}),
    ("Santa Ana ZIP (Orange County)", dict(zip="92701-1234", city="Santa Ana"),
     {("zip", R.ZIP_OUTSIDE_JURISDICTION)}),
    # --- contact -------------------------------------------------------------------------------
    ("7-digit phone", dict(phone="555-0100"), {("phone", R.INVALID_PHONE)}),
    ("phone with letters", dict(phone="213-555-CALL"), {("phone", R.INVALID_PHONE)}),
    ("foreign phone", dict(phone="+44 20 7946 0958"), {("phone", R.INVALID_PHONE)}),
    ("area code starting 1", dict(phone="(113) 555-0100"), {("phone", R.INVALID_PHONE)}),
    ("email without domain", dict(email="maria@"), {("email", R.INVALID_EMAIL)}),
    ("email with space", dict(email="maria h@example.com"), {("email", R.INVALID_EMAIL)}),
    ("email without tld", dict(email="maria@localhost"), {("email", R.INVALID_EMAIL)}),
    ("email double dot", dict(email="maria..h@example.com"), {("email", R.INVALID_EMAIL)}),
    ("501-char notes", dict(notes="n" * 501), {("notes", R.FIELD_TOO_LONG)}),
    # --- section, line, time, ids ------------------------------------------------------------
    ("line zero", dict(line=0), {("line", R.INVALID_LINE_NUMBER)}),
    ("negative line", dict(line=-3), {("line", R.INVALID_LINE_NUMBER)}),
    ("line too high", dict(line=MAX_LINE_NUMBER + 1), {("line", R.INVALID_LINE_NUMBER)}),
    ("empty serial", dict(section=""), {("section", R.INVALID_SECTION_SERIAL)}),
    ("serial with space", dict(section="LA 0042"), {("section", R.INVALID_SECTION_SERIAL)}),
    ("serial too long", dict(section="A" * 21), {("section", R.INVALID_SECTION_SERIAL)}),
    ("naive captured_at", dict(captured_at=datetime(2024, 3, 2, 10, 15)),
     {("captured_at", R.INVALID_CAPTURED_AT)}),
    ("bad entry id", dict(entry_id="not-a-uuid"), {("entry_id", R.INVALID_ENTRY_ID)}),
    ("bad supersedes", dict(supersedes="42"), {("supersedes", R.INVALID_ENTRY_ID)}),
    # --- several problems at once --------------------------------------------------------------
    ("several fields", dict(first_name="123", zip="94103", phone="12", line=0),
     {("first_name", R.IMPLAUSIBLE_NAME), ("zip", R.ZIP_OUTSIDE_JURISDICTION),
      ("phone", R.INVALID_PHONE), ("line", R.INVALID_LINE_NUMBER)}),
]


@pytest.mark.parametrize(("changes", "expected"), [(c, e) for _, c, e in CASES],
                         ids=[case_id for case_id, _, _ in CASES])
def test_entry_table(changes, expected):
    errors = validate_entry(entry(**changes), jurisdiction=LA)
    assert {(e.field, e.code) for e in errors} == expected
    # One error per field at most.
    assert len(errors) == len({e.field for e in errors})


def test_table_is_large_and_mixed():
    assert len(CASES) >= 40
    assert sum(1 for _, _, expected in CASES if not expected) >= 15
    assert sum(1 for _, _, expected in CASES if expected) >= 25


def test_without_jurisdiction_any_wellformed_zip_passes():
    assert validate_entry(entry(zip="94103")) == []
    assert {(e.field, e.code) for e in validate_entry(entry(zip="941"))} == {("zip", R.INVALID_ZIP)}


def test_campaign_jurisdiction_is_used():
    pasadena_only = jurisdiction_from_zips("pasadena", ["91101", "91103"])
    assert validate_entry(entry(zip="91101-2000"), jurisdiction=pasadena_only) == []
    errors = validate_entry(entry(zip="90012"), jurisdiction=pasadena_only)
    assert [(e.field, e.code) for e in errors] == [("zip", R.ZIP_OUTSIDE_JURISDICTION)]
    assert errors[0].params == {"zip": "90012", "jurisdiction": "pasadena"}


def test_too_long_is_reported_before_shape():
    # A 60-char run of digits is too long first; the circulator shortens, then fixes the rest.
    errors = validate_entry(entry(first_name="1" * 60))
    assert [(e.field, e.code) for e in errors] == [("first_name", R.FIELD_TOO_LONG)]
    assert errors[0].params == {"max": FIELD_LIMITS["first_name"]}


def test_errors_come_in_form_order():
    errors = validate_entry(entry(section="", last_name="", zip="x",
                                  captured_at=datetime(2024, 1, 1)))
    assert [e.field for e in errors] == ["section", "last_name", "zip", "captured_at"]


def test_repr_of_errors_carries_no_values():
    errors = validate_entry(entry(zip="94103", first_name="Zebediah99"), jurisdiction=LA)
    text = repr(errors) + str(errors)
    assert "94103" not in text and "Zebediah" not in text
    assert any(e.params.get("zip") == "94103" for e in errors)  # still shown on screen


def test_validate_section_serial():
    assert validate_section_serial("A-1") is None
    assert validate_section_serial("x" * 20) is None
    for bad in ["", "-", "---", "A_1", "Ñ1", "A" * 21, None, 42]:
        error = validate_section_serial(bad)
        assert error is not None and (error.field, error.code) == ("section", R.INVALID_SECTION_SERIAL)


def test_validate_line():
    assert validate_line(1) is None and validate_line(MAX_LINE_NUMBER) is None
    for bad in [0, -1, MAX_LINE_NUMBER + 1, True, "3", 2.0, None]:
        error = validate_line(bad)
        assert error is not None and (error.field, error.code) == ("line", R.INVALID_LINE_NUMBER)


def test_line_used_error_is_shared_shape():
    error = line_used_error(7)
    assert (error.field, error.code, error.message_key) == ("line", R.LINE_ALREADY_USED, "line.used")
    assert message(error) == "Line 7 of this section is already used. Check the line number on the paper."
    assert "7" in message(error, "es")


def test_first_error_reason_and_rejection_details():
    errors = validate_entry(entry(line=0, last_name=""))
    assert first_error_reason(errors) == (R.INVALID_LINE_NUMBER, "line")
    assert rejection_details(errors) == {
        "reason_code": 107, "reason": REASON_TEXT[R.INVALID_LINE_NUMBER], "field": "line"}
    with pytest.raises(ValueError):
        first_error_reason([])


# --------------------------------------------------------------------------------------------
# Messages


def _all_errors() -> list[FieldError]:
    """One error for every message_key validation can produce."""
    samples = [validate_entry(entry(**changes), jurisdiction=LA) for _, changes, _ in CASES]
    return [e for errors in samples for e in errors] + [line_used_error(3)]


def _family(prefix: str, lang: str = "en") -> set[str]:
    return {key.removeprefix(prefix) for key in CATALOGUES[lang] if key.startswith(prefix)}


def test_every_key_in_both_languages():
    for lang in CATALOGUES:
        assert _family("validation.", lang) == _family("validation.")
        assert _family("label.", lang) == _family("label.")
    produced = {e.message_key for e in _all_errors()}
    assert produced <= _family("validation.")
    # Every catalogue key is reachable from the table, so none is dead text.
    assert _family("validation.") <= produced
    # Every field an error can name has its name for a sentence.
    assert {e.field for e in _all_errors()} <= _family("label.")
    assert EN["label.zip"] == "ZIP code"


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_error_renders_without_placeholders(lang):
    for error in _all_errors():
        text = message(error, lang)
        assert "{" not in text and "}" not in text, error.message_key
        assert text.strip() and text != error.message_key


def test_messages_name_the_field_and_translate():
    error = validate_entry(entry(last_name="B" * 80))[0]
    assert message(error, "en") == "Shorten the last name to at most 50 characters."
    assert "apellido" in message(error, "es") and "50" in message(error, "es")
    required = validate_entry(entry(last_name=""))[0]
    assert message(required) == "Enter the signer's last name."
    assert message(required, "es") == "Escriba el apellido del firmante."


def test_outside_message_shows_zip_and_jurisdiction():
    error = validate_entry(entry(zip="92101"), jurisdiction=LA)[0]
    assert message(error).startswith("ZIP 92101 is outside Los Angeles County.")
    assert "92101" in message(error, "es") and "condado de Los Ángeles" in message(error, "es")


def test_unknown_language_falls_back_to_english():
    error = validate_entry(entry(first_name=""))[0]
    assert message(error, "fr") == message(error, "en")


# --------------------------------------------------------------------------------------------
# Properties: any text at all is answered with errors, never an exception, and never echoed.

_MARKER = "Qzx7"  # a value we can look for in reprs


def test_every_text_field_has_a_limit():
    assert tuple(FIELD_LIMITS) == PERSONAL_FIELDS


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(sorted(FIELD_LIMITS)), text=st.text(max_size=600))
def test_any_text_validates_without_raising_or_leaking(name, text):
    value = _MARKER + text
    errors = validate_entry(entry(**{name: value}), jurisdiction=LA)
    assert all(isinstance(e.code, ReasonCode) for e in errors)
    assert {e.field for e in errors} <= {name}  # other fields of BASE stay valid
    assert _MARKER not in repr(errors)
    for error in errors:
        for lang in ("en", "es"):
            assert message(error, lang)


@settings(max_examples=100, deadline=None)
@given(text=st.text(alphabet=st.characters(categories=["Cc"]), min_size=1, max_size=5))
def test_control_characters_never_pass_in_a_name(text):
    errors = validate_entry(entry(last_name="Hernandez" + text))
    assert [(e.field, e.code) for e in errors] == [("last_name", R.CONTROL_CHARACTERS)]


def test_validate_wire_catches_naive_time_hidden_by_from_wire():
    wire = entry(device_seq=1).to_wire()
    assert validate_wire(wire, jurisdiction=LA) == []
    # What pydantic yields for a time sent without an offset, e.g. "2024-03-02T18:15:00".
    naive = EntryWire.model_validate({**wire.model_dump(), "captured_at": "2024-03-02T18:15:00"})
    assert naive.captured_at.tzinfo is None
    errors = validate_wire(naive.model_copy(update={"entry_id": "bad"}), jurisdiction=LA)
    assert [(e.field, e.code) for e in errors] == [
        ("captured_at", R.INVALID_CAPTURED_AT), ("entry_id", R.INVALID_ENTRY_ID)]
    bad_zip = wire.model_copy(update={"zip": "92101"})
    assert [(e.field, e.code) for e in validate_wire(bad_zip, jurisdiction=LA)] == [
        ("zip", R.ZIP_OUTSIDE_JURISDICTION)]


def test_control_character_regexes_equal_the_unicode_categories_over_every_code_point():
    """validation._has_control_chars is a regex for speed; the rule is the categories."""
    import unicodedata

    from sync import validation

    single = validation._CONTROL_RE
    multi = validation._CONTROL_MULTILINE_RE
    for code in range(0x110000):
        char = chr(code)
        refused = (unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp")
                   or char in validation._BIDI_CONTROLS)
        assert (single.search(char) is not None) == refused, hex(code)
        in_notes = refused and char not in "\n\r\t"
        assert (multi.search(char) is not None) == in_notes, hex(code)


def test_the_all_letters_fast_path_is_the_letter_categories():
    import unicodedata

    for code in range(0x110000):
        char = chr(code)
        assert char.isalpha() == unicodedata.category(char).startswith("L"), hex(code)
