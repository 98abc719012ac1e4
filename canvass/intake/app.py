"""The office intake app: ``build_intake_main(server_url)`` returns a Flet ``main``.

Serve it as a web app (no CDN) for the office desktop, e.g.::

    ft.run(build_intake_main("http://server:8000"), view=ft.AppView.WEB_BROWSER, no_cdn=True)
"""

from __future__ import annotations

import flet as ft

from canvass.intake.state import IntakeClient, KeyingForm, ReviewState
from canvass.intake.views import CheckInView, ExportView, ImportView, KeyingView, LoginView, ReviewView

PANELS = ("Key lines", "Review", "Check-in", "Import", "Export")


def build_intake_main(server_url: str):
    def main(page: ft.Page) -> None:
        page.title = "Canvass office intake"
        page.theme_mode = ft.ThemeMode.LIGHT
        page.bgcolor = ft.Colors.WHITE
        page.padding = 16
        page.scroll = ft.ScrollMode.AUTO
        client = IntakeClient(server_url)
        picker = ft.FilePicker()
        page.services.append(picker)
        area = ft.Column()
        current: dict = {"review": None}

        def on_key(e: ft.KeyboardEvent) -> None:
            review = current["review"]
            if review is None or e.ctrl or e.alt or e.meta:
                return
            choice = {"D": "duplicate", "N": "not_duplicate", "S": "skip"}.get(e.key.upper())
            if choice:
                page.run_task(review.decide, choice)

        page.on_keyboard_event = on_key

        def show(panel: str) -> None:
            current["review"] = None
            area.controls.clear()
            if panel == "Key lines":
                area.controls.append(KeyingView(KeyingForm(client)))
            elif panel == "Review":
                view = ReviewView(ReviewState(client))
                current["review"] = view
                area.controls.append(view)
                page.update()
                page.run_task(view.load)
                return
            elif panel == "Check-in":
                area.controls.append(CheckInView(client))
            elif panel == "Import":
                area.controls.append(ImportView(client, picker))
            else:
                area.controls.append(ExportView(client, picker))
            page.update()

        def show_login() -> None:
            client.logout()
            current["review"] = None
            page.controls.clear()
            page.add(LoginView(client, show_workspace))

        def show_workspace() -> None:
            page.controls.clear()
            nav = ft.Row([ft.Button(content=name, on_click=lambda _e, n=name: show(n))
                          for name in PANELS]
                         + [ft.TextButton(content="Log out", on_click=lambda _e: show_login())],
                         wrap=True)
            page.add(ft.Text(f"Signed in ({client.role})"), nav, ft.Divider(), area)
            show("Key lines")

        show_login()

    return main
