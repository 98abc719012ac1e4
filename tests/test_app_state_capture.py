"""Capture form state: Enter order, save, line numbering, corrections, validation messages,
duplicate and out-of-jurisdiction warnings. Real DeviceStore, real sync modules, no browser."""

from __future__ import annotations

import pytest
from app_state_helpers import INDEX_KEY, SIGNER, enrolled_store

from canvass.state.capture import PAPER_FIELDS, CaptureForm
from canvass.state.text import Text
from sync.matching import matching_keys
from sync.messages import message


@pytest.fixture
def store(tmp_path):
    s = enrolled_store(tmp_path / "profile")
    s.open_section("A-0001", "Circulator One")
    yield s
    s.close()


@pytest.fixture
def form(store):
    f = CaptureForm.for_store(store)
    f.start("A-0001")
    return f


def type_signer(form: CaptureForm, values: dict[str, str]) -> str | None:
    """Type each field in paper order and press Enter after each, as the keyboard flow does."""
    focus = form.focus
    for name in PAPER_FIELDS:
        assert focus == name, f"focus on {focus}, expected {name}"
        form.set(name, values.get(name, ""))
        focus = form.submit_field(name)
    return focus


def test_enter_moves_through_the_paper_line_order_then_saves(form, store):
    assert form.focus == "first_name" and form.line == 1
    visited = []
    for name in PAPER_FIELDS[:-1]:
        form.set(name, SIGNER[name])
        visited.append(form.submit_field(name))
    assert visited == list(PAPER_FIELDS[1:])
    assert store.count_entries(section="A-0001") == 0
    form.set("zip", SIGNER["zip"])
    assert form.submit_field("zip") == "first_name"
    assert store.count_entries(section="A-0001") == 1
    assert form.notice == Text("capture.saved", {"line": 1})
    assert form.notice.render("en") == "Saved line 1"
    assert form.notice.render("es") == "Línea 1 guardada"
    assert form.line == 2 and form.values["first_name"] == "" and form.focus == "first_name"


def test_more_fields_extend_the_enter_order(form):
    form.toggle_more()
    assert form.submit_field("zip") == "phone"
    assert form.submit_field("phone") == "email"
    assert form.submit_field("email") == "notes"


def test_city_is_filled_from_the_zip_unless_typed(form):
    form.set("zip", "90012")
    assert form.values["city"].lower() == "los angeles"
    form.set("zip", "90401")
    assert form.values["city"].lower() == "santa monica"  # still ours: follows the ZIP
    form.set("city", "Ocean Park")
    form.set("zip", "90012")
    assert form.values["city"] == "Ocean Park"  # the circulator's own words are kept


def test_five_signers_get_consecutive_lines(form, store):
    for i in range(5):
        assert type_signer(form, {**SIGNER, "first_name": f"Ann{chr(65 + i)}",
                                  "street": f"{10 + i} Elm St"}) == "first_name"
    lines = sorted(s.entry.line for s in store.entries(section="A-0001"))
    assert lines == [1, 2, 3, 4, 5]
    assert form.line == 6


def test_circulator_can_correct_the_line_number(form, store):
    form.set_line("7")
    type_signer(form, SIGNER)
    assert store.entries(section="A-0001")[0].entry.line == 7
    assert form.line == 8
    form.set_line("0")
    assert form.errors["line"].render("en") == "Enter a line number from 1 to 999."


def test_a_used_line_is_refused_beside_the_line_field(form):
    type_signer(form, SIGNER)
    form.set_line("1")
    type_signer(form, {**SIGNER, "first_name": "Other", "street": "9 Oak Ave"})
    assert form.errors["line"].render("en") == "Line 1 is already used in this section."
    assert form.focus == "line"


def test_field_errors_are_plain_words_beside_each_field_and_block_saving(form, store):
    type_signer(form, {**SIGNER, "last_name": "", "zip": "9001"})
    assert store.count_entries() == 0
    assert set(form.errors) >= {"last_name", "zip"}
    assert message(form.errors["last_name"], "en")  # rendered by sync.messages
    assert "ZIP" in message(form.errors["zip"], "en")
    assert message(form.errors["zip"], "es") != message(form.errors["zip"], "en")
    assert form.focus == "last_name"  # first problem gets the focus
    form.set("last_name", "Lopez")
    assert "last_name" not in form.errors  # cleared as soon as it is edited


def test_duplicate_warning_from_local_entries_never_names_the_signer(form):
    type_signer(form, SIGNER)
    assert form.warning is None
    for name in ("first_name", "last_name", "street"):
        form.set(name, SIGNER[name])
    assert form.warning is None  # not until the ZIP is in
    form.set("zip", "90012")
    assert form.warning == "duplicate"
    text = form.warning_text().render("en")
    assert text == "This person has probably already signed."
    assert "Maria" not in text and "Lopez" not in text


def test_duplicate_warning_from_the_campaign_index(form, store):
    other = {**SIGNER, "first_name": "Robert", "last_name": "King", "street": "55 Pine St"}
    store.apply_index_delta(matching_keys(INDEX_KEY, other), 1)
    for name in ("first_name", "last_name", "street", "zip"):
        form.set(name, {**other, "first_name": "Bob"}[name])  # nickname still matches
    assert form.warning == "duplicate"


def test_warned_line_can_still_be_saved(form, store):
    type_signer(form, SIGNER)
    type_signer(form, SIGNER)
    assert store.count_entries(section="A-0001") == 2


def test_zip_outside_jurisdiction_is_warned_not_blocked(form, store):
    type_signer(form, {**SIGNER, "zip": "94103", "city": "San Francisco"})
    assert store.count_entries() == 1  # saved: the paper line exists
    form.set("zip", "94103")
    assert form.warning == "outside"
    assert form.warning_text().render("en").startswith("This ZIP code is outside Los Angeles County")


def test_correction_supersedes_the_entry_and_keeps_the_line(form, store):
    type_signer(form, SIGNER)
    type_signer(form, {**SIGNER, "first_name": "Jose", "street": "8 Elm St"})
    first = next(s for s in store.entries() if s.entry.line == 1)
    form.begin_correction(first.entry.entry_id)
    assert form.line == 1 and form.values["last_name"] == "Lopez"
    assert form.warning is None  # it does not warn about itself
    form.set("last_name", "Lopes")
    assert form.save()
    assert form.notice.render("en") == "Corrected line 1"
    old = store.get_entry(first.entry.entry_id)
    assert old.superseded_by is not None
    new = store.get_entry(old.superseded_by)
    assert new.entry.supersedes == first.entry.entry_id
    assert new.entry.line == 1 and new.entry.last_name == "Lopes"
    assert form.line == 3  # back to the next free line
