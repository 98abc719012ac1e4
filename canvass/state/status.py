"""The always-visible status bar: signers today, this section, pending upload, last sync."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import flet as ft

from canvass.i18n import t


def ago_text(then: datetime, now: datetime, lang: str) -> str:
    seconds = max(0, (now - then).total_seconds())
    if seconds < 60:
        return t("ago.now", lang)
    if seconds < 3600:
        return t("ago.minutes", lang, n=int(seconds // 60))
    if seconds < 86400:
        return t("ago.hours", lang, n=int(seconds // 3600))
    return t("ago.days", lang, n=int(seconds // 86400))


def clock_text(then: datetime, now: datetime) -> str:
    """When a thing happened, as the device's clock shows it: "14:05" today, else with the
    date ("2024-05-02 14:05")."""
    local = then.astimezone()
    if local.date() == now.astimezone().date():
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def local_midnight(now: datetime) -> datetime:
    """Start of the device's local day, as an aware UTC datetime."""
    local = now.astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


@ft.observable
class StatusBar:
    def __init__(self, store: Any, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._store = store
        self._now = now
        self.today = 0
        self.section_count = 0
        self.pending = 0
        self.state = "idle"  # sync.client.SyncState value
        self.last_success: datetime | None = None
        self.has_error = False
        self.tick = 0  # bumped every minute so "2 min ago" moves on
        self.saved_line: int | None = None  # "Saved line 4" until the next change of section
        self.asked = False  # "Sync now" pressed and not yet answered by a good round

    def refresh(self, section: str | None = None) -> None:
        if not getattr(self._store, "is_unlocked", False):
            return
        now = self._now()
        self.today = self._store.count_entries(since=local_midnight(now))
        self.section_count = self._store.count_entries(section=section) if section else 0
        self.pending = self._store.pending_count()

    def apply_sync(self, status: Any) -> None:
        """Copy a sync.client.SyncStatus (called on the UI loop)."""
        self.state = str(status.state)
        self.pending = int(status.pending) if status.pending is not None else self.pending
        self.last_success = status.last_success
        self.has_error = bool(status.last_error)
        if self.state == "idle" and not self.has_error:
            self.asked = False

    def ask_sync(self) -> None:
        """"Sync now" pressed: say "Syncing..." until the sync thread answers, then, if the
        server cannot be reached, say what waits and that it will be sent."""
        self.asked = True
        self.state = "syncing"

    def note_saved(self, line: int) -> None:
        self.saved_line = int(line)

    def activity_text(self, lang: str) -> str | None:
        """What the app last did ("Saved line 4"), or None."""
        if self.saved_line is None:
            return None
        return t("capture.saved", lang, line=self.saved_line)

    def counts_text(self, lang: str) -> list[str]:
        return [t("status.today", lang, count=self.today),
                t("status.section", lang, count=self.section_count),
                t("status.pending", lang, count=self.pending)]

    def sync_text(self, lang: str) -> str:
        if self.state == "syncing":
            return t("status.syncing", lang)
        if self.state == "offline":
            text = (t("status.offline_since", lang, count=self.pending,
                      time=clock_text(self.last_success, self._now()))
                    if self.last_success is not None else t("status.offline", lang, count=self.pending))
            return text + t("status.will_send", lang) if self.asked else text
        if self.state in ("error", "needs_reenroll"):
            return t("status.error", lang, count=self.pending)
        if self.last_success is None:
            return t("status.never", lang)
        return t("status.synced", lang, ago=ago_text(self.last_success, self._now(), lang))

    def minute(self) -> None:
        self.tick += 1

