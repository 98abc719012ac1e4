"""The lock screen's PIN keys, carried into the PIN box when its first ones never reached it.

Why (issue 21): the lock screen's PIN box takes the focus by itself (autofocus), a frame or
more after the screen shows "Canvass is locked". A person who types the PIN the moment the
screen shows loses the keys typed before the box held the focus; measured in Chromium at 40 ms a
key, 4 locks of 18 lost the PIN's first digit, and the PIN was wrong (a delay before the next
try). The page's keyboard listener sees those keys, so the one carry of the capture form
(canvass.state.carry), over a one-field form, tells what was typed: when the box holds the end
of it, what was typed is the PIN tried.

A key the carry cannot follow (a Tab out of the box, an arrow) stops it, and the box's own text
is the PIN, as without it. A stray digit pressed before the person clicks into the box is
carried too (a person's keys are meant for the PIN): that PIN is wrong, and the screen says so.
"""

from __future__ import annotations

from canvass.state.carry import KeyCarry

PIN_BOX = "pin"


class PinKeys:
    def __init__(self) -> None:
        self._carry = KeyCarry()
        self.start()

    def start(self) -> None:
        """The PIN box is (again) empty and waiting: follow the keys from now on."""
        self._carry.arm(PIN_BOX, (PIN_BOX,))

    def key(self, label: str, shift: bool = False) -> None:
        """A key pressed anywhere in the window while the lock screen shows."""
        self._carry.key(label, shift)

    def entered(self, text: str) -> str:
        """The PIN to try, given what the box holds (its change event, or the submit's text)."""
        return self._carry.change(PIN_BOX, text)
