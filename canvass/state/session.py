"""Session and lock: which top-level screen shows, PIN unlock with delays, idle auto-lock.

Phases: ``enroll`` (no store yet), ``locked``, ``ready``, ``wiped`` (too many wrong PINs:
the store destroyed itself; enrolling again is the way back).
The clock is injectable (monotonic seconds) so delays and idle lock are tested without sleeping.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flet as ft

from canvass.state.text import Text, txt
from canvass.store.errors import PinDelay, StoreWiped, WrongPin

STORE_FILE = "device.sqlite"
DEFAULT_IDLE_LOCK_SECONDS = 120


def store_path(profile_dir: Path) -> Path:
    return Path(profile_dir) / STORE_FILE


def _store_module():
    """canvass.store (its public face), or its implementation module before __init__ lands."""
    import canvass.store as store_module

    if hasattr(store_module, "DeviceStore"):
        return store_module
    import canvass.store.store as impl

    return impl


@ft.observable
class Session:
    def __init__(self, profile_dir: Path, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.profile_dir = Path(profile_dir)
        self.store: Any = None
        self.message: Text | None = None
        self.seconds_left = 0
        self._retry_until: float | None = None
        self._last_activity = clock()
        self._on_unlock: list[Callable[[], None]] = []
        self._on_lock: list[Callable[[], None]] = []
        if _store_module().DeviceStore.exists(store_path(self.profile_dir)):
            self.store = _store_module().DeviceStore.open(store_path(self.profile_dir))
            self.phase = "locked"
        else:
            self.phase = "enroll"

    # ------------------------------------------------------------------ hooks for the app
    def on_unlock(self, callback: Callable[[], None]) -> None:
        self._on_unlock.append(callback)

    def on_lock(self, callback: Callable[[], None]) -> None:
        self._on_lock.append(callback)

    # ------------------------------------------------------------------ enrollment done
    def enrolled(self, store: Any) -> None:
        """A freshly created (unlocked) store after enrollment: straight to work."""
        self.store = store
        self.message = None
        self._last_activity = self._clock()
        self.phase = "ready"
        for callback in list(self._on_unlock):
            callback()

    # ------------------------------------------------------------------ unlock / lock
    def unlock(self, pin: str) -> bool:
        if not pin:
            self.message = txt("lock.empty")
            return False
        if self._retry_until is not None and self._clock() < self._retry_until:
            self._show_delay("lock.wait")
            return False
        try:
            self.store.unlock(pin)
        except WrongPin as exc:
            self._set_delay(exc.retry_after)
            if exc.retry_after > 0:
                self._show_delay("lock.wrong")
            else:
                self.message = txt("lock.wrong_now")
            return False
        except PinDelay as exc:
            self._set_delay(exc.retry_after)
            self._show_delay("lock.wait")
            return False
        except StoreWiped:
            self.message = txt("lock.wiped")
            self.phase = "wiped"
            return False
        self._retry_until = None
        self.seconds_left = 0
        self.message = None
        self._last_activity = self._clock()
        self.phase = "ready"
        for callback in list(self._on_unlock):
            callback()
        return True

    def lock(self) -> None:
        if self.phase != "ready":
            return
        for callback in list(self._on_lock):
            callback()
        self.store.lock()
        self.message = None
        self.phase = "locked"

    def restart_enrollment(self) -> None:
        """After a wipe: forget the old store so the device can be enrolled again."""
        if self.store is not None:
            try:
                self.store.close()
            except Exception:
                pass
        self.store = None
        for path in self.profile_dir.glob(STORE_FILE + "*"):
            path.unlink(missing_ok=True)
        self.message = None
        self.phase = "enroll"

    # ------------------------------------------------------------------ delays
    def _set_delay(self, retry_after: float) -> None:
        self._retry_until = self._clock() + retry_after if retry_after > 0 else None

    def _show_delay(self, key: str) -> None:
        self.seconds_left = self.remaining()
        self.message = txt(key, seconds=self.seconds_left)

    def remaining(self) -> int:
        if self._retry_until is None:
            return 0
        return max(0, math.ceil(self._retry_until - self._clock()))

    def tick(self) -> None:
        """Called about once a second while a delay runs: counts the message down."""
        left = self.remaining()
        if left == self.seconds_left:
            return
        self.seconds_left = left
        if self.message is not None and self.message.key in ("lock.wrong", "lock.wait"):
            self.message = txt(self.message.key, seconds=left) if left else txt("lock.wrong_now")

    # ------------------------------------------------------------------ idle lock
    def idle_lock_seconds(self) -> int:
        campaign = {}
        if self.store is not None:
            try:
                campaign = self.store.get_setting("campaign", {}) or {}
            except Exception:
                campaign = {}
        value = campaign.get("idle_lock_seconds") or DEFAULT_IDLE_LOCK_SECONDS
        return int(value)

    def touch(self) -> None:
        """Any user activity postpones the idle lock."""
        self._last_activity = self._clock()

    def check_idle(self) -> bool:
        """Lock if the campaign's idle time passed without activity; True if it locked."""
        if self.phase == "ready" and self._clock() - self._last_activity >= self.idle_lock_seconds():
            self.lock()
            return True
        return False
