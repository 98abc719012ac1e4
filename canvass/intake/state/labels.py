"""The entry fields the office panels show, and their words in the staff language."""

from __future__ import annotations

from canvass.i18n import OFFICE_REASONS, reason_key, t
from canvass.staff.text import staff_lang, tr
from sync.domain import PERSONAL_FIELDS
from sync.intake.mapping import TARGET_FIELDS

# The signer's fields a clerk keys or compares: all but the circulator's own notes.
SIGNER_FIELDS: tuple[str, ...] = tuple(name for name in PERSONAL_FIELDS if name != "notes")
FORM_FIELDS: tuple[str, ...] = ("section", "line", *SIGNER_FIELDS)
# Every field an import can fill has a label.
LABELLED_FIELDS: tuple[str, ...] = TARGET_FIELDS


def field_label(name: str) -> str:
    """The staff label of an entry field (``staff.intake.field.*``)."""
    return tr(f"intake.field.{name}") if name in LABELLED_FIELDS else name


def reason_text(code: int | None, fallback: str = "") -> str:
    """A protocol reason code in the staff language (``staff.intake.reason.<code>``); for a
    code this build does not know, ``fallback`` (the server's English reason) if any."""
    key = reason_key(code, OFFICE_REASONS)
    if fallback and key == reason_key(None, OFFICE_REASONS):
        return fallback
    return t(key, staff_lang())
