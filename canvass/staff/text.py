"""Staff strings come from the canvass.i18n catalogues (keys under ``staff.``). The staff app's
language is CANVASS_STAFF_LANG (en or es; English by default)."""

from __future__ import annotations

import os

from canvass.i18n import normalize_lang, t


def staff_lang() -> str:
    return normalize_lang(os.environ.get("CANVASS_STAFF_LANG", "en"))


def tr(key: str, **params: object) -> str:
    """The staff string ``key`` (without its ``staff.`` prefix) in the staff language."""
    return t(f"staff.{key}", staff_lang(), **params)
