"""The signer capture form: one screen, fields in the order of the paper line.

Why one long module: it is the form's one state class (the view is thin); what has a job of its
own is apart (carry.py: keys typed while the focus moves; doorstep.py: the online check;
registration_check.py; lines.py).

- Tab moves, Enter saves (issue 21), as in the office keying form. Moving between fields is the
  client's own Tab traversal: a focus move asked from Python while the person keeps typing loses
  the keys typed during its round trip. ``enter(name)`` is what Enter in any field does: "this
  signer is done", the same as a tap on "Save line N" (``request_save``).
- The check before the save: a save request first runs the form's pre-save checks
  (``checks``: duplicate, outside the jurisdiction, registration; a later step, the online
  check, is appended to the list). If any warns, nothing is saved, the warning stands next to
  the save action and the button reads "Save line N anyway": the next request saves. Any edit
  of a field puts the check back in front of the save.
- A keystroke (``set``) re-renders nothing: the text goes to a private dict the observable does
  not watch. Measured in Chromium (Flet 1.0.5 web): 8 fields typed at 40 ms a key with Tab
  between them, 3 times, kept every field when the change handler only stored the text, and got
  18 of 24 fields wrong when it re-rendered the form on each key (keys landed in the field
  before, Tabs were lost). Only what must visibly go re-renders: an error beside the field, a
  standing warning.
- At a save request, an empty city is filled from the ZIP when the jurisdiction knows it.
- The checks: this device's entries and the campaign's dedup index hold one of the signer's
  blind matching keys ("duplicate"); a ZIP outside the jurisdiction ("outside");
- With first name, last name, street and ZIP in, ``registration`` holds the device's
  registration check (canvass.state.registration_check), also run at the save request: "registered_here",
  "registered_elsewhere", "not_found"; "unknown" (nothing shown) when this device has no voter
  file index yet or a field is missing. "registered_elsewhere" and "not_found" are warnings
  of the check before the save.

Decision (issue 5): warnings never block saving. The paper line exists whatever the app
says, and the line numbers of the device must follow the paper, so a line the person signed
is always recorded; the server then answers duplicate / rejected, and the circulator sees that
outcome in the section's lines. Saving a warned line takes a second, deliberate Enter or tap.
Field errors (missing, malformed) do block saving, with the message beside the field.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import flet as ft

from canvass.state.carry import KeyCarry
from canvass.state.doorstep import NEEDS as _DUP_NEEDS
from canvass.state.text import Text, txt
from canvass.store.errors import LineAlreadyUsed, SectionClosed
from sync.domain import EXTRA_FIELDS, PAPER_FIELDS, PERSONAL_FIELDS

log = logging.getLogger("canvass.app")

# The form's boxes besides the line number: the paper line's first, the rest behind "More".
MORE_FIELDS: tuple[str, ...] = EXTRA_FIELDS
ALL_FIELDS: tuple[str, ...] = PERSONAL_FIELDS
_OUTSIDE = 103  # protocol.ReasonCode.ZIP_OUTSIDE_JURISDICTION
_REGISTRATION_WARNS = ("registered_elsewhere", "not_found")

# A step of the check before the save: the form in, a warning name out (None: nothing to say).
# Steps run only when the person asks to save, never per keystroke.
PreSaveCheck = Callable[["CaptureForm"], "str | None"]


def _empty() -> dict[str, str]:
    return {name: "" for name in ALL_FIELDS}


@ft.observable
class CaptureForm:
    def __init__(self, store: Any, *, jurisdiction: Any = None, own_lines_key: bytes | None = None,
                 on_saved: Callable[[Any], None] | None = None, registration: Any = None,
                 doorstep: Any = None) -> None:
        self._store = store
        # canvass.state.doorstep.DoorstepCheck | None: the server's door-step answer, asked
        # while typing; the duplicate check uses it (its answer wins when it has one).
        self.doorstep = doorstep
        self._registration = registration  # RegistrationCheck | None
        self._jurisdiction = jurisdiction
        # The key of this device's own lines' exact keys (sync.device_keys); None: not checked.
        self._own_lines_key = own_lines_key
        self._on_saved = on_saved
        self._city_from_zip = ""  # the city the form filled in itself
        self.section: str | None = None
        self._pushes: dict[str, int] = {}  # see ``pushes``
        self._values: dict[str, str] = _empty()
        self.errors: dict[str, Any] = {}  # field -> sync.validation.FieldError (or Text)
        self.line = 1
        self.line_text = "1"
        self.registration = "unknown"  # registration_check.ANSWERS
        self.notice: Text | None = None  # "Saved line 4"
        self.error: Text | None = None  # a form-level problem
        self.show_more = False
        self.correcting: Any = None  # StoredEntry being corrected
        self.focus = "first_name"
        self.focus_seq = 0  # bumped each time the view must move focus
        self.signer_seq = 0  # bumped for each new signer (the view's field keys follow it)
        self.warnings: list[str] = []  # what the last check found, in the order of ``checks``
        # True once a save request found warnings: the next request saves. Any edit clears it.
        self.confirm = False
        self.checks: list[PreSaveCheck] = [duplicate_check, outside_check, registration_check]
        # Keys typed between a save and the focus reaching First name (canvass.state.carry);
        # private: the observable does not watch it. ``shown_seq`` is bumped to re-render
        # when a field must be given the value the form holds (the carried keys in front).
        self._carry = KeyCarry()
        self.shown_seq = 0

    @classmethod
    def for_store(cls, store: Any, **kwargs: Any) -> CaptureForm:
        """Jurisdiction and keys from the enrolled store's settings and secrets."""
        from sync.jurisdiction import jurisdiction_for

        campaign = store.get_setting("campaign", {}) or {}
        jurisdiction = None
        if campaign.get("jurisdiction"):
            try:
                jurisdiction = jurisdiction_for(campaign["jurisdiction"],
                                                campaign.get("jurisdiction_zips") or ())
            except Exception:
                log.warning("jurisdiction list unavailable; ZIPs are not checked on the device")
        from sync.device_keys import own_lines_key, registration_key

        if "registration" not in kwargs:
            kwargs["registration"] = _registration_check(store, registration_key(store))
        if "doorstep" not in kwargs:
            from canvass.state.doorstep import doorstep_for_store

            kwargs["doorstep"] = doorstep_for_store(store)
        return cls(store, jurisdiction=jurisdiction, own_lines_key=own_lines_key(store), **kwargs)

    # ------------------------------------------------------------------ section / line
    def start(self, section: str | None) -> None:
        self.section = section
        self.correcting = None
        self.values = _empty()
        self.errors = {}
        self.registration = "unknown"
        self.error = None
        self._city_from_zip = ""
        self._new_entry()
        self._advance_line()
        self._focus_next_signer()  # the serial's Enter: the focus moves from Python

    def _new_entry(self) -> None:
        self.warnings = []
        self.confirm = False

    def _advance_line(self) -> None:
        self.line = self._store.next_line(self.section) if self.section else 1
        self.line_text = str(self.line)

    def set_line(self, text: str) -> None:
        """The circulator corrects the line number (e.g. a skipped or spoiled paper line)."""
        self.line_text = text
        errors = dict(self.errors)
        errors.pop("line", None)
        text = text.strip()
        if text.isdigit() and 1 <= int(text) <= 999:
            self.line = int(text)
        else:
            errors["line"] = txt("capture.err.line")
        self.errors = errors

    # ------------------------------------------------------------------ typing
    @property
    def field_order(self) -> tuple[str, ...]:
        return ALL_FIELDS if self.show_more else PAPER_FIELDS

    @property
    def values(self) -> dict[str, str]:
        """What the fields hold. Assigning it (the app setting the fields itself) re-renders."""
        return self._values

    @values.setter
    def values(self, values: dict[str, str]) -> None:
        old, self._values = self._values, dict(values)
        for name in ALL_FIELDS:
            if old.get(name) != self._values.get(name):
                self._push(name)

    def _push(self, name: str) -> None:
        """The app itself sets field ``name``: the next render sends it to the screen."""
        self._pushes[name] = self._pushes.get(name, 0) + 1

    def pushes(self, name: str) -> int:
        """How many times the app has set field ``name`` itself. The view sends a field's
        value only when this has moved: otherwise a redraw keeps what the field on the screen
        holds. Why: the client's copy of a field runs ahead of the change events Python has
        handled (at 40 ms a key, one or two keys), so a redraw for another reason (a sync
        result, a warning cleared) that sent the form's value replaced the newest keys. Seen
        in Chromium: "Leilani" saved as "Lein"."""
        return self._pushes.get(name, 0)

    def typed(self, name: str, text: str) -> None:
        """A field's change event (the person typing): what the field holds, or what the keys
        say was typed into it when its first keys never reached it (see ``key_pressed``)."""
        self.set(name, self._carry.change(name, text))
        misplaced = self._carry.take_misplaced()
        if misplaced is not None:  # the client's focus is not where the typist is
            self.focus = misplaced
            self.focus_seq += 1
        self._show_carried()

    def key_pressed(self, label: str, shift: bool = False) -> None:
        """A key pressed anywhere in the window (the page's keyboard listener): the carry
        follows the typist (canvass.state.carry); a field left with keys it never got takes
        its whole value, on the screen too (a re-render, once per such field)."""
        left = self._carry.key(label, shift)
        if left is not None:
            whole = self._carry.value(left)
            if whole is not None:
                self.set(left, whole)
        self._show_carried()

    def _show_carried(self) -> None:
        """Send the fields that lack carried keys on the screen and that no one types in."""
        names = self._carry.to_show()
        for name in names:
            whole = self._carry.value(name)
            if whole is not None:
                self._values[name] = whole
            self._carry.shown(name)
            self._push(name)
        if names:
            self.shown_seq += 1  # a re-render: the fields pushed are sent, no others

    def restore(self, values: dict[str, str]) -> None:
        """Put kept text back into fields (a draft after the unlock): as if typed, and sent to
        the screen (``pushes``), whenever the form was drawn: a field drawn empty before the
        restore would otherwise keep showing what its screen copy holds."""
        for name, value in values.items():
            self.set(name, value)
            self._push(name)
        if values:
            self.shown_seq += 1  # a re-render: the fields pushed are sent

    @property
    def carry(self) -> KeyCarry:
        return self._carry

    def set(self, name: str, value: str) -> None:
        """One keystroke's text of field ``name``: kept without a re-render (see the module
        doc); only what must visibly go (this field's error, a standing warning) does."""
        self._values[name] = value
        if name == "city" and value != self._city_from_zip:
            self._city_from_zip = ""
        if name in self.errors:
            errors = dict(self.errors)
            errors.pop(name, None)
            self.errors = errors
        if self.confirm:
            self.confirm = False  # what the check saw has changed: it runs again before the save
        if self.warnings:
            self.warnings = []
        if self.doorstep is not None:
            self.doorstep.typed(self._values)  # debounced, off this thread

    def _fill_city(self) -> None:
        """An empty city (or one the form filled itself) follows the ZIP."""
        values = self._values
        if self._jurisdiction is None:
            return
        city = self._jurisdiction.city_for(values["zip"])
        if not city or not (not values["city"].strip() or values["city"] == self._city_from_zip):
            return
        city = city.title() if city.isupper() else city
        if city != values["city"]:
            self._city_from_zip = city
            self.values = {**values, "city": city}  # shown: the app filled it
            self.errors = {k: v for k, v in self.errors.items() if k != "city"}

    def toggle_more(self) -> None:
        self.show_more = not self.show_more

    def request_focus(self, name: str) -> None:
        """Send the focus to ``name`` (the view does). The person has stopped to read (an
        error, a warning): the carry stops following, and what it carried is shown."""
        self._carry.disarm()
        self._show_carried()
        self.focus = name
        self.focus_seq += 1

    def _focus_next_signer(self) -> None:
        """First name, empty, for the next signer: the typist does not wait, so the carry
        follows the keys from here (canvass.state.carry)."""
        self.signer_seq += 1  # new field controls: the accessibility tree drops the last signer
        self.request_focus("first_name")
        self._carry.arm("first_name", self.field_order)

    def enter(self, name: str) -> bool:
        """Enter in field ``name`` (any field, the line number too): this signer is done. The
        field has given up the focus (Flutter's "done" action); if nothing is saved, it gets it
        back (or the first field in error does) so that the next Enter has somewhere to land:
        the person has stopped typing to read, so this focus move races nothing."""
        saved = self.request_save()
        if not saved and self.confirm:
            self.request_focus(name)
        return saved

    # ------------------------------------------------------------------ warnings
    def _keys(self, values: dict[str, str]) -> list[str]:
        if self._own_lines_key is None:
            return []
        from sync.matching import matching_keys

        try:
            return matching_keys(self._own_lines_key, values)
        except Exception:
            return []

    def run_checks(self) -> str | None:
        """Run the pre-save checks; the first warning, or None. A step that fails is logged
        and skipped: a broken check must never lose the line."""
        self.registration = self._check_registration(self.values)
        found: list[str] = []
        for step in self.checks:
            try:
                answer = step(self)
            except Exception:
                log.warning("a pre-save check failed: %s", getattr(step, "__name__", "step"))
                continue
            if answer and answer not in found:
                found.append(answer)
        self.warnings = found
        return self.warning

    @property
    def warning(self) -> str | None:
        return self.warnings[0] if self.warnings else None

    def duplicate_found(self, index: bool = True) -> bool:
        """``duplicate_answer`` is "probably signed"."""
        from sync.matching import PROBABLY

        return self.duplicate_answer(index) == PROBABLY

    def duplicate_answer(self, index: bool = True) -> str:
        """The tablet's door-step word (sync.matching PROBABLY / MAYBE / NO): "probably" when
        this device's lines hold a matching key of the signer, else what the door-step filter of
        the device's scope says (sync.doorstep_offline); the line being corrected does not
        count. ``index=False``: this device's lines only (the server answered for the campaign)."""
        from sync.matching import NO, PROBABLY

        values = self.values
        if not all(values[n].strip() for n in _DUP_NEEDS):
            return NO
        keys = self._keys(values)
        if not keys:
            return NO
        exclude = self.correcting.entry.entry_id if self.correcting is not None else None
        if self._store.find_local_match(keys, exclude_entry_id=exclude) is not None:
            return PROBABLY
        if not index:
            return NO
        held = self._store.doorstep_filter()
        own = self.correcting.entry.personal() if self.correcting is not None else None
        return held.answer(values, own=own) if held is not None else NO

    def outside_jurisdiction(self) -> bool:
        zip_code = self.values["zip"]
        if self._jurisdiction is None or not zip_code.strip():
            return False
        from sync.jurisdiction import parse_zip5

        return bool(parse_zip5(zip_code)) and not self._jurisdiction.contains(zip_code)

    def _check_registration(self, values: dict[str, str]) -> str:
        check = self._registration
        if check is None or not all(values[n].strip() for n in _DUP_NEEDS):
            return "unknown"
        try:
            return check.check(values)
        except Exception:  # a damaged index must never get in the way of capture
            log.warning("registration check failed")
            return "unknown"

    def registration_text(self) -> Text | None:
        if self.registration in ("registered_here", "registered_elsewhere", "not_found"):
            return txt(f"registration.{self.registration}")
        return None

    def warning_text(self, warning: str | None = None) -> Text | None:
        warning = warning or self.warning
        if warning in ("duplicate", "maybe_duplicate"):
            source = self.doorstep.source if self.doorstep is not None else "tablet"
            return txt(f"capture.warn.{warning}", source_key=f"capture.warn.source.{source}")
        if warning == "outside":
            name = getattr(self._jurisdiction, "name", "")
            return Text("capture.warn.outside", {"jurisdiction_name": name})
        if warning == "registration":
            return self.registration_text()
        return None

    def warning_texts(self) -> list[Text]:
        """Every warning standing, in the order of the checks."""
        return [text for w in self.warnings if (text := self.warning_text(w)) is not None]

    # ------------------------------------------------------------------ saving
    def _entry(self) -> Any:
        from sync.domain import SignerEntry

        values = {k: v.strip() for k, v in self.values.items()}
        if self.correcting is not None:
            return self.correcting.entry.correction(line=self.line, **values)
        return SignerEntry(section=self.section or "", line=self.line, **values)

    def save_action_text(self) -> Text:
        """What the save action says, in the form and on the bar at the bottom of a phone's
        screen alike: "Save line N", or once the check has stopped a save, the deliberate second
        step, "Save line N anyway". Both call ``request_save``."""
        return txt("capture.save_anyway" if self.confirm else "capture.save", line=self.line)

    def request_save(self) -> bool:
        """Enter in a field, a tap on the save button or on the bar at the bottom. Missing or
        malformed fields are shown first; then the check before the save: a warning stops
        this request (it is shown, and ``confirm`` is set); the next request, with nothing
        edited in between, saves."""
        if not self._entry_ok():
            return False
        if not self.confirm:
            self.run_checks()
            if self.warnings:
                self.confirm = True
                return False
        return self.save()

    def _entry_ok(self) -> bool:
        """The section is open and the line and fields are valid; if not, says so."""
        from sync.validation import validate_entry

        self._fill_city()
        if self.section is None:
            self.error = txt("capture.err.section_closed")
            return False
        if "line" in self.errors:
            self.request_focus("line")
            return False
        problems = [e for e in validate_entry(self._entry(), jurisdiction=self._jurisdiction)
                    if int(e.code) != _OUTSIDE]
        if problems:
            self.errors = {e.field: e for e in problems}
            self.error = txt("capture.err.fix")
            first = next((e.field for e in problems if e.field in ALL_FIELDS), "first_name")
            if first in MORE_FIELDS:
                self.show_more = True
            self.request_focus(first)
            return False
        return True

    def save(self) -> bool:
        """Save the line as it stands (the check, if any, has been passed or confirmed)."""
        if not self._entry_ok():
            return False
        entry = self._entry()
        keys = self._keys(entry.personal())
        try:
            saved = self._store.save_entry(entry, keys)
        except LineAlreadyUsed:
            self.errors = {**self.errors, "line": txt("capture.err.line_used", line=self.line)}
            self.error = txt("capture.err.line_used", line=self.line)
            self.request_focus("line")
            return False
        except SectionClosed:
            self.error = txt("capture.err.section_closed")
            return False
        was_correction = self.correcting is not None
        self.notice = txt("capture.corrected" if was_correction else "capture.saved", line=saved.line)
        self.correcting = None
        self.values = _empty()
        self._city_from_zip = ""
        self.errors = {}
        self.error = None
        self.registration = "unknown"
        self.show_more = False
        self._new_entry()
        self._advance_line()
        self._focus_next_signer()
        if self._on_saved:
            self._on_saved(saved)
        return True

    # ------------------------------------------------------------------ corrections
    def begin_correction(self, entry_id: str) -> None:
        """Load a saved line into the form; saving supersedes it with a corrected entry."""
        stored = self._store.get_entry(entry_id)
        self.correcting = stored
        self.values = {name: getattr(stored.entry, name) or "" for name in ALL_FIELDS}
        self.show_more = any(self.values[n] for n in MORE_FIELDS)
        self.line = stored.entry.line
        self.line_text = str(self.line)
        self.errors = {}
        self.error = None
        self.notice = None
        self._new_entry()
        self._carry.disarm()  # the person works with the pointer here: nothing is carried
        # Once synced, the door-step filter holds this line's own signer: duplicate_found
        # leaves its keys out (DoorstepFilter.answer(own=...)).
        # No focus move: the person came with the pointer ("Correct line N") and clicks the
        # field to correct; the view's delayed focus move took the focus back from that click,
        # and the key typed there went into First name.

    def cancel_correction(self) -> None:
        self.start(self.section)


def duplicate_check(form: CaptureForm) -> str | None:
    """The door-step check: the server's answer when it has one, else the tablet's:
    "duplicate" (probably signed), "maybe_duplicate" (may have signed: ask) or None."""
    if form.doorstep is not None:
        return form.doorstep.check(form)
    from canvass.state.doorstep import warning_for

    return warning_for(form.duplicate_answer())


def outside_check(form: CaptureForm) -> str | None:
    return "outside" if form.outside_jurisdiction() else None


def registration_check(form: CaptureForm) -> str | None:
    """Registered at another address, or not in the voter file: worth a look before saving."""
    return "registration" if form.registration in _REGISTRATION_WARNS else None


def _registration_check(store: Any, reg_key: bytes | None) -> Any:
    """The device's registration index (a file beside the store), or None without one."""
    if reg_key is None or getattr(store, "path", None) is None:
        return None
    try:
        from canvass.state.registration_check import RegistrationCheck, index_path_for

        if not index_path_for(store.path).exists():
            return None
        check = RegistrationCheck(index_path_for(store.path), reg_key)
    except Exception:
        log.warning("registration index unavailable")
        return None
    return check if check.available else None
