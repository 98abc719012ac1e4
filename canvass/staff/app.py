"""The one staff web app: ``staff_main(page)`` (served by the central server at /app, see
canvass/staff/web_mount.py) or ``build_staff_main(server_url)`` for another server.

One login (canvass.staff.login_state.StaffLogin), then a navigation by role
(``login_state.PANELS_BY_ROLE``): an admin has the dashboard and every office intake panel,
a team lead the dashboard, an intake clerk the intake panels but the filing export.

The dashboard refreshes itself every REFRESH_SECONDS in the background while it is open; the
HTTP calls run in a worker thread and the controls are updated in place afterwards. In the
review panel the keys D / N / S decide duplicate / not a duplicate / skip, and U undoes the
last decision."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable

import flet as ft

from canvass.intake.state import IntakeClient, KeyingForm, ReviewState
from canvass.intake.views import CheckInView, ExportView, ImportView, KeyingView, ReviewView
from canvass.staff.dashboard_state import DashboardState
from canvass.staff.dashboard_view import DashboardView
from canvass.staff.downloads import Downloader
from canvass.staff.login_state import DASHBOARD, StaffLogin
from canvass.staff.login_view import LoginView
from canvass.staff.text import tr

REFRESH_SECONDS = float(os.environ.get("CANVASS_DASHBOARD_REFRESH", "30"))
ENV_SERVER_URL = "CANVASS_STAFF_SERVER_URL"
REVIEW_KEYS = {"D": "duplicate", "N": "not_duplicate", "S": "skip"}
UNDO_KEY = "U"  # undo this staff member's last review decision

# Flet logs every message between the browser and Python at DEBUG (flet_transport) and every
# control patch (flet_object_patch): the intake screens carry signers' names and addresses, so
# those two loggers never go below INFO, even when an operator turns DEBUG on.
for _name in ("flet_transport", "flet_object_patch"):
    _logger = logging.getLogger(_name)
    if _logger.getEffectiveLevel() < logging.INFO or _logger.level == logging.NOTSET:
        _logger.setLevel(logging.INFO)


DEFAULT_SERVER_URL = "http://127.0.0.1:8000"  # canvass-server serve's default address


def _server_url(own_url: Callable[[], str]) -> str:
    """The API address from configuration: CANVASS_STAFF_SERVER_URL, else the address of the
    server that mounts this app, else the CLI's default. Never the page's URL: that is built
    from the request's Host header, which whoever sends the request chooses (a rewritten Host
    sent a login with its password to another listener)."""
    return os.environ.get(ENV_SERVER_URL, "") or own_url() or DEFAULT_SERVER_URL


class StaffSession:
    """One browser tab: the login, the open panel, and the page it draws on."""

    def __init__(self, page: ft.Page, login: StaffLogin, download_origin: str = "") -> None:
        self.page, self.login = page, login
        self.generation = 0  # a new panel or a logout stops the dashboard's refresh loop
        self.review: ReviewView | None = None
        self.client: IntakeClient | None = None
        # The import panel outlives a visit to another panel: its result and rejected rows stay
        # until the clerk chooses another file (a new login starts without one).
        self.import_view: ImportView | None = None
        self.picker = ft.FilePicker()
        page.services.append(self.picker)
        self.downloader = Downloader(page, download_origin)
        self.area = ft.Container(expand=True)
        self.nav = ft.Row(wrap=True, spacing=8, run_spacing=8)
        self.current = ""
        self.key_queue: tuple[str, list[int]] | None = None  # lines the check-in panel sends to key
        self.keying: KeyingView | None = None  # the open keying form: it hears every key
        page.on_keyboard_event = self._on_key

    # ---- login and logout -------------------------------------------------------------
    def show_login(self) -> None:
        self.generation += 1
        self.review = self.client = self.import_view = self.keying = None
        self.current = ""
        self.login.logout()
        self.page.controls.clear()
        self.page.add(LoginView(self.login, self.show_workspace))

    async def _log_out(self, _e=None) -> None:
        # The server ends the session (POST /v1/auth/logout) before the login view returns; in
        # a worker thread, since served by the central server this loop must answer the call.
        await asyncio.to_thread(self.login.logout)
        self.show_login()

    def show_workspace(self) -> None:
        login = self.login
        self.client = IntakeClient(login.server_url, token=login.token, role=login.role,
                                   http=login.http)
        who = ft.Text(tr("signed_in", user=login.username, role=tr(f"role.{login.role}")),
                      size=13, color=ft.Colors.GREY_800)
        header = ft.Row([
            ft.Text(tr("title"), size=20, weight=ft.FontWeight.BOLD),
            ft.Row([who, ft.OutlinedButton(content=tr("logout"), on_click=self._log_out)],
                   wrap=True, spacing=12),
        ], alignment=ft.MainAxisAlignment.SPACE_BETWEEN, wrap=True)
        rows: list[ft.Control] = [header]
        if len(login.panels) > 1:
            rows.append(self.nav)
        rows += [ft.Divider(height=1), self.area]
        self.page.controls.clear()
        self.page.add(ft.Column(rows, expand=True, spacing=8))
        self.show(login.panels[0])

    # ---- navigation -------------------------------------------------------------------
    def _fill_nav(self) -> None:
        buttons: list[ft.Control] = []
        for name in self.login.panels:
            kind = ft.FilledButton if name == self.current else ft.OutlinedButton
            buttons.append(kind(content=tr(f"panel.{name}"),
                                on_click=lambda _e, n=name: self.show(n)))
        self.nav.controls = buttons

    def show(self, panel: str) -> None:
        if panel not in self.login.panels or self.client is None:
            return
        self.generation += 1
        self.review = self.keying = None
        self.current = panel
        self._fill_nav()
        if panel == DASHBOARD:
            self.area.content = self._dashboard()
            self.page.update()
            return
        client = self.client
        if panel == "Key lines":
            form = KeyingForm(client)
            if self.key_queue is not None:
                form.key_lines(*self.key_queue)
                self.key_queue = None
            self.keying = KeyingView(form)
            view: ft.Control = self.keying
        elif panel == "Review":
            view = self.review = ReviewView(ReviewState(client))
        elif panel == "Check-in":
            view = CheckInView(client, on_key_lines=self.key_lines)
        elif panel == "Import":
            if self.import_view is None:
                self.import_view = ImportView(client, self.picker, self.downloader)
            view = self.import_view
        else:
            view = ExportView(client, self.downloader)
        self.area.content = ft.Column([view], scroll=ft.ScrollMode.AUTO, expand=True)
        self.page.update()
        if self.review is not None:
            self.page.run_task(self.review.load)

    def key_lines(self, serial: str, lines: list[int]) -> None:
        """From the check-in panel: open the keying form on a section's unkeyed paper lines."""
        self.key_queue = (serial, list(lines))
        self.show("Key lines")

    def _on_key(self, e: ft.KeyboardEvent) -> None:
        if self.keying is not None:
            self.keying.key_pressed(e.key or "", bool(e.shift))
        review = self.review
        if review is None or e.ctrl or e.alt or e.meta:
            return
        key = (e.key or "").upper()
        if key == UNDO_KEY:
            self.page.run_task(review.undo)
            return
        choice = REVIEW_KEYS.get(key)
        if choice:
            self.page.run_task(review.decide, choice)

    # ---- the dashboard ----------------------------------------------------------------
    def _dashboard(self) -> DashboardView:
        mine = self.generation
        state = DashboardState(self.login)

        async def export() -> None:
            if self.client is not None:
                view.show_notice(await self.downloader.download(
                    self.client, "dashboard", "dashboard.csv", trials=state.trials))

        view = DashboardView(state, on_export=lambda: self.page.run_task(export))

        async def refresh_once() -> None:
            await asyncio.to_thread(state.refresh)
            if self.generation == mine:
                view.show()
                self.page.update()

        async def loop() -> None:
            while self.generation == mine:
                await refresh_once()
                await asyncio.sleep(REFRESH_SECONDS)

        view.on_refresh(lambda: self.page.run_task(refresh_once))
        self.page.run_task(loop)
        return view


def build_staff_main(server_url: str | None = None, *, own_url: Callable[[], str] = str,
                     same_origin: bool = False):
    """``same_origin``: the API server serves this app too (canvass.staff.web_mount), so the
    browser opens download links on the page's own origin; else at the API's address."""

    def main(page: ft.Page) -> None:
        page.title = tr("title")
        page.theme_mode = ft.ThemeMode.LIGHT
        page.bgcolor = ft.Colors.WHITE
        page.padding = 16
        api = server_url or _server_url(own_url)
        StaffSession(page, StaffLogin(api), "" if same_origin else api).show_login()

    return main


def staff_main(page: ft.Page) -> None:
    build_staff_main()(page)


if __name__ == "__main__":
    ft.run(staff_main, view=ft.AppView.WEB_BROWSER, no_cdn=True)
