"""The key carry (issue 21): keys that never reached a text field (typed while its input was
not ready: after the saving Enter, right after a Tab) are put back in front of what the field
got, and shown once the typist has left it.

Plain Python, fed as the page feeds it: the keyboard listener's events (every key, in typing
order), and the fields' change events (only what reached each field)."""

from __future__ import annotations

from canvass.state.carry import KeyCarry, typed_char

ORDER = ("first_name", "middle_name", "last_name", "suffix", "street", "unit", "city", "zip")


def feed(carry: KeyCarry, keys: str) -> list[str]:
    """Type ``keys`` ("\t" is Tab); the fields the carry says must now be shown."""
    shown = []
    for ch in keys:
        if ch == "\t":
            left = carry.key("Tab")
        else:
            label = "Space" if ch == " " else ch.upper() if ch.isalpha() else ch
            left = carry.key(label, shift=ch.isupper())
        if left:
            shown.append(left)
    return shown


def armed() -> KeyCarry:
    carry = KeyCarry()
    carry.arm("first_name", ORDER)
    return carry


def test_keys_before_the_focus_are_put_in_front_of_the_field():
    carry = armed()
    feed(carry, "Rosa")
    assert carry.change("first_name", "a") == "Rosa"  # the field got only the "a"
    feed(carry, "lind")
    assert carry.change("first_name", "alind") == "Rosalind"
    assert carry.to_show() == []  # not while the typist is in it
    assert feed(carry, "\t") == ["first_name"]  # left: its whole value goes to the screen
    assert carry.to_show() == ["first_name"]
    carry.shown("first_name")
    assert carry.to_show() == []


def test_nothing_carried_when_every_key_arrived():
    carry = armed()
    feed(carry, "M")
    assert carry.change("first_name", "M") == "M"
    assert feed(carry, "\t") == []
    assert carry.value("first_name") is None


def test_a_field_reached_by_tab_loses_its_first_keys_too():
    carry = armed()
    feed(carry, "Rosa")
    assert carry.change("first_name", "Rosa") == "Rosa"
    feed(carry, "\t\tGarc")  # middle name empty; "Garc" typed before Last name's input was ready
    feed(carry, "ia")
    assert carry.change("last_name", "ia") == "Garcia"
    assert feed(carry, "\t") == ["last_name"]


def test_a_whole_field_typed_before_its_input_was_ready():
    carry = armed()
    feed(carry, "Nina\t\tC")  # no change at all from First name
    assert carry.change("last_name", "C") == "C"
    assert carry.value("first_name") == "Nina"
    assert "first_name" in carry.to_show()


def test_a_click_into_another_field_stops_following():
    carry = armed()
    feed(carry, "xy")
    assert carry.change("last_name", "y") == "y"  # keys say First name, the client says Last
    assert not carry.following
    assert carry.change("first_name", "Jo") == "Jo"


def test_a_field_text_the_keys_do_not_explain_stands():
    carry = armed()
    feed(carry, "ab")
    assert carry.change("first_name", "pasted") == "pasted"
    assert not carry.following


def test_backspace_and_the_typists_capitals():
    carry = armed()
    feed(carry, "O'Bx")
    carry.key("Backspace")
    feed(carry, "r")
    # a field that capitalizes words made the "r" it got an "R": the typed text is the value
    assert carry.change("first_name", "R") == "O'Br"


def test_an_empty_change_as_the_focus_lands():
    carry = armed()
    feed(carry, "D")
    assert carry.change("first_name", "") == "D"
    feed(carry, "m")
    assert carry.change("first_name", "M") == "Dm"


def test_a_key_it_cannot_follow_stops_it():
    carry = armed()
    feed(carry, "Al")
    carry.key("Arrow Left")
    assert not carry.following
    assert carry.change("first_name", "l") == "l"  # the caret moved: the field's own text stands


def test_typed_char():
    assert typed_char("A", False) == "a"
    assert typed_char("A", True) == "A"
    assert typed_char("Space", False) == " "
    assert typed_char("-", False) == "-"
    assert typed_char("F5", False) is None
    assert typed_char("Shift Left", True) is None


class _Store:
    def next_line(self, section):
        return 1


def _form():
    from canvass.state.capture import CaptureForm

    form = CaptureForm(_Store())
    form.carry.arm("first_name", form.field_order)  # as a save does
    return form


def press(form, keys: str) -> None:
    for ch in keys:
        if ch == "\t":
            form.key_pressed("Tab")
        else:
            form.key_pressed(ch.upper() if ch.isalpha() else ch, shift=ch.isupper())


def test_capture_form_carries_and_shows_on_leaving():
    form = _form()
    press(form, "Ros")
    form.typed("first_name", "s")
    assert form.values["first_name"] == "Ros"
    seen, pushed = form.shown_seq, form.pushes("first_name")
    press(form, "\t")
    assert form.pushes("first_name") == pushed + 1  # First name is sent whole, once
    assert form.shown_seq == seen + 1
    press(form, "Q")
    form.typed("middle_name", "Q")
    assert form.values["middle_name"] == "Q"
    assert form.pushes("middle_name") == 0  # a field typed in is never sent


def test_capture_form_takes_a_whole_first_name_typed_before_the_focus():
    form = _form()
    press(form, "Ines\tQ")
    form.typed("middle_name", "Q")
    assert form.values["first_name"] == "Ines"
    assert form.values["middle_name"] == "Q"


def test_the_form_sends_a_field_only_when_the_app_sets_it():
    """A redraw keeps what the screen's field holds unless the app set the field itself."""
    from canvass.state.capture import CaptureForm

    form = CaptureForm(_Store())
    before = {name: form.pushes(name) for name in ("first_name", "last_name")}
    form.typed("first_name", "Mar")  # typing: nothing to send
    assert form.pushes("first_name") == before["first_name"]
    form.values = {**form.values, "last_name": "Kim"}  # the app sets a field: sent
    assert form.pushes("last_name") == before["last_name"] + 1
    assert form.pushes("first_name") == before["first_name"]


def test_a_change_a_key_ahead_of_its_key_event():
    carry = armed()
    feed(carry, "Siobh")
    assert carry.change("first_name", "H") == "Siobh"  # "Siob" never reached the field
    feed(carry, "a")
    # the field shows "Han" before the "n" key's event has come
    assert carry.change("first_name", "Han") == "Siobhan"
    feed(carry, "n")
    assert carry.value("first_name") == "Siobhan"
    assert carry.change("first_name", "Han") == "Siobhan"
    # a change the keys do not explain, ahead by more than a lag
    carry = armed()
    feed(carry, "ab")
    assert carry.change("first_name", "bcdef") == "bcdef"
    assert not carry.following


def test_a_tab_typed_before_the_focus_landed_the_keys_stand():
    """The Tab went nowhere; the focus then landed in First name and the middle initial went
    there: First name keeps "Nina", and the focus is sent to Middle name, once."""
    carry = armed()
    feed(carry, "Nina\tQ")
    assert carry.change("first_name", "Q") == "Nina"
    assert carry.take_misplaced() == "middle_name"
    assert carry.take_misplaced() is None
    assert carry.following
    feed(carry, "\tK")  # typed into the client's Middle name while the focus was on its way
    assert carry.change("middle_name", "K") == "Q"
    assert carry.take_misplaced() == "last_name"
    feed(carry, "im")
    assert carry.change("last_name", "m") == "Kim"  # the focus landed: "Ki" never got there
    assert set(carry.to_show()) >= {"first_name", "middle_name"}


def test_an_edit_of_a_field_shown_whole_stops_following():
    carry = armed()
    feed(carry, "Ros")
    carry.change("first_name", "s")
    feed(carry, "\t")
    carry.shown("first_name")  # the screen shows "Ros"
    assert carry.change("first_name", "Rosa") == "Rosa"  # a click back, and an "a"
    assert not carry.following
