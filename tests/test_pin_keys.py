"""The lock screen's PIN keys (issue 21): a PIN typed the moment "Canvass is locked" shows,
before the PIN box holds the focus, is tried whole, not without its first digits.

Plain Python, fed as the page feeds it: the keyboard listener's events (every key, in typing
order) and what the box holds (its change or submit event)."""

from __future__ import annotations

import pytest

from canvass.state.pin_keys import PinKeys


def press(keys: PinKeys, text: str) -> None:
    for ch in text:
        keys.key(ch)


@pytest.mark.parametrize(("typed", "box_holds", "tried"), [
    ("246813", "46813", "246813"),  # the box never got the "2"
    ("246813", "6813", "246813"),  # nor the "4"
    ("246813", "246813", "246813"),  # every key reached it
    ("2468", "246813", "246813"),  # the "1" and "3" key events still on their way
    ("111111", "11111", "111111"),  # a wrong PIN stays wrong
])
def test_the_pin_tried_is_what_was_typed(typed, box_holds, tried):
    keys = PinKeys()
    press(keys, typed)
    assert keys.entered(box_holds) == tried


def test_backspace_takes_a_digit_back():
    keys = PinKeys()
    press(keys, "2468")
    keys.key("Backspace")
    press(keys, "813")
    assert keys.entered("46813") == "246813"


def test_a_new_try_starts_from_nothing():
    keys = PinKeys()
    press(keys, "111111")
    assert keys.entered("111111") == "111111"
    keys.start()  # the box was emptied for the next try
    press(keys, "246813")
    assert keys.entered("46813") == "246813"


def test_text_the_keys_do_not_explain_stands():
    keys = PinKeys()
    press(keys, "99")
    assert keys.entered("246813") == "246813"  # a paste, say: the carry stops
    press(keys, "7")
    assert keys.entered("2468137") == "2468137"


def test_a_tab_out_of_the_box_stops_the_carry():
    keys = PinKeys()
    press(keys, "2")
    keys.key("Tab")  # to the eye button; the carry cannot tell where keys go now
    press(keys, "46813")
    assert keys.entered("46813") == "46813"
