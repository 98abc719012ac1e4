"""First run: server address, enrollment code or link, device name, PIN twice."""

from __future__ import annotations

import asyncio

import flet as ft

from canvass.i18n import t
from canvass.state.enrollment import Enrollment
from canvass.state.language import Language
from canvass.views.common import PRIMARY, button, field, message, submitted_text


@ft.component
def EnrollView(enrollment: Enrollment, language: Language) -> ft.Control:
    lang = language.lang
    e = enrollment
    # A pasted link becomes its code in the same field; Flutter kept the field scrolled to
    # the link's end, so the code showed its tail ("DV9ZTFM" of "PCBDV9ZTFM"). A fresh field
    # (a new key) shows the code from its start.
    pastes, set_pastes = ft.use_state(0)

    def err(name: str) -> str | None:
        text = e.errors.get(name)
        return text.render(lang) if text else None

    def setter(name: str):
        def handler(ev):
            typed = ev.control.value or ""
            e.typed(name, typed)  # no redraw per key (canvass.state.enrollment)
            if name == "code" and e.code != typed.strip():
                set_pastes(pastes + 1)
        return handler

    async def submit(_=None):
        if e.busy or not e.prepare():
            return
        outcome = await asyncio.to_thread(e.perform)
        e.apply(outcome)

    async def submit_pin2(ev):
        e.pin2 = submitted_text(ev, lambda: e.pin2)
        await submit()

    return ft.Column([
        ft.Text(t("enroll.title", lang), size=24, weight=ft.FontWeight.BOLD, color=PRIMARY),
        ft.Text(t("enroll.intro", lang), size=16),
        field(t("enroll.server", lang), e.server_url, on_change=setter("server_url"),
              error=err("server_url"), keyboard=ft.KeyboardType.URL),
        field(t("enroll.code", lang), e.code, on_change=setter("code"), error=err("code"),
              autofocus=True, key=f"code-{pastes}"),
        field(t("enroll.device_name", lang), e.device_name, on_change=setter("device_name")),
        # No "show the PIN" eye here: it is a Tab stop between the two boxes, and the PIN
        # typed again after one Tab went to the eye (a fast typist's PINs never matched);
        # typing it twice is the check. The lock screen, one box and Enter, keeps its eye.
        field(t("enroll.pin", lang), e.pin, on_change=setter("pin"), password=True, reveal=False,
              error=err("pin"), keyboard=ft.KeyboardType.NUMBER),
        field(t("enroll.pin2", lang), e.pin2, on_change=setter("pin2"), password=True,
              reveal=False, error=err("pin2"), keyboard=ft.KeyboardType.NUMBER,
              on_submit=submit_pin2),
        message(e.message.render(lang) if e.message else None),
        ft.ProgressRing(visible=e.busy, width=32, height=32),
        button(t("enroll.busy", lang) if e.busy else t("enroll.submit", lang), submit,
               disabled=e.busy),
    ], spacing=12)
