"""Session and lock: which top-level screen shows, PIN unlock with delays, idle auto-lock.

Phases: ``enroll`` (no store yet), ``locked``, ``ready``, ``wiped`` (too many wrong PINs:
the store destroyed itself; enrolling again is the way back).
The clock is injectable (monotonic seconds) so delays and idle lock are tested without sleeping.

Unlocking runs Argon2 (tens to hundreds of ms, more on a slow phone), so it is split like
enrollment: ``begin_unlock(pin)`` checks and shows "Unlocking..." (UI loop),
``perform_unlock(pin)`` derives the key in a worker thread and touches no observable field,
``finish_unlock(outcome)`` shows the result (UI loop). ``unlock(pin)`` chains the three.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flet as ft

from canvass.state.text import Text, txt
from canvass.store.errors import PinDelay, StoreWiped, WrongPin
from canvass.store.profile import STORE_FILE, store_path

DEFAULT_IDLE_LOCK_SECONDS = 120
# A device may lock sooner than its campaign asks (tests, a demo), never later.
IDLE_LOCK_ENV = "CANVASS_IDLE_LOCK_SECONDS"


def _store_module():
    """canvass.store (its public face), or its implementation module before __init__ lands."""
    import canvass.store as store_module

    if hasattr(store_module, "DeviceStore"):
        return store_module
    import canvass.store.store as impl

    return impl


@dataclass(frozen=True)
class UnlockOutcome:
    ok: bool = False
    kind: str = ""  # "", "wrong", "delay", "wiped"
    retry_after: float = 0.0


@ft.observable
class Session:
    def __init__(self, profile_dir: Path, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.profile_dir = Path(profile_dir)
        self.store: Any = None
        self.message: Text | None = None
        self.seconds_left = 0
        self.busy = False  # a PIN is being checked (the key derivation runs off the UI loop)
        self._retry_until: float | None = None
        self._idle_seconds: int | None = None  # read from the store once per unlock
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
        self._open_workspace()

    # ------------------------------------------------------------------ unlock / lock
    def begin_unlock(self, pin: str) -> bool:
        """On the UI loop: False (with a message) if the PIN cannot be tried now."""
        if self.busy:
            return False
        if not pin:
            self.message = txt("lock.empty")
            return False
        if self._retry_until is not None and self._clock() < self._retry_until:
            self._show_delay("lock.wait")
            return False
        self.busy = True
        self.message = txt("lock.unlocking")
        return True

    def perform_unlock(self, pin: str) -> UnlockOutcome:
        """Blocking (Argon2): call from a worker thread. Touches no observable field."""
        try:
            self.store.unlock(pin)
        except WrongPin as exc:
            return UnlockOutcome(kind="wrong", retry_after=exc.retry_after)
        except PinDelay as exc:
            return UnlockOutcome(kind="delay", retry_after=exc.retry_after)
        except StoreWiped:
            return UnlockOutcome(kind="wiped")
        return UnlockOutcome(ok=True)

    def finish_unlock(self, outcome: UnlockOutcome) -> bool:
        """On the UI loop: show the outcome; on success open the workspace."""
        self.busy = False
        if outcome.kind == "wrong":
            self._set_delay(outcome.retry_after)
            if outcome.retry_after > 0:
                self._show_delay("lock.wrong")
            else:
                self.message = txt("lock.wrong_now")
            return False
        if outcome.kind == "delay":
            self._set_delay(outcome.retry_after)
            self._show_delay("lock.wait")
            return False
        if outcome.kind == "wiped":
            self.message = txt("lock.wiped")
            self.phase = "wiped"
            return False
        self._retry_until = None
        self.seconds_left = 0
        self._open_workspace()
        return True

    def _open_workspace(self) -> None:
        """The store is unlocked (enrolled or PIN accepted): read the idle lock anew, start the
        idle clock, go to work and tell the app."""
        self.message = None
        self._idle_seconds = self._read_idle_lock_seconds()
        self._last_activity = self._clock()
        self.phase = "ready"
        for callback in list(self._on_unlock):
            callback()

    def unlock(self, pin: str) -> bool:
        """All three steps, synchronously (tests, command line)."""
        if not self.begin_unlock(pin):
            return False
        return self.finish_unlock(self.perform_unlock(pin))

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
        """The campaign's idle time; read from the store once per unlock (the one-second
        timer asks every second and must not touch SQLite each time)."""
        if self._idle_seconds is None:
            self._idle_seconds = self._read_idle_lock_seconds()
        return self._idle_seconds

    def _read_idle_lock_seconds(self) -> int:
        campaign = {}
        if self.store is not None:
            try:
                campaign = self.store.get_setting("campaign", {}) or {}
            except Exception:
                campaign = {}
        value = int(campaign.get("idle_lock_seconds") or DEFAULT_IDLE_LOCK_SECONDS)
        sooner = os.environ.get(IDLE_LOCK_ENV, "")
        if sooner.isdigit() and int(sooner) > 0:
            value = min(value, int(sooner))
        return value

    def touch(self) -> None:
        """Any user activity postpones the idle lock."""
        self._last_activity = self._clock()

    def check_idle(self) -> bool:
        """Lock if the campaign's idle time passed without activity; True if it locked."""
        if self.phase == "ready" and self._clock() - self._last_activity >= self.idle_lock_seconds():
            self.lock()
            return True
        return False
