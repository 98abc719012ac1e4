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
from canvass.views.workspace import SaveBar, Workspace


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
    # A new scrolling page for each screen (key: Screen.page; the app re-renders the window
    # when the open section changes), starting at its top. Why:
    # Flutter's web engine keeps a scroll view's last offset in its accessibility tree when the
    # view stops being scrollable: after 20 lines on a phone (the page scrolled 161 px), "Other
    # section" left a page too short to scroll, and every node of the section chooser sat 161 px
    # below where it is drawn (measured in Chromium). A click at the serial box's node then
    # landed on "Continue section F-0001" drawn there, and the section just left came back.
    # A screen reader's touch-to-explore would find the same wrong places. A new page has no
    # offset to keep.
    page_scroll.current = ft.Column([header, body], expand=True, spacing=8,
                                    scroll=ft.ScrollMode.AUTO, key=f"page-{screen.page}")
    # The save bar, outside the scrolling page: on a phone the form's own button is below the
    # fold while the person is in the first fields.
    bar = (SaveBar(app, app.sections, app.capture, language) if phase == "ready"
           else ft.Container(height=0))
    return ft.SafeArea(content=ft.Column([page_scroll.current, bar], expand=True, spacing=0),
                       expand=True)
