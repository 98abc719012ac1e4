"""The capture form's registration check: after first name, last name, street and ZIP, the
device's registration index answers "Registered here", "Registered, but at another address"
or "Not found"; with no index on the device nothing is shown. Never blocks saving."""

from __future__ import annotations

import pytest
from app_state_helpers import INDEX_KEY, SIGNER, enrolled_store

from canvass.state.capture import CaptureForm
from canvass.state.registration_check import index_path_for
from sync.voters.keys import registration_subkey, voter_keys
from sync.voters.regindex import build_index

VOTERS = [
    {"first_name": "Maria", "last_name": "Lopez", "street": "123 N Main St", "zip": "90012"},
    {"first_name": "Ken", "last_name": "Wu", "street": "9 Hill St", "zip": "90012"},
]


@pytest.fixture
def store(tmp_path):
    s = enrolled_store(tmp_path / "profile")
    s.open_section("A-0001", "Circulator One")
    yield s
    s.close()


def _write_index(store) -> None:
    reg_key = registration_subkey(INDEX_KEY)
    keys = [k for voter in VOTERS for k in voter_keys(reg_key, voter).all()]
    build_index(keys, version=1).write(index_path_for(store.path))


def _type(form: CaptureForm, values: dict[str, str]) -> None:
    for name, value in values.items():
        form.set(name, value)


def test_no_index_on_the_device_shows_nothing(store):
    form = CaptureForm.for_store(store)
    form.start("A-0001")
    _type(form, SIGNER)
    assert form.registration == "unknown" and form.registration_text() is None
    assert form.save()


def test_registered_here_elsewhere_and_not_found(store):
    _write_index(store)
    form = CaptureForm.for_store(store)
    form.start("A-0001")
    _type(form, {"first_name": "Maria", "last_name": "Lopez", "street": "123 North Main Street"})
    assert form.enter("street") is False  # no ZIP yet: a field error, nothing to say
    assert form.registration == "unknown"
    form.set("zip", "90012")
    assert form.registration == "unknown"  # keystrokes run no check: the save request does
    form.run_checks()
    assert form.registration == "registered_here" and form.warnings == []
    assert form.registration_text().render("en") == "Registered here"
    assert form.registration_text().render("es") == "Registrado aquí"
    form.set("street", "500 Elm St")
    assert not form.enter("street")  # a warning of the check before the save
    assert form.registration == "registered_elsewhere" and form.warnings == ["registration"]
    assert form.registration_text().render("en").startswith("Registered, but at another address")
    assert [w.render("en") for w in form.warning_texts()] == [form.registration_text().render("en")]
    form.set("first_name", "Zelda")
    assert not form.enter("first_name")
    assert form.registration == "not_found"
    assert form.registration_text().render("en") == "Not found in the voter file"
    # Never blocks: a "not found" signer's paper line is saved at the second Enter.
    assert form.enter("first_name")
    assert store.count_entries(section="A-0001") == 1
    assert form.registration == "unknown"  # the next line starts clean


def test_a_damaged_index_file_is_ignored(store):
    index_path_for(store.path).write_bytes(b"not an index")
    form = CaptureForm.for_store(store)
    form.start("A-0001")
    _type(form, SIGNER)
    assert form.registration == "unknown"
    assert form.save()
