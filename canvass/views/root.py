"""The root component: picks the screen from the session phase; runs the one-second timer
(PIN delay countdown, idle lock, "synced N min ago")."""

from __future__ import annotations

import asyncio

import flet as ft

from canvass.i18n import t
from canvass.state.app_state import CirculatorApp
from canvass.state.language import Language
from canvass.state.session import Session
from canvass.views.common import PRIMARY
from canvass.views.enroll import EnrollView
from canvass.views.lock import LockView
from canvass.views.workspace import Workspace


@ft.component
def LanguageSwitch(language: Language) -> ft.Control:
    lang = language.lang
    return ft.TextButton(
        content=t("lang.switch", lang), on_click=lambda _: language.switch(), height=48,
        style=ft.ButtonStyle(color=PRIMARY, text_style=ft.TextStyle(size=16, weight=ft.FontWeight.W_600)),
        tooltip=t("lang.switch_label", lang),
    )


@ft.component
def AppRoot(app: CirculatorApp, session: Session, language: Language) -> ft.Control:
    lang = language.lang

    async def ticker():
        seconds = 0
        while True:
            await asyncio.sleep(1)
            seconds += 1
            session.tick()
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

    header = ft.Row(
        [ft.Text(t("app.title", lang), size=22, weight=ft.FontWeight.BOLD, color=PRIMARY),
         ft.Row([LanguageSwitch(language)] + (
             [ft.TextButton(content=t("lock.lock_now", lang), height=48,
                            on_click=lambda _: session.lock(),
                            style=ft.ButtonStyle(color=PRIMARY, text_style=ft.TextStyle(
                                size=16, weight=ft.FontWeight.W_600)))]
             if session.phase == "ready" else []), spacing=4)],
        alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
    )
    if session.phase == "enroll":
        body = EnrollView(app.enrollment, language)
    elif session.phase in ("locked", "wiped"):
        body = LockView(session, language)
    else:
        body = Workspace(app, app.sections, app.capture, app.lines, app.status, language)
    return ft.SafeArea(
        content=ft.Column([header, body], expand=True, spacing=8, scroll=ft.ScrollMode.AUTO),
        expand=True,
    )
