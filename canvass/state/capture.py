"""The signer capture form: one screen, keyboard flow in the order of the paper line.

- ``submit_field(name)`` is what Enter does: it returns the next field to focus, or saves on
  the last field (ZIP, or notes when "More" is open) and returns "first_name" after a save.
- The city is filled from the ZIP when the jurisdiction knows it (unless the circulator typed
  a city of their own).
- As soon as first name, last name, street and ZIP are in, the form checks this device's
  entries and the campaign's dedup index for the signer's blind matching keys and sets
  ``warning = "duplicate"``; a ZIP outside the jurisdiction sets ``warning = "outside"``.
- With first name, last name, street and ZIP in, ``registration`` holds the device's
  registration check (canvass.state.registration_check): "registered_here",
  "registered_elsewhere", "not_found"; "unknown" (nothing shown) when this device has no voter
  file index yet or a field is missing. Like the warnings it never blocks saving.

Decision (issue 5): warnings never block saving. The paper line exists whatever the app
says, and the line numbers of the device must follow the paper, so a line the person signed
is always recorded; the server then answers duplicate / rejected, and the circulator sees that
outcome in the section's lines. The warning is shown before saving and the Save button reads
"Save line N anyway" while it stands, so saving a warned line is always a deliberate act.
Field errors (missing, malformed) do block saving, with the message beside the field.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from typing import Any

import flet as ft

from canvass.state.text import Text, txt
from canvass.store.errors import LineAlreadyUsed, SectionClosed

log = logging.getLogger("canvass.app")

PAPER_FIELDS: tuple[str, ...] = (
    "first_name", "middle_name", "last_name", "suffix", "street", "unit", "city", "zip",
)
MORE_FIELDS: tuple[str, ...] = ("phone", "email", "notes")
ALL_FIELDS = PAPER_FIELDS + MORE_FIELDS
_DUP_NEEDS = ("first_name", "last_name", "street", "zip")
_OUTSIDE = 103  # protocol.ReasonCode.ZIP_OUTSIDE_JURISDICTION


def _empty() -> dict[str, str]:
    return {name: "" for name in ALL_FIELDS}


@ft.observable
class CaptureForm:
    def __init__(self, store: Any, *, jurisdiction: Any = None, index_key: bytes | None = None,
                 on_saved: Callable[[Any], None] | None = None, registration: Any = None) -> None:
        self._store = store
        self._registration = registration  # RegistrationCheck | None
        self._jurisdiction = jurisdiction
        self._index_key = index_key
        self._on_saved = on_saved
        self._city_from_zip = ""  # the city the form filled in itself
        self._match_keys: list[str] = []
        self.section: str | None = None
        self.values: dict[str, str] = _empty()
        self.errors: dict[str, Any] = {}  # field -> sync.validation.FieldError (or Text)
        self.line = 1
        self.line_text = "1"
        self.warning: str | None = None  # "duplicate" | "outside" | None
        self.registration = "unknown"  # registration_check.ANSWERS
        self.notice: Text | None = None  # "Saved line 4"
        self.error: Text | None = None  # a form-level problem
        self.show_more = False
        self.correcting: Any = None  # StoredEntry being corrected
        self.focus = "first_name"
        self.focus_seq = 0  # bumped each time the view must move focus

    @classmethod
    def for_store(cls, store: Any, **kwargs: Any) -> CaptureForm:
        """Jurisdiction and index key from the enrolled store's settings and secrets."""
        from sync.jurisdiction import jurisdiction_for

        campaign = store.get_setting("campaign", {}) or {}
        jurisdiction = None
        if campaign.get("jurisdiction"):
            try:
                jurisdiction = jurisdiction_for(campaign["jurisdiction"],
                                                campaign.get("jurisdiction_zips") or ())
            except Exception:
                log.warning("jurisdiction list unavailable; ZIPs are not checked on the device")
        key_b64 = store.get_secret("index_key")
        index_key = base64.b64decode(key_b64) if key_b64 else None
        if "registration" not in kwargs:
            kwargs["registration"] = _registration_check(store, index_key)
        return cls(store, jurisdiction=jurisdiction, index_key=index_key, **kwargs)

    # ------------------------------------------------------------------ section / line
    def start(self, section: str | None) -> None:
        self.section = section
        self.correcting = None
        self.values = _empty()
        self.errors = {}
        self.warning = None
        self.registration = "unknown"
        self.error = None
        self._city_from_zip = ""
        self._advance_line()
        self.request_focus("first_name")

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

    def set(self, name: str, value: str) -> None:
        values = dict(self.values)
        values[name] = value
        if name == "zip":
            self._fill_city(values)
        if name == "city" and value != self._city_from_zip:
            self._city_from_zip = ""
        self.values = values
        if name in self.errors:
            errors = dict(self.errors)
            errors.pop(name, None)
            self.errors = errors
        if self.notice is not None:
            self.notice = None
        if name in _DUP_NEEDS or name in ("middle_name", "suffix", "unit", "city"):
            self.check_warnings()

    def _fill_city(self, values: dict[str, str]) -> None:
        if self._jurisdiction is None:
            return
        city = self._jurisdiction.city_for(values["zip"])
        if not city:
            return
        if not values["city"].strip() or values["city"] == self._city_from_zip:
            values["city"] = city.title() if city.isupper() else city
            self._city_from_zip = values["city"]
            self.errors = {k: v for k, v in self.errors.items() if k != "city"}

    def toggle_more(self) -> None:
        self.show_more = not self.show_more

    def request_focus(self, name: str) -> None:
        self.focus = name
        self.focus_seq += 1

    def submit_field(self, name: str) -> str | None:
        """Enter in field ``name``: the next field's name, or save on the last field.
        Returns the field that now has focus (first_name after a good save)."""
        order = self.field_order
        if name in order and order.index(name) < len(order) - 1:
            nxt = order[order.index(name) + 1]
            self.request_focus(nxt)
            return nxt
        self.save()
        return self.focus

    # ------------------------------------------------------------------ warnings
    def _keys(self, values: dict[str, str]) -> list[str]:
        if self._index_key is None:
            return []
        from sync.matching import matching_keys

        try:
            return matching_keys(self._index_key, values)
        except Exception:
            return []

    def check_warnings(self) -> str | None:
        values = self.values
        warning = None
        if all(values[n].strip() for n in _DUP_NEEDS):
            keys = self._keys(values)
            self._match_keys = keys
            if keys:
                exclude = self.correcting.entry.entry_id if self.correcting is not None else None
                if (self._store.find_local_match(keys, exclude_entry_id=exclude) is not None
                        or self._store.index_contains_any(keys)):
                    warning = "duplicate"
        if warning is None and self._jurisdiction is not None and values["zip"].strip():
            from sync.jurisdiction import parse_zip5

            if parse_zip5(values["zip"]) and not self._jurisdiction.contains(values["zip"]):
                warning = "outside"
        self.warning = warning
        self.registration = self._check_registration(values)
        return warning

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

    def warning_text(self) -> Text | None:
        if self.warning == "duplicate":
            return txt("capture.warn.duplicate")
        if self.warning == "outside":
            name = getattr(self._jurisdiction, "name", "")
            return Text("capture.warn.outside", {"jurisdiction_name": name})
        return None

    # ------------------------------------------------------------------ saving
    def _entry(self) -> Any:
        from sync.domain import SignerEntry

        values = {k: v.strip() for k, v in self.values.items()}
        if self.correcting is not None:
            return self.correcting.entry.correction(line=self.line, **values)
        return SignerEntry(section=self.section or "", line=self.line, **values)

    def save(self) -> bool:
        from sync.validation import validate_entry

        if self.section is None:
            self.error = txt("capture.err.section_closed")
            return False
        if "line" in self.errors:
            self.request_focus("line")
            return False
        entry = self._entry()
        problems = [e for e in validate_entry(entry, jurisdiction=self._jurisdiction)
                    if int(e.code) != _OUTSIDE]
        if problems:
            self.errors = {e.field: e for e in problems}
            self.error = txt("capture.err.fix")
            first = next((e.field for e in problems if e.field in ALL_FIELDS), "first_name")
            if first in MORE_FIELDS:
                self.show_more = True
            self.request_focus(first)
            return False
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
        self.warning = None
        self.registration = "unknown"
        self.show_more = False
        self._advance_line()
        self.request_focus("first_name")
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
        self.check_warnings()
        self.request_focus("first_name")

    def cancel_correction(self) -> None:
        self.start(self.section)


def _registration_check(store: Any, index_key: bytes | None) -> Any:
    """The device's registration index (a file beside the store), or None without one."""
    if index_key is None or getattr(store, "path", None) is None:
        return None
    try:
        from canvass.state.registration_check import RegistrationCheck, index_path_for

        if not index_path_for(store.path).exists():
            return None
        check = RegistrationCheck(index_path_for(store.path), index_key)
    except Exception:
        log.warning("registration index unavailable")
        return None
    return check if check.available else None
