"""Staff login view: username, password, a Log in button and a message line."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import flet as ft

from canvass.staff.login_state import LoginError, StaffLogin
from canvass.staff.text import tr


class LoginView(ft.Column):
    def __init__(self, login: StaffLogin, on_success: Callable[[], None]) -> None:
        self._login, self._on_success = login, on_success
        self.username = ft.TextField(label=tr("login.username"), autofocus=True, width=360,
                                     on_submit=self._submit)
        self.password = ft.TextField(label=tr("login.password"), password=True, can_reveal_password=True,
                                     width=360, on_submit=self._submit)
        self.message = ft.Text("", color=ft.Colors.RED_800)
        self.button = ft.Button(content=tr("login.submit"), on_click=self._submit)
        super().__init__(controls=[
            ft.Text(tr("title"), size=26, weight=ft.FontWeight.BOLD),
            ft.Text(tr("login.intro")),
            self.username, self.password, self.button, self.message,
        ], spacing=14)

    async def _submit(self, _e=None) -> None:
        # Async, and the HTTP call in a worker thread: Flet runs handlers on the event loop,
        # which (served by the central server) is the very loop that must answer the login.
        self.button.disabled = True
        self.message.value = ""
        self.update()
        try:
            await asyncio.to_thread(self._login.login, self.username.value or "",
                                    self.password.value or "")
        except LoginError as exc:
            self.message.value = str(exc)
        else:
            self.password.value = ""
            if self._login.panels:
                self._on_success()
                return
            self.message.value = tr("login.nothing")
            await asyncio.to_thread(self._login.logout)
        finally:
            self.button.disabled = False
        self.update()
