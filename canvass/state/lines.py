"""This section's lines, most recent first, each with its sync outcome."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import flet as ft

from canvass.i18n import EN, reason_key
from canvass.state.text import Text, txt

PURGED_NAME = "\u2014"  # an em dash where a purged line's name was


@dataclass(frozen=True)
class LineRow:
    entry_id: str
    line: int
    name: str  # first name and last initial: enough for the circulator to find the line
    outcome: Text
    status: str  # "pending", an EntryStatus value, "superseded" or "purged"
    can_correct: bool


def outcome_text(stored: Any) -> Text:
    """What the circulator reads about one stored entry's sync outcome."""
    if stored.superseded_by:
        return txt("outcome.superseded")
    status = str(stored.status)
    if status in ("rejected", "conflict"):
        return Text(f"outcome.{status}", {"reason_key": reason_key(stored.reason_code)})
    key = f"outcome.{status}"
    return txt(key if key in EN else "outcome.pending")


def short_name(entry: Any) -> str:
    last = (entry.last_name or "").strip()
    return f"{(entry.first_name or '').strip()} {last[:1] + '.' if last else ''}".strip()


@ft.observable
class SectionLines:
    def __init__(self, store: Any, *, limit: int = 200) -> None:
        self._store = store
        self._limit = limit
        self.section: str | None = None
        self.rows: list[LineRow] = []

    def show(self, section: str | None) -> None:
        self.section = section
        self.refresh()

    def refresh(self) -> None:
        if self.section is None:
            self.rows = []
            return
        rows = []
        for stored in self._store.entries(section=self.section, limit=self._limit):
            entry = stored.entry
            rows.append(LineRow(
                entry_id=entry.entry_id, line=entry.line, name=short_name(entry),
                outcome=outcome_text(stored),
                status="superseded" if stored.superseded_by else str(stored.status),
                can_correct=stored.superseded_by is None,
            ))
        # Lines whose entries the campaign's retention erased: the paper line stays, its
        # signer's data is gone (no name to show, nothing to correct).
        purged = getattr(self._store, "purged_lines", None)
        for line in reversed(purged(self.section) if purged else []):
            if len(rows) >= self._limit:
                break
            rows.append(LineRow(entry_id=f"purged-{line}", line=line, name=PURGED_NAME,
                                outcome=txt("outcome.purged"), status="purged", can_correct=False))
        self.rows = rows
