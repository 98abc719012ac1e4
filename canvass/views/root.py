"""The root component of one window: picks the screen from the window's phase; runs the
one-second timer (PIN delay countdown, idle lock, "synced N min ago").

It binds to this window's ``Screen`` only (see canvass.state.screen for why): the shared
session and language reach it through the screen, each change re-rendered in this window's
own context."""

from __future__ import annotations

import asyncio

import flet as ft

from canvass.i18n import t
from canvass.state.screen import Screen
from canvass.views.common import PRIMARY
from canvass.views.enroll import EnrollView
from canvass.views.lock import LockView
from canvass.views.workspace import Workspace


@ft.component
def LanguageSwitch(screen: Screen) -> ft.Control:
    language = screen.app.language
    lang = language.lang
    return ft.TextButton(
        content=t("lang.switch", lang), on_click=lambda _: language.switch(), height=48,
        style=ft.ButtonStyle(color=PRIMARY, text_style=ft.TextStyle(size=16, weight=ft.FontWeight.W_600)),
        tooltip=t("lang.switch_label", lang),
    )


@ft.component
def AppRoot(screen: Screen) -> ft.Control:
    app = screen.app
    session = app.session
    language = app.language
    lang = language.lang
    phase = screen.phase

    async def ticker():
        seconds = 0
        while True:
            await asyncio.sleep(1)
            seconds += 1
            session.tick()
            # Only the window holding the workspace locks it or ages its status: shared
            # state is changed in the owner's context (canvass.state.screen).
            if screen.is_owner:
                app.idle_check()
                if seconds % 30 == 0 and app.status is not None:
                    app.status.minute()

    ticker_task = ft.use_ref(None)

    def start_timer():
        ticker_task.current = asyncio.get_running_loop().create_task(ticker())

    def stop_timer():
        if ticker_task.current is not None:
            ticker_task.current.cancel()

    ft.use_effect(start_timer, [], cleanup=stop_timer)
    page_scroll = ft.use_ref(None)  # the scrolling page: the capture form brings its warning in

    header = ft.Row(
        [ft.Text(t("app.title", lang), size=22, weight=ft.FontWeight.BOLD, color=PRIMARY),
         ft.Row([LanguageSwitch(screen)] + (
             [ft.TextButton(content=t("lock.lock_now", lang), height=48,
                            on_click=lambda _: session.lock(),
                            style=ft.ButtonStyle(color=PRIMARY, text_style=ft.TextStyle(
                                size=16, weight=ft.FontWeight.W_600)))]
             if phase == "ready" else []), spacing=4)],
        alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
    )
    if phase == "enroll":
        body = EnrollView(app.enrollment, language)
    elif phase in ("locked", "wiped", "elsewhere"):
        body = LockView(screen)
    else:
        body = Workspace(app, app.sections, app.capture, app.lines, app.status, language,
                         page_scroll=page_scroll)
    page_scroll.current = ft.Column([header, body], expand=True, spacing=8,
                                    scroll=ft.ScrollMode.AUTO)
    return ft.SafeArea(content=page_scroll.current, expand=True)
