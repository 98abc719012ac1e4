"""Sections: start one by its serial number, see its lines used, close it with the
circulator's declaration (dates gathered, place signed)."""

from __future__ import annotations

from typing import Any

import flet as ft

from canvass.state.text import Text, txt
from canvass.store.errors import SectionClosed


@ft.observable
class Sections:
    def __init__(self, store: Any, *, circulator: str = "") -> None:
        self._store = store
        self._circulator = circulator or str(store.get_setting("circulator", "") or "")
        self.current: str | None = None
        self.lines_used = 0
        self.open_serials: list[str] = []
        self.error: Text | None = None
        self.notice: Text | None = None
        self.closing = False
        self.close_errors: dict[str, Text] = {}
        self.refresh()
        if self.current is None and len(self.open_serials) == 1:
            self.select(self.open_serials[0])

    def refresh(self) -> None:
        sections = self._store.list_sections()
        self.open_serials = [s.serial for s in sections if s.is_open]
        if self.current is not None:
            section = self._store.get_section(self.current)
            self.lines_used = section.lines_used if section else 0

    def start(self, serial: str) -> bool:
        """Start (or continue) the section with this serial; False with ``error`` if refused."""
        from sync.validation import validate_section_serial

        serial = (serial or "").strip().upper()
        if validate_section_serial(serial) is not None:
            self.error = txt("section.err.serial")
            return False
        try:
            self._store.open_section(serial, self._circulator)
        except SectionClosed:
            self.error = txt("section.err.closed", serial=serial)
            return False
        self.error = None
        self.notice = None
        self.select(serial)
        return True

    def select(self, serial: str) -> None:
        self.current = serial
        self.refresh()

    def leave(self) -> None:
        """Back to the section chooser (the section stays open)."""
        self.current = None
        self.closing = False
        self.refresh()

    def begin_close(self) -> None:
        self.close_errors = {}
        self.closing = True

    def cancel_close(self) -> None:
        self.closing = False
        self.close_errors = {}

    def close(self, *, dates_gathered: str, place_signed: str) -> bool:
        errors = {}
        if not dates_gathered.strip():
            errors["dates"] = txt("section.err.declaration")
        if not place_signed.strip():
            errors["place"] = txt("section.err.declaration")
        self.close_errors = errors
        if errors or self.current is None:
            return False
        serial = self.current
        self._store.close_section(serial, dates_gathered=dates_gathered.strip(),
                                  place_signed=place_signed.strip())
        self.closing = False
        self.notice = txt("section.closed", serial=serial)
        self.current = None
        self.refresh()
        return True
