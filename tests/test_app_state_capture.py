"""Capture form state: Tab moves, Enter saves; the check before the save (a warning stops the
first Enter, a second saves, an edit puts the check back); line numbering, corrections,
validation messages, duplicate and out-of-jurisdiction warnings. Real DeviceStore, real sync
modules, no browser."""

from __future__ import annotations

import pytest
from app_state_helpers import INDEX_KEY, SIGNER, enrolled_store

from canvass.i18n import field_message as message
from canvass.state.capture import PAPER_FIELDS, CaptureForm
from canvass.state.text import Text
from sync.keyfilter import KeyFilter
from sync.matching import doorstep_keys, doorstep_subkey


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


def type_signer(form: CaptureForm, values: dict[str, str], *, enter_in: str = "zip") -> bool:
    """Type each field in paper order (Tab between them moves the focus on the client, not in
    the form), then Enter once: this signer is done. True when the line was saved."""
    for name in PAPER_FIELDS:
        form.set(name, values.get(name, ""))
    return form.enter(enter_in)


def test_enter_in_any_field_saves_the_line(form, store):
    assert form.focus == "first_name" and form.line == 1
    for name in PAPER_FIELDS:
        form.set(name, SIGNER[name])
    assert store.count_entries(section="A-0001") == 0
    assert form.enter("middle_name")  # not only the ZIP: Enter anywhere means "done"
    assert store.count_entries(section="A-0001") == 1
    assert form.notice == Text("capture.saved", {"line": 1})
    assert form.notice.render("en") == "Saved line 1"
    assert form.notice.render("es") == "Línea 1 guardada"
    assert form.line == 2 and form.values["first_name"] == "" and form.focus == "first_name"


def test_after_a_save_the_focus_goes_to_first_name_once(form):
    focus_seq = form.focus_seq
    assert type_signer(form, SIGNER)
    assert form.focus == "first_name" and form.focus_seq == focus_seq + 1


def test_enter_on_an_incomplete_line_shows_what_is_missing_and_saves_nothing(form, store):
    form.set("first_name", "Maria")
    focus_seq = form.focus_seq
    assert not form.enter("first_name")
    assert store.count_entries() == 0
    assert {"last_name", "street", "zip"} <= set(form.errors)
    assert form.focus == "last_name" and form.focus_seq == focus_seq + 1
    assert not form.confirm


def test_enter_in_the_line_number_field_also_means_done(form, store):
    for name in PAPER_FIELDS:
        form.set(name, SIGNER[name])
    form.set_line("4")
    assert form.enter("line")
    assert store.entries(section="A-0001")[0].entry.line == 4


def test_an_empty_city_is_filled_from_the_zip_at_the_save_request(form, store):
    assert type_signer(form, {**SIGNER, "city": ""})
    assert store.entries(section="A-0001")[0].entry.city.lower() == "los angeles"
    assert type_signer(form, {**SIGNER, "first_name": "Ana", "street": "9 Ocean Ave",
                              "city": "Ocean Park", "zip": "90401"})
    cities = {s.entry.line: s.entry.city for s in store.entries(section="A-0001")}
    assert cities[2] == "Ocean Park"  # the circulator's own words are kept


def test_a_keystroke_renders_nothing_unless_something_shown_must_go(form):
    """A re-render per key loses keys in the browser (module doc): typing leaves the
    observable's version alone; an error beside the field goes at its first key."""
    version = form.__version__
    for name in PAPER_FIELDS:
        form.set(name, SIGNER[name])
    assert form.__version__ == version
    form.set("last_name", "")
    assert not form.enter("last_name")
    version = form.__version__
    form.set("last_name", "L")  # the error goes: one render
    assert form.__version__ > version and "last_name" not in form.errors
    version = form.__version__
    form.set("last_name", "Lo")
    assert form.__version__ == version


def test_five_signers_get_consecutive_lines(form, store):
    for i in range(5):
        assert type_signer(form, {**SIGNER, "first_name": f"Ann{chr(65 + i)}",
                                  "street": f"{10 + i} Elm St"})
        assert form.focus == "first_name"
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
    assert message(form.errors["last_name"], "en")  # rendered by canvass.i18n
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
    assert form.run_checks() is None  # not until the ZIP is in
    form.set("zip", "90012")
    assert form.run_checks() == "duplicate"
    text = form.warning_text().render("en")
    assert text == ("This person has probably already signed — ask before they sign again. "
                    "(Answer from this tablet.)")
    assert "Maria" not in text and "Lopez" not in text


def _hold(store, *signers) -> None:
    """The door-step filter a sync would bring, holding ``signers``."""
    dkey = doorstep_subkey(INDEX_KEY)
    blob = KeyFilter.build([k for f in signers for k in doorstep_keys(dkey, f)]).to_bytes()
    store.set_doorstep_filter(blob, key=dkey, tag=str(len(signers)), scope="campaign")


def test_duplicate_warning_from_the_campaign_index(form, store):
    other = {**SIGNER, "first_name": "Robert", "last_name": "King", "street": "55 Pine St"}
    _hold(store, other)
    for name in ("first_name", "last_name", "street", "zip"):
        form.set(name, {**other, "first_name": "Bob"}[name])  # nickname still matches
    assert form.run_checks() == "duplicate"


def test_a_maybe_from_the_tablet_is_a_softer_warning_that_also_stops_the_first_enter(form, store):
    other = {**SIGNER, "first_name": "Jennifer", "last_name": "Lopez", "street": "11 Figueroa St",
             "zip": "90012"}
    _hold(store, other)
    # Same first name and address, another surname: a surname typo, or an in-law (door_nolast).
    assert not type_signer(form, {**other, "last_name": "Lozano"})
    assert form.warnings == ["maybe_duplicate"] and form.confirm
    text = form.warning_text().render("en")
    assert text.startswith("This person may have signed already — ask") and "tablet" in text
    assert form.warning_text().render("es").startswith("Puede que esta persona ya haya firmado")
    assert store.count_entries(section="A-0001") == 0
    assert form.enter("zip")  # the second Enter saves the paper line
    assert store.count_entries(section="A-0001") == 1


def test_a_repeat_signer_is_warned_before_anything_is_saved_and_a_second_enter_saves(form, store):
    assert type_signer(form, SIGNER)
    assert not type_signer(form, SIGNER)  # the first Enter only runs the check
    assert store.count_entries(section="A-0001") == 1
    assert form.warnings == ["duplicate"] and form.confirm
    assert form.focus == "zip"  # back where Enter was pressed, for the second Enter
    assert form.values["first_name"] == "Maria"  # nothing typed is lost
    assert form.enter("zip")  # the second, deliberate Enter saves the paper line
    assert store.count_entries(section="A-0001") == 2
    assert not form.confirm and form.warnings == []


def test_the_save_tap_takes_the_same_two_steps(form, store):
    assert type_signer(form, SIGNER)
    for name in PAPER_FIELDS:
        form.set(name, SIGNER[name])
    assert not form.request_save()
    assert form.confirm and store.count_entries() == 1
    assert form.request_save()
    assert store.count_entries() == 2


def test_the_save_action_says_which_step_it_is(form):
    """The words of the form's button and of the save bar at the bottom (one method)."""
    assert form.save_action_text().render("en") == "Save line 1"
    assert type_signer(form, SIGNER)
    assert form.save_action_text().render("en") == "Save line 2"
    for name in PAPER_FIELDS:
        form.set(name, SIGNER[name])
    assert not form.request_save()  # the check warned: the next tap is the deliberate one
    assert form.save_action_text().render("en") == "Save line 2 anyway"
    assert form.save_action_text().render("es") == "Guardar línea 2 de todos modos"
    form.set("first_name", "Rosa")  # an edit: the check runs again before the save
    assert form.save_action_text().render("en") == "Save line 2"


def test_a_restored_draft_is_sent_to_the_screen(form):
    """Kept text put back after the unlock is the app setting the fields (pushes), so a form
    drawn before the restore shows it; a keystroke is not."""
    before = {name: form.pushes(name) for name in ("first_name", "street")}
    form.set("street", "12 Oak St")
    assert form.pushes("street") == before["street"]  # typing: the screen has it already
    form.restore({"first_name": "Rosalind"})
    assert form.values["first_name"] == "Rosalind"
    assert form.pushes("first_name") == before["first_name"] + 1
    assert form.pushes("street") == before["street"]


def test_an_edit_after_the_warning_puts_the_check_back_before_the_save(form, store):
    assert type_signer(form, SIGNER)
    assert not type_signer(form, SIGNER)
    assert form.confirm
    form.set("street", "123 N Main St")  # still the same person: warned again, not saved
    assert not form.confirm
    assert not form.enter("street")
    assert store.count_entries() == 1 and form.confirm
    form.set("first_name", "Rosa")  # another person: the check clears and the Enter saves
    form.set("last_name", "Quintero")
    assert form.enter("last_name")
    assert store.count_entries() == 2


def test_a_nickname_of_a_saved_signer_is_warned(form, store):
    assert type_signer(form, {**SIGNER, "first_name": "James", "last_name": "Brown"})
    assert not type_signer(form, {**SIGNER, "first_name": "Jim", "last_name": "Brown"})
    assert form.warnings == ["duplicate"] and store.count_entries() == 1


def test_checks_are_pluggable_steps_and_a_failing_step_loses_nothing(form, store):
    asked = []

    def online(f):
        asked.append(f.values["last_name"])
        return "online_duplicate"

    def broken(f):
        raise RuntimeError("server gone")

    form.checks.append(broken)
    form.checks.append(online)
    for name in PAPER_FIELDS:
        form.set(name, SIGNER[name])
    assert asked == []  # not run while typing
    assert not form.enter("zip")
    assert asked == ["Lopez"] and form.warnings == ["online_duplicate"]
    assert store.count_entries() == 0
    assert form.enter("zip")
    assert store.count_entries() == 1


def test_zip_outside_jurisdiction_is_warned_not_blocked(form, store):
    assert not type_signer(form, {**SIGNER, "zip": "94103", "city": "San Francisco"})
    assert form.warning == "outside" and store.count_entries() == 0
    assert form.warning_text().render("en").startswith("This ZIP code is outside Los Angeles County")
    assert form.enter("zip")
    assert store.count_entries() == 1  # saved: the paper line exists


def test_correction_supersedes_the_entry_and_keeps_the_line(form, store):
    type_signer(form, SIGNER)
    type_signer(form, {**SIGNER, "first_name": "Jose", "street": "8 Elm St"})
    first = next(s for s in store.entries() if s.entry.line == 1)
    form.begin_correction(first.entry.entry_id)
    assert form.line == 1 and form.values["last_name"] == "Lopez"
    assert form.warning is None  # it does not warn about itself
    form.set("last_name", "Lopes")
    assert form.enter("last_name")  # one Enter: nothing to warn about
    assert form.notice.render("en") == "Corrected line 1"
    old = store.get_entry(first.entry.entry_id)
    assert old.superseded_by is not None
    new = store.get_entry(old.superseded_by)
    assert new.entry.supersedes == first.entry.entry_id
    assert new.entry.line == 1 and new.entry.last_name == "Lopes"
    assert form.line == 3  # back to the next free line


def test_a_synced_line_corrected_is_not_warned_against_its_own_keys(form, store):
    """Once the line synced, the campaign's index holds its keys; the correction must still
    save at the first Enter. Another signer's keys in the index still warn."""
    assert type_signer(form, SIGNER)
    saved = store.entries(section="A-0001")[0]
    _hold(store, saved.entry.personal())
    form.begin_correction(saved.entry.entry_id)
    form.set("street", "123 N Main St")  # the same person, the address written shorter
    assert form.enter("street")
    assert form.notice.render("en") == "Corrected line 1"
    other = {**SIGNER, "first_name": "Robert", "last_name": "King", "street": "55 Pine St"}
    _hold(store, saved.entry.personal(), other)
    corrected = store.get_entry(store.get_entry(saved.entry.entry_id).superseded_by)
    form.begin_correction(corrected.entry.entry_id)
    for name in ("first_name", "last_name", "street"):
        form.set(name, other[name])  # the line was really someone else's: warned
    assert not form.enter("street")
    assert form.warnings == ["duplicate"]
