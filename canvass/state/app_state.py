"""The circulator app as one plain-Python object: which screen shows and the state of each.

Views call methods here and bind to the observable parts; nothing here imports a view.
``post(fn)`` runs ``fn`` on the UI loop: the Flet entry sets it to ``page.run_task``-based
marshalling, tests leave the default (call at once). Sync status arrives on the sync thread and
is always posted.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import flet as ft

from canvass.state.capture import ALL_FIELDS, CaptureForm
from canvass.state.draft import keep_draft, take_draft
from canvass.state.enrollment import Enrollment
from canvass.state.language import Language
from canvass.state.lines import SectionLines
from canvass.state.screen import Post, Screen
from canvass.state.sections import Sections
from canvass.state.session import Session
from canvass.state.status import StatusBar
from canvass.state.text import txt

log = logging.getLogger("canvass.app")

# Lifecycle states in which the app is no longer on screen (flet AppLifecycleState values).
BACKGROUND_STATES = frozenset({"hide", "pause", "detach"})
UI_PREFS = "ui.json"  # clear, no personal data: only the UI language


def _read_prefs(profile_dir: Path) -> dict:
    try:
        return json.loads((profile_dir / UI_PREFS).read_text("utf-8"))
    except (OSError, ValueError):
        return {}


@ft.observable
class CirculatorApp:
    def __init__(self, profile_dir: Path, *, server_url: str = "", device_name: str = "",
                 clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 sync_factory: Callable[[Any], Any] | None = None,
                 enroll_fn: Callable[..., Any] | None = None,
                 first_sync: Callable[[Any], bool] | None = None,
                 post: Callable[[Callable[[], None]], None] | None = None) -> None:
        self._profile_dir = Path(profile_dir)
        self._profile_dir.mkdir(parents=True, exist_ok=True)
        self._now = now
        self._sync_factory = sync_factory if sync_factory is not None else default_sync_factory
        self._post = post or (lambda fn: fn())
        self._runner: Any = None
        self._unsubscribe: Callable[[], None] | None = None
        self._last_sync_state = "idle"
        self.language = Language(_read_prefs(self._profile_dir).get("language", "en"),
                                 on_change=self._save_language)
        self.session = Session(self._profile_dir, clock=clock)
        self.enrollment = Enrollment(self.session, server_url=server_url, device_name=device_name,
                                     enroll_fn=enroll_fn, first_sync=first_sync)
        self.sections: Sections | None = None
        self.capture: CaptureForm | None = None
        self.lines: SectionLines | None = None
        self.status: StatusBar | None = None
        self._screens: list[Screen] = []
        self._owner: Screen | None = None
        # Strong references: Observable keeps its listeners in a WeakSet.
        self._tell_screens = lambda _sender, _field: self._fan_out()
        self.session.subscribe(self._tell_screens)
        self.language.subscribe(self._tell_screens)
        self.session.on_unlock(self._open_workspace)
        self.session.on_lock(self._close_workspace)

    def set_post(self, post: Callable[[Callable[[], None]], None]) -> None:
        self._post = post

    # ------------------------------------------------------------------ windows
    def attach_screen(self, *, post: Post | None = None,
                      is_current: Callable[[], bool] | None = None) -> Screen:
        """A new window (browser tab). It shows the lock screen while another window holds
        the unlocked workspace; with no other window it becomes the owner of one already
        unlocked (a reconnecting phone)."""
        screen = Screen(self, post=post, is_current=is_current)
        self._screens.append(screen)
        return screen

    def detach_screen(self, screen: Screen) -> None:
        if screen in self._screens:
            self._screens.remove(screen)
        if self._owner is screen:
            self._owner = None
            self._fan_out()

    @property
    def owner(self) -> Screen | None:
        return self._owner

    def _acting_screen(self) -> Screen | None:
        return next((s for s in self._screens if s.is_current()), None)

    def _set_owner(self, screen: Screen | None) -> None:
        if screen is self._owner:
            return
        self._owner = screen
        self._fan_out()

    def _fan_out(self) -> None:
        """Tell every window that what it shows may have changed, each in its own context."""
        for screen in list(self._screens):
            screen.post(screen.changed)

    def _post_to_owner(self, fn: Callable[[], None]) -> None:
        owner = self._owner
        if owner is not None:
            owner.post(fn)
        else:
            self._post(fn)

    # ------------------------------------------------------------------ language
    def _save_language(self, lang: str) -> None:
        try:
            (self._profile_dir / UI_PREFS).write_text(json.dumps({"language": lang}), "utf-8")
        except OSError:
            log.warning("could not save the UI language")
        store = self.session.store
        if store is not None and store.is_unlocked:
            store.set_setting("language", lang)

    @property
    def lang(self) -> str:
        return self.language.lang

    # ------------------------------------------------------------------ workspace
    def _open_workspace(self) -> None:
        acting = self._acting_screen()
        if self.capture is not None:
            # Another window took the unlocked workspace over with the PIN: the form, with
            # whatever is typed in it, moves to that window as it is.
            self._set_owner(acting)
            return
        self._owner = acting
        store = self.session.store
        self.sections = Sections(store)
        self.capture = CaptureForm.for_store(store, on_saved=self._saved)
        self.lines = SectionLines(store)
        self.status = StatusBar(store, now=self._now)
        self._show_section()
        if self._runner is None:
            self._start_sync(store)
        elif self._runner is not None:
            self.status.apply_sync(self._runner.status)
            self.status.refresh(self.current_section)
            self._runner.sync_now()
        self.restore_draft(take_draft(store))
        self._fan_out()

    def _close_workspace(self) -> None:
        # Keep what was typed for a signer not yet saved (sealed in the store), then drop
        # every object holding typed personal data; the store is about to lock.
        try:
            keep_draft(self.session.store, self.draft())
        except Exception:  # never let a failed draft stop the lock
            log.warning("could not keep the unsaved signer as a draft")
        self._owner = None
        self.capture = None
        self.lines = None
        self.sections = None
        self.status = None

    # ------------------------------------------------------------------ unsaved draft
    def draft(self) -> dict | None:
        """What the capture form holds for a signer not yet saved: ``{"section", "line",
        "values"}`` with the non-empty fields only, or None when nothing is typed."""
        capture = self.capture
        if capture is None or capture.section is None:
            return None
        values = {name: value for name, value in capture.values.items() if value}
        if not values:
            return None
        return {"section": capture.section, "line": capture.line_text, "values": values}

    def restore_draft(self, draft: dict | None) -> None:
        """Put a draft back into the form, in its section, as if it had just been typed."""
        if not draft or self.capture is None or self.sections is None:
            return
        section = draft.get("section")
        if section and section != self.sections.current:
            self.sections.select(section)
            self._show_section()
        if self.capture.section != section:
            return
        if draft.get("line"):
            self.capture.set_line(str(draft["line"]))
        self.capture.restore({name: str(value) for name, value in draft["values"].items()
                              if name in ALL_FIELDS})

    @property
    def current_section(self) -> str | None:
        return self.sections.current if self.sections is not None else None

    def _show_section(self) -> None:
        section = self.current_section
        if self.capture is not None:
            self.capture.start(section)
        if self.lines is not None:
            self.lines.show(section)
        if self.status is not None:
            self.status.refresh(section)

    def _section_changed(self) -> None:
        """The person opened, left or closed a section: the form and lines follow, and the
        owner's window re-renders (its page follows the section: Screen.page). Not when the
        workspace opens: that re-renders every window once it is ready (``_fan_out``)."""
        self._show_section()
        owner = self._owner
        if owner is not None:
            owner.post(owner.changed)

    def start_section(self, serial: str) -> bool:
        self.touch()
        if self.sections is None or not self.sections.start(serial):
            return False
        self._section_changed()
        return True

    def select_section(self, serial: str) -> None:
        self.touch()
        if self.sections is not None:
            self.sections.select(serial)
            self._section_changed()

    def leave_section(self) -> None:
        self.touch()
        if self.sections is not None:
            self.sections.leave()
            self._section_changed()

    def close_section(self, *, dates_gathered: str, place_signed: str) -> bool:
        self.touch()
        if self.sections is None:
            return False
        ok = self.sections.close(dates_gathered=dates_gathered, place_signed=place_signed)
        if ok:
            self._section_changed()
        return ok

    def _saved(self, entry: Any) -> None:
        if self.status is not None:
            self.status.note_saved(entry.line)
        if self.sections is not None:
            self.sections.refresh()
        if self.lines is not None:
            self.lines.refresh()
        if self.status is not None:
            self.status.refresh(self.current_section)
        if self._runner is not None:
            self._runner.sync_now()

    # ------------------------------------------------------------------ activity and lock
    def touch(self) -> None:
        self.session.touch()

    def idle_check(self) -> bool:
        return self.session.check_idle()

    def lifecycle_changed(self, state: str) -> bool:
        """Flet's app lifecycle state (``ft.AppLifecycleState`` value). Leaving the screen (the
        home button, another app, the screen turned off) locks at once, as the idle time does:
        a phone left on a table must not show signers. True if it locked."""
        if state not in BACKGROUND_STATES or self.session.phase != "ready":
            return False
        self.session.lock()
        return True

    def back_pressed(self) -> bool:
        """The phone's Back button or gesture. True lets the app leave the screen (it then locks
        on the lifecycle change and keeps any draft); False keeps it, because a signer is half
        typed: the first Back says so in the form, a second one while that shows leaves."""
        capture = self.capture
        if self.draft() is None or capture is None:
            return True
        if capture.error is not None and capture.error.key == "app.back_unsaved":
            return True
        capture.error = txt("app.back_unsaved")
        return False

    # ------------------------------------------------------------------ sync
    def _start_sync(self, store: Any) -> None:
        runner = self._sync_factory(store)
        if runner is None:
            return
        self._runner = runner
        self._unsubscribe = runner.status.subscribe(self._sync_changed)
        if self.status is not None:
            self.status.apply_sync(runner.status)
        runner.start()

    def _sync_changed(self, status: Any) -> None:
        # On the sync thread: copy what is needed, then update state on the UI loop.
        state = str(status.state)
        self._post_to_owner(lambda: self._apply_sync(status, state))

    def _apply_sync(self, status: Any, state: str) -> None:
        bar = self.status
        if bar is None:
            return
        bar.apply_sync(status)
        if state != "syncing" and self._last_sync_state == "syncing":
            bar.refresh(self.current_section)
            if self.lines is not None:
                self.lines.refresh()
        self._last_sync_state = state

    def sync_now(self) -> None:
        """The "Sync now" button: wakes the sync thread and returns at once (the round, its
        reachability check and its retries all run on that thread, never on the UI loop)."""
        self.touch()
        if self._runner is not None:
            if self.status is not None:
                self.status.ask_sync()  # the runner posts the real state when it knows
            self._runner.sync_now()
        if self.capture is not None:
            # The button took the focus: give it back to the field the circulator was in.
            self.capture.request_focus(self.capture.focus)

    def shutdown(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._runner is not None:
            self._runner.stop(timeout=5)
            self._runner = None
        if self.session.store is not None:
            self.session.store.close()


def default_sync_factory(store: Any, *, interval: float = 30.0) -> Any:
    from canvass.state.device_sync import device_sync_client
    from sync.background import BackgroundSync

    return BackgroundSync(device_sync_client(store, max_attempts=2), interval=interval)
