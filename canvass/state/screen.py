"""One window of the app (a browser tab, the phone's view): what it shows and how to reach it.

Every window of a served profile shares one CirculatorApp (one store, one Session), but only
one window may hold the unlocked workspace: the one that unlocked last (the *owner*). Any other
window shows the lock screen ("open in another window") and takes the workspace over with the
PIN; the owner then shows that lock screen itself.

Why each window has an observable of its own: Flet 1.0 schedules a component's re-render on
the session of whoever changed the observable (``context.page``), not on the component's own
session. A Session or Language shared by two tabs and changed from tab 2 would re-render tab
1's components into tab 2's connection, and tab 1 would keep showing the form and its signer
names after the lock. So the window's root binds to its own ``Screen`` only, and the app tells
every screen of a change through ``post``, which runs the change in that window's own
context; shared workspace state is shown and changed by the owner alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from canvass.state.pin_keys import PinKeys

Post = Callable[[Callable[[], None]], None]


@ft.observable
class Screen:
    def __init__(self, app: Any, *, post: Post | None = None,
                 is_current: Callable[[], bool] | None = None) -> None:
        self._app = app
        self._post = post or (lambda fn: fn())
        self._is_current = is_current or (lambda: False)
        self.version = 0  # bumped (in this window's context) when anything it shows changed
        self._pin_keys = PinKeys()  # this window's lock screen (each window types its own)

    @property
    def app(self) -> Any:
        return self._app

    @property
    def is_owner(self) -> bool:
        return self._app.owner is self

    @property
    def phase(self) -> str:
        """``enroll``, ``locked``, ``wiped``, ``ready`` (this window holds the workspace) or
        ``elsewhere`` (the store is unlocked in another window)."""
        phase = self._app.session.phase
        if phase == "ready" and not self.is_owner:
            return "elsewhere"
        return phase

    @property
    def page(self) -> str:
        """What the window shows, in one word: the phase, and in the workspace the section
        open ("ready:B-0001", "ready:" for the section chooser). The view starts a new
        scrolling page, at its top, each time this changes (see canvass.views.root)."""
        phase = self.phase
        if phase != "ready":
            return phase
        return f"ready:{self._app.current_section or ''}"

    @property
    def pin_keys(self) -> PinKeys:
        return self._pin_keys

    @property
    def shows_lock(self) -> bool:
        """The window shows the lock screen's PIN box."""
        return self.phase in ("locked", "elsewhere")

    def is_current(self) -> bool:
        """True while code runs on behalf of this window (its event, its task)."""
        return self._is_current()

    def post(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` in this window's context (on the UI loop)."""
        self._post(fn)

    def changed(self) -> None:
        self.version += 1
