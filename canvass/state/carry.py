"""Keys typed while the focus is on its way: carried into the field they were meant for.

Why (issue 21): in Flet's web client a text field that has just received the focus (from
Python after a save, or from the client's own Tab) does not get the keys typed in the moment
it takes to attach its input. A fast typist does not wait. Measured in Chromium at 40 ms a
key: 19 of 20 lines lost 1-3 letters of the first name after the saving Enter; with both cores
busy, whole first names, and the first letters of fields reached by Tab ("Garc" of
"Garcia-Ruiz").

The page's keyboard listener sees every key, whichever field has the focus or none, and its
events reach Python in the order they were typed, ahead of the change event the same key
causes in a field. So from a save on, ``KeyCarry`` follows the typist through the form by
the keys alone (characters go to the current field, Tab moves to the next one in the form's
order, Backspace takes one back) and keeps, for each field, what was typed into it. A field's
change event says what the field holds; when that is the end of what was typed into it, the
keys before it never reached it, and the field's value is what was typed. When a field holds
something the keys do not explain (a click into another field, a paste, an arrow key), the
carry stops following and the fields' own text stands, as without it.

The screen gets a field's whole value only once the typist has left it: a value set from
Python in a field being typed in replaces the keys typed during that round trip (the same
race again), while a field the focus has left is typed in by no one.

Plain Python: the form feeds it events and applies what it answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Key labels (Flutter's logical key labels, as Flet's keyboard event names them) that type a
# character other than their label; a letter's label is its capital, its case comes from Shift.
_TYPED = {"Space": " ", "Spacebar": " "}
# Keys after which the carry cannot tell where later characters go: the caret or the focus
# moves in a way it does not follow. Enter ends the signer (the form saves, or says why not).
_LOST = {"Escape", "Arrow Up", "Arrow Down", "Arrow Left", "Arrow Right", "Home", "End",
         "Page Up", "Page Down", "Delete"}


def typed_char(label: str, shift: bool) -> str | None:
    """The character a key press types, or None for a key that types none (F5, Shift, ...)."""
    if label in _TYPED:
        return _TYPED[label]
    if len(label) != 1:
        return None
    if label.isalpha():
        return label.upper() if shift else label.lower()
    return label


# A field's change event can come a key or two ahead of those keys' keyboard events (seen:
# "Han" reported before the "n" key's event); more than this many is not a lag.
_MAX_AHEAD = 3


def _split(typed: str, text: str, max_ahead: int = _MAX_AHEAD) -> tuple[str, str] | None:
    """How a field's ``text`` relates to what was ``typed`` into it: ``(lost, ahead)`` when the
    text is the end of what was typed, after ``lost`` (the keys that never reached the field),
    plus at most a few characters whose key events have not come yet (``ahead``); None when
    the keys do not explain it. Letters compare without case (a field that capitalizes)."""
    low_typed, low_text = typed.casefold(), text.casefold()
    for ahead in range(min(max_ahead, len(text)) + 1):
        seen = low_text[: len(low_text) - ahead]
        if len(seen) <= len(low_typed) and low_typed.endswith(seen):
            return typed[: len(typed) - len(seen)], text[len(text) - ahead:] if ahead else ""
    return None


@dataclass
class KeyCarry:
    """One form's carry. ``current``: the field the typist is in, as the keys tell (None: not
    following); ``order``: the form's fields in Tab order."""

    current: str | None = None
    order: tuple[str, ...] = ()
    _typed: dict[str, list[str]] = field(default_factory=dict)  # field -> characters typed
    _text: dict[str, str] = field(default_factory=dict)  # field -> what it holds (its change)
    _unshown: set[str] = field(default_factory=set)  # fields whose screen lacks carried keys
    _ahead: dict[str, str] = field(default_factory=dict)  # field -> text shown before its keys
    _screen: dict[str, str] = field(default_factory=dict)  # field -> the value last sent to it
    misplaced: str | None = None  # see ``take_misplaced``
    _refocused: str | None = None

    @property
    def following(self) -> bool:
        return self.current is not None

    def arm(self, target: str, order: tuple[str, ...]) -> None:
        """The app sent the focus to the empty field ``target`` (a save, a new section): from
        now on follow the typist by the keys."""
        self.order = tuple(order)
        self.current = target if target in self.order else None
        self._typed, self._text, self._unshown, self._ahead = {}, {}, set(), {}
        self._screen, self.misplaced, self._refocused = {}, None, None

    def disarm(self) -> None:
        """Stop following (the person works with the pointer, or did what the keys do not
        explain). Values already carried stay in the form; see ``to_show``."""
        self.current = None

    def key(self, label: str, shift: bool = False) -> str | None:
        """A key pressed anywhere on the page. Returns the field the typist has just left
        (Tab, Enter) when its value is now known to differ from what the field shows."""
        name = self.current
        if name is None:
            return None
        if label == "Tab" and not shift:
            nxt = self.order.index(name) + 1
            self.current = self.order[nxt] if nxt < len(self.order) else None
            return name if self._needs_showing(name) else None
        if label in ("Enter", "Numpad Enter"):
            return name if self._needs_showing(name) else None
        if label == "Tab" or label in _LOST:
            self.disarm()
            return None
        typed = self._typed.setdefault(name, [])
        if label == "Backspace":
            if typed:
                typed.pop()
            return None
        char = typed_char(label, shift)
        if char is not None:
            typed.append(char)
        return None

    def _needs_showing(self, name: str) -> bool:
        """Typed into, but the field never reported it all (no change at all: every key of it
        came before its input was ready)."""
        if name in self._unshown:
            return True
        typed = "".join(self._typed.get(name, ()))
        if typed and name not in self._text:
            self._text[name] = ""
            self._unshown.add(name)
            return True
        return False

    def change(self, name: str, text: str) -> str:
        """A field's change event: the value the form keeps for that field."""
        if not self.following and name not in self._unshown:
            return text
        if name != self.current and name not in self._typed:
            self.disarm()  # the client's focus is not where the keys say: a click
            return text
        typed = "".join(self._typed.get(name, ()))
        self._text[name] = text
        behind = name != self.current  # a field the keys have left: all its keys are in
        split = _split(typed, text, max_ahead=0 if behind else _MAX_AHEAD)
        if split is None and behind and self.following and not self._edited(name, text):
            # The client's focus is in a field the keys have left: a Tab typed before the
            # focus had landed went nowhere, and what the typist meant for the next field
            # went into this one (seen with both cores busy: "NinaQ", the middle initial in
            # First name). The keys stand: this field keeps what was typed into it (shown
            # again once the focus leaves it), and the focus goes where the typist is.
            self._unshown.add(name)
            if self._refocused != self.current:
                self._refocused = self.misplaced = self.current
            return typed
        if split is None:
            # Something the keys do not explain (a paste, an edit of a field already shown
            # whole): the field's text stands, and the carry stops.
            self._unshown.discard(name)
            self.disarm()
            return text
        lost, ahead = split
        if not lost:
            self._unshown.discard(name)
            return text  # nothing lost: the field's own text (its capitals)
        # The first keys never reached the field: the value is what was typed (the typist's
        # own capitals: a field that capitalizes words made "ohn" of "John"'s lost "J" into
        # "Ohn"), and what the field has already shown of keys still on their way.
        self._unshown.add(name)
        self._ahead[name] = ahead
        return typed + ahead

    def _edited(self, name: str, text: str) -> bool:
        """The person went back to a field shown whole and changed it (a click, then keys)."""
        screen = self._screen.get(name, "")
        return bool(screen) and text.casefold().startswith(screen.casefold())

    def take_misplaced(self) -> str | None:
        """The field the focus must be sent to (the typist's, by the keys), once."""
        name, self.misplaced = self.misplaced, None
        return name

    def value(self, name: str) -> str | None:
        """The value carried for ``name`` (what was typed), or None when the field's own text
        is its value."""
        if name not in self._unshown:
            return None
        typed = "".join(self._typed.get(name, ()))
        ahead = self._ahead.get(name, "")
        # keys the field showed before their key events came, unless they have come since
        return typed if ahead and typed.casefold().endswith(ahead.casefold()) else typed + ahead

    def shown(self, name: str) -> None:
        """The screen now shows field ``name`` whole."""
        whole = self.value(name)
        if whole is not None:
            self._text[name] = self._screen[name] = whole
        self._unshown.discard(name)

    def to_show(self) -> list[str]:
        """Fields whose screen lacks carried keys and that no one is typing in."""
        return [n for n in self.order if n in self._unshown and n != self.current]
