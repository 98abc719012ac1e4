"""Where sync stands, for the screens and the support commands: the state of the last round,
what waits, when it last worked, and a failure in words a circulator can act on (English: the
support CLI prints them; the app's status bar has its own catalogue words, canvass/i18n).

``SyncStatus`` is updated by the syncing thread (sync.client.SyncClient) and read by the UI
through ``subscribe``; it is kept in the store across restarts (``snapshot``/``restore``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from sync.errors import AuthRevoked, NotEnrolled, Offline, ProtocolError, RateLimited, ServerUnavailable

log = logging.getLogger("canvass.sync")


class SyncState(StrEnum):
    IDLE = "idle"
    SYNCING = "syncing"
    OFFLINE = "offline"
    ERROR = "error"
    NEEDS_REENROLL = "needs_reenroll"


def signatures(n: int) -> str:
    return "1 signature" if n == 1 else f"{n} signatures"


def waiting(n: int) -> str:
    return f"{signatures(n)} waiting" if n else "nothing waiting"


class SyncStatus:
    """What the UI shows about sync. Plain class; ``subscribe(callback)`` is called with this
    object after every change (from the syncing thread) and returns an unsubscribe function."""

    def __init__(self) -> None:
        self.state: SyncState = SyncState.IDLE
        self.pending: int = 0
        self.last_success: datetime | None = None
        self.last_error: str | None = None
        self.progress: tuple[int, int] | None = None  # (sent, total) while a queue drains
        self._subscribers: list[Callable[[SyncStatus], None]] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Callable[[SyncStatus], None]) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def update(self, **changes: Any) -> None:
        for name, value in changes.items():
            if not hasattr(self, name) or name.startswith("_"):
                raise AttributeError(name)
            setattr(self, name, value)
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(self)
            except Exception:  # a broken view must not break sync
                log.exception("sync status subscriber failed")

    def snapshot(self) -> dict[str, Any]:
        return {
            "state": str(self.state),
            "pending": self.pending,
            "last_success": self.last_success.isoformat() if self.last_success else None,
            "last_error": self.last_error,
            "progress": list(self.progress) if self.progress else None,
        }

    def restore(self, saved: dict[str, Any] | None) -> None:
        """Take back a saved snapshot (no notification: nobody subscribed yet)."""
        if not isinstance(saved, dict):
            return
        try:
            self.state = SyncState(saved.get("state") or SyncState.IDLE)
        except ValueError:
            self.state = SyncState.IDLE
        if self.state == SyncState.SYNCING:  # a round cut short by a crash or kill
            self.state = SyncState.IDLE
        last = saved.get("last_success")
        try:
            self.last_success = datetime.fromisoformat(last) if last else None
        except (TypeError, ValueError):
            self.last_success = None
        self.last_error = saved.get("last_error") if isinstance(saved.get("last_error"), str) else None
        if isinstance(saved.get("pending"), int):
            self.pending = saved["pending"]

    def __repr__(self) -> str:
        return f"SyncStatus({self.snapshot()})"


def safe_detail(failure: BaseException) -> str:
    parts = [type(failure).__name__]
    for attr in ("status", "code", "retry_after"):
        value = getattr(failure, attr, None)
        if value is not None:
            parts.append(f"{attr}={value}")
    return " ".join(parts)


def describe_failure(failure: BaseException, pending: int) -> tuple[SyncState, str]:
    waiting_text = waiting(pending)
    if isinstance(failure, Offline):
        return SyncState.OFFLINE, f"No connection - {waiting_text}"
    if isinstance(failure, RateLimited):
        return SyncState.OFFLINE, f"The server is busy - {waiting_text}. Will try again shortly."
    if isinstance(failure, ServerUnavailable):
        return SyncState.ERROR, f"The server is not answering right now - {waiting_text}. Will try again."
    if isinstance(failure, AuthRevoked):
        return (SyncState.NEEDS_REENROLL,
                f"This device is no longer enrolled - {waiting_text}. Ask your team lead for a new code.")
    if isinstance(failure, NotEnrolled):
        return SyncState.ERROR, "This device is not enrolled yet. Ask your team lead for a code."
    if isinstance(failure, ProtocolError):
        what = f"HTTP {failure.status}" if failure.status else "unreadable answer"
        if failure.code:
            what += f", {failure.code}"
        if str(failure) == "TLS certificate not trusted":
            what = "certificate not trusted"
        return (SyncState.ERROR, f"The server refused to sync ({what}) - {waiting_text}. "
                                 "Update the app or tell your team lead.")
    if type(failure).__name__ in {"StoreLocked", "WrongPin", "PinDelay"}:
        return SyncState.IDLE, f"Unlock the app to sync - {waiting_text}"
    return SyncState.ERROR, f"Sync failed - {waiting_text}. Will try again."
