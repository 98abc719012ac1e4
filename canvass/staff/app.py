"""The Flet entry for staff: ``staff_main(page)`` (served by the central server at /app, see
sync/server/staff_web.py) or ``build_staff_main(server_url)`` for another server.

The dashboard refreshes itself every REFRESH_SECONDS in the background; the HTTP calls run in
a worker thread and the controls are updated in place afterwards."""

from __future__ import annotations

import asyncio
import os
from urllib.parse import urlsplit

import flet as ft

from canvass.staff.dashboard_state import DashboardState
from canvass.staff.dashboard_view import DashboardView
from canvass.staff.login_state import StaffLogin
from canvass.staff.login_view import LoginView

REFRESH_SECONDS = float(os.environ.get("CANVASS_DASHBOARD_REFRESH", "30"))
ENV_SERVER_URL = "CANVASS_STAFF_SERVER_URL"


def _origin(page: ft.Page) -> str:
    url = os.environ.get(ENV_SERVER_URL, "")
    if url:
        return url
    try:
        parts = urlsplit(page.url or "")
    except Exception:
        parts = None
    # Served through FastAPI, page.url is the websocket's URL (ws://host:port/app).
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme) if parts else ""
    if scheme in ("http", "https") and parts.netloc:
        return f"{scheme}://{parts.netloc}"
    return "http://127.0.0.1:8000"


def build_staff_main(server_url: str | None = None):
    def main(page: ft.Page) -> None:
        page.title = "Canvass staff"
        page.theme_mode = ft.ThemeMode.LIGHT
        page.bgcolor = ft.Colors.WHITE
        page.padding = 16
        login = StaffLogin(server_url or _origin(page))
        generation = {"n": 0}

        def show_login() -> None:
            generation["n"] += 1  # stops the refresh loop of a previous dashboard
            login.logout()
            page.controls.clear()
            page.add(LoginView(login, show_dashboard))

        def show_dashboard() -> None:
            generation["n"] += 1
            mine = generation["n"]
            state = DashboardState(login)
            picker = ft.FilePicker()
            page.services.append(picker)

            async def export() -> None:
                data = await asyncio.to_thread(state.export_csv)
                await picker.save_file(file_name="dashboard.csv", src_bytes=data)

            view = DashboardView(state, on_logout=show_login,
                                 on_export=lambda: page.run_task(export))

            async def refresh_once() -> None:
                await asyncio.to_thread(state.refresh)
                if generation["n"] == mine:
                    view.show()
                    page.update()

            async def loop() -> None:
                while generation["n"] == mine:
                    await refresh_once()
                    await asyncio.sleep(REFRESH_SECONDS)

            view.on_refresh(lambda: page.run_task(refresh_once))
            page.controls.clear()
            page.add(view)
            page.run_task(loop)

        show_login()

    return main


def staff_main(page: ft.Page) -> None:
    build_staff_main()(page)


if __name__ == "__main__":
    ft.run(staff_main, view=ft.AppView.WEB_BROWSER, no_cdn=True)
