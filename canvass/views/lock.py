"""Lock screen: unlock with the PIN; wrong-PIN delays counted down. In a window opened while
another holds the unlocked workspace it says so, and the PIN moves the workspace here.

The PIN check (Argon2) runs in a worker thread: the event loop it would otherwise block
serves every session of the app."""

from __future__ import annotations

import asyncio

import flet as ft

from canvass.i18n import t
from canvass.state.screen import Screen
from canvass.views.common import DANGER, PRIMARY, button, field, message, submitted_text, use_text


@ft.component
def LockView(screen: Screen) -> ft.Control:
    session = screen.app.session
    lang = screen.app.language.lang
    pin, on_pin, current_pin, clear_pin = use_text()
    keys = screen.pin_keys
    drawn = ft.use_ref(False)
    if not drawn.current:  # the screen has just come: keys from now on are the PIN's
        drawn.current = True
        keys.start()

    async def unlock(typed: str):
        value = keys.entered(typed)  # with any first keys the box never got
        clear_pin()
        keys.start()
        if not session.begin_unlock(value):
            return
        outcome = await asyncio.to_thread(session.perform_unlock, value)
        session.finish_unlock(outcome)

    async def unlock_typed(event):
        await unlock(submitted_text(event, current_pin))

    async def unlock_clicked(_):
        await unlock(current_pin())

    if screen.phase == "wiped":
        return ft.Column([
            message(session.message.render(lang) if session.message else None),
            button(t("enroll.submit", lang), lambda _: session.restart_enrollment()),
        ], spacing=12)
    note = session.message.render(lang) if session.message else None
    if note is None and screen.phase == "elsewhere":
        note = t("lock.elsewhere", lang)
    return ft.Column([
        ft.Icon(ft.Icons.LOCK, size=48, color=PRIMARY),
        ft.Text(t("lock.title", lang), size=24, weight=ft.FontWeight.BOLD, color=PRIMARY),
        field(t("lock.pin", lang), pin, on_change=on_pin, password=True,
              on_submit=unlock_typed, autofocus=True, keyboard=ft.KeyboardType.NUMBER),
        message(note, color=PRIMARY if session.busy or session.message is None else DANGER),
        ft.ProgressRing(visible=session.busy, width=32, height=32),
        button(t("lock.unlocking", lang) if session.busy else t("lock.unlock", lang),
               unlock_clicked,
               disabled=session.busy),
    ], spacing=12, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
