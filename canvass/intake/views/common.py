"""What the office panels share: the keyboard hint, the words for a saved line's status."""

from __future__ import annotations

from canvass.i18n import t
from canvass.staff.text import staff_lang, tr

POLL_SECONDS = 0.5
NONE_KEY = "__none__"  # the dropdown choice "no column"
SAVED_STATUSES = ("accepted", "already_received", "duplicate", "possible_duplicate", "rejected",
                  "conflict", "invalid")


NOTICE_SIZE = 18


def keys_hint() -> str:
    """The keyboard convention, in the words of the circulator app's form (one string)."""
    return t("capture.keys_hint", staff_lang())


def saved_text(status: str) -> str:
    return tr(f"intake.saved.{status}") if status in SAVED_STATUSES else status
