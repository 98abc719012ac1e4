"""The UI language, chosen on the device and switchable at any time (en / es)."""

from __future__ import annotations

from collections.abc import Callable

import flet as ft

from canvass.i18n import LANGUAGES, normalize_lang


@ft.observable
class Language:
    def __init__(self, lang: str = "en", *, on_change: Callable[[str], None] | None = None) -> None:
        self.lang = normalize_lang(lang)
        self._on_change = on_change

    def set(self, lang: str) -> None:
        lang = normalize_lang(lang)
        if lang != self.lang:
            self.lang = lang
            if self._on_change:
                self._on_change(lang)

    def switch(self) -> str:
        """Cycle to the next language (en <-> es); returns the new one."""
        self.set(LANGUAGES[(LANGUAGES.index(self.lang) + 1) % len(LANGUAGES)])
        return self.lang

    def persist_with(self, on_change: Callable[[str], None] | None) -> None:
        self._on_change = on_change
