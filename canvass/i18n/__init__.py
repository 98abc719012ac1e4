"""Every string the circulator app shows, in English and Spanish.

``t(key, lang, **params)`` renders one catalogue entry. A key missing from a language falls
back to English; a key missing everywhere is a programming error and raises ``KeyError`` so
tests catch it (views never invent text of their own).
"""

from __future__ import annotations

from canvass.i18n.en import STRINGS as EN
from canvass.i18n.es import STRINGS as ES

DEFAULT_LANG = "en"
CATALOGUES: dict[str, dict[str, str]] = {"en": EN, "es": ES}
LANGUAGES: tuple[str, ...] = tuple(CATALOGUES)


class _KeepMissing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def normalize_lang(lang: str | None) -> str:
    return lang if lang in CATALOGUES else DEFAULT_LANG


def t(key: str, lang: str = DEFAULT_LANG, **params: object) -> str:
    """The text of ``key`` in ``lang`` with ``params`` filled in."""
    catalogue = CATALOGUES[normalize_lang(lang)]
    template = catalogue.get(key)
    if template is None:
        template = EN[key]  # KeyError for an unknown key, on purpose
    return template.format_map(_KeepMissing(params)) if params else template
