"""Lock screen: unlock with the PIN; wrong-PIN delays counted down."""

from __future__ import annotations

import flet as ft

from canvass.i18n import t
from canvass.state.language import Language
from canvass.state.session import Session
from canvass.views.common import PRIMARY, button, field, message


@ft.component
def LockView(session: Session, language: Language) -> ft.Control:
    lang = language.lang
    pin, set_pin = ft.use_state("")

    def unlock(_=None):
        value = pin
        set_pin("")
        session.unlock(value)

    if session.phase == "wiped":
        return ft.Column([
            message(session.message.render(lang) if session.message else None),
            button(t("enroll.submit", lang), lambda _: session.restart_enrollment()),
        ], spacing=12)
    return ft.Column([
        ft.Icon(ft.Icons.LOCK, size=48, color=PRIMARY),
        ft.Text(t("lock.title", lang), size=24, weight=ft.FontWeight.BOLD, color=PRIMARY),
        field(t("lock.pin", lang), pin, on_change=lambda e: set_pin(e.control.value), password=True,
              on_submit=unlock, autofocus=True, keyboard=ft.KeyboardType.NUMBER),
        message(session.message.render(lang) if session.message else None),
        button(t("lock.unlock", lang), unlock),
    ], spacing=12, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
