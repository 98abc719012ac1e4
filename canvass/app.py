"""The Flet entry of the circulator app: ``build_main(profile_dir, server_url)`` returns the
``main(page)`` that ``ft.run`` serves. One profile directory holds one device's encrypted
store; every browser session of a served app shares it (one device = one circulator)."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flet as ft

from canvass.state.app_state import CirculatorApp
from canvass.views import AppRoot
from canvass.views.common import PRIMARY

log = logging.getLogger("canvass.app")

_apps: dict[Path, CirculatorApp] = {}
_apps_lock = threading.Lock()


def app_for_profile(profile_dir: Path, server_url: str = "", **kwargs: Any) -> CirculatorApp:
    """One CirculatorApp per profile directory (a store file must have one owner)."""
    key = Path(profile_dir).resolve()
    with _apps_lock:
        app = _apps.get(key)
        if app is None:
            app = CirculatorApp(key, server_url=server_url, **kwargs)
            _apps[key] = app
        return app


def shutdown_all() -> None:
    with _apps_lock:
        apps = list(_apps.values())
        _apps.clear()
    for app in apps:
        app.shutdown()


def build_main(profile_dir: Path, server_url: str = "", **kwargs: Any) -> Callable[[ft.Page], None]:
    def main(page: ft.Page) -> None:
        app = app_for_profile(profile_dir, server_url, **kwargs)
        loop = asyncio.get_running_loop()
        page.title = "Canvass"
        page.theme_mode = ft.ThemeMode.LIGHT
        page.bgcolor = ft.Colors.WHITE
        page.padding = 12
        page.theme = ft.Theme(color_scheme_seed=PRIMARY)

        async def _run(fn: Callable[[], None]) -> None:
            fn()

        def is_current() -> bool:
            """True while code runs on behalf of this page (its event, its task)."""
            try:
                return ft.context.page is page
            except RuntimeError:
                return False

        def post(fn: Callable[[], None]) -> None:
            """Run ``fn`` on the event loop, in this page's context. Called from the sync
            thread (status changes), from worker threads and from another page's events
            (a lock there must re-render this page): state and controls are only ever changed
            on the loop, and Flet re-renders on the session of the context that made the
            change, so it must be this page's."""
            if loop.is_closed():
                return
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop and is_current():
                fn()
                return
            # page.run_task sets the *calling* context's page: run it in a copy, so the
            # caller (another page's handler) keeps its own.
            try:
                contextvars.copy_context().run(page.run_task, _run, fn)
            except Exception:  # the session is between connections: apply it anyway
                loop.call_soon_threadsafe(fn)

        def lifecycle(event: ft.AppLifecycleStateChangeEvent) -> None:
            app.lifecycle_changed(event.state.value)

        async def back(event: ft.ControlEvent) -> None:
            # Android's Back on the only view would close the app with a signer half typed.
            await event.control.confirm_pop(app.back_pressed())

        def keyboard(event: ft.KeyboardEvent) -> None:
            # Every key, whichever field has the focus or none: the capture form carries the
            # keys typed while its focus moves (canvass.state.carry), the lock screen the PIN
            # typed before its box held the focus (canvass.state.pin_keys).
            if screen.shows_lock:
                screen.pin_keys.key(event.key, event.shift)
                return
            capture = app.capture
            if capture is not None and screen.is_owner:
                capture.key_pressed(event.key, event.shift)

        screen = app.attach_screen(post=post, is_current=is_current)
        app.set_post(post)  # for sync news while no window holds the workspace
        page.on_close = lambda _: app.detach_screen(screen)
        page.on_app_lifecycle_state_change = lifecycle
        page.on_keyboard_event = keyboard
        page.views[0].can_pop = False  # every Back asks back_pressed (on_confirm_pop) first
        page.views[0].on_confirm_pop = back
        page.render(AppRoot, screen)

    return main
