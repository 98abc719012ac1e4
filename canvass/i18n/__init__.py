"""Every string the circulator app and the staff app show, in English and Spanish.

``t(key, lang, **params)`` renders one catalogue entry. A key missing from a language falls
back to English; a key missing everywhere is a programming error and raises ``KeyError`` so
tests catch it (views never invent text of their own).

The catalogues hold every word a person reads on a screen, one place per kind of word:
``field.*`` (the capture form's boxes), ``label.*`` (a field's name inside a sentence),
``validation.<message_key>`` (``field_message``), ``jurisdiction.<name>``, and the words for
a protocol reason code (``reason_key``). ``sync.protocol.REASON_TEXT`` stays the one English
text of each code for logs, API readers and the documentation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from canvass.i18n.en import STRINGS as EN
from canvass.i18n.es import STRINGS as ES
from sync.protocol import REASON_TEXT, ReasonCode

if TYPE_CHECKING:
    from sync.validation import FieldError

DEFAULT_LANG = "en"
CATALOGUES: dict[str, dict[str, str]] = {"en": EN, "es": ES}
LANGUAGES: tuple[str, ...] = tuple(CATALOGUES)

# The two audiences of a reason code: the circulator reads it on its own after "Rejected:";
# the office reads it after the field's label ("ZIP: Not a 5-digit ZIP or ZIP+4."), so its
# words leave out the field. Each family holds one key per ReasonCode and "<family>.unknown".
CIRCULATOR_REASONS = "reason"
OFFICE_REASONS = "staff.intake.reason"
REASON_FAMILIES: tuple[str, ...] = (CIRCULATOR_REASONS, OFFICE_REASONS)
_KNOWN_CODES = frozenset(int(code) for code in ReasonCode)


class _KeepMissing(dict):
    # A template naming a param the caller lacks shows "{name}" instead of raising mid-screen.
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


def reason_key(code: int | None, family: str = CIRCULATOR_REASONS) -> str:
    """The catalogue key of protocol reason ``code`` in ``family``: ``<family>.<code>``, or
    ``<family>.unknown`` for no code or a code this build does not know (a newer server's)."""
    return f"{family}.{int(code)}" if code in _KNOWN_CODES else f"{family}.unknown"


def jurisdiction_label(name: str, lang: str) -> str:
    """A jurisdiction as a person says it; an unknown name is shown title-cased."""
    key = f"jurisdiction.{name}"
    return t(key, lang) if key in EN else name.replace("_", " ").title()


def field_message(error: FieldError, lang: str = DEFAULT_LANG) -> str:
    """The words for a validation error under its field's box, in ``lang``: the template of its
    ``message_key`` filled with its params, ``{label}`` (the field's name in a sentence) and
    ``{jurisdiction}`` as said in that language."""
    key = f"validation.{error.message_key}"
    if key not in EN:
        # An unknown key is a programming error; the code's catalogue text is still meaningful.
        return REASON_TEXT.get(error.code, error.message_key)
    params: dict[str, object] = dict(error.params)
    label = f"label.{error.field}"
    params["label"] = t(label, lang) if label in EN else error.field
    if "jurisdiction" in params:
        params["jurisdiction"] = jurisdiction_label(str(params["jurisdiction"]), lang)
    return t(key, lang, **params)
