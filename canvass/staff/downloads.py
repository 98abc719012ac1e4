"""Staff exports as real browser downloads (the server side: sync.server.routes.downloads).

The staff app's Python runs on the server; bytes handed to the browser over Flet's websocket
(FilePicker.save_file) arrived only at the next event of the page, and the app said
"downloaded" when nothing had. Instead the app asks the server for a one-time link to the
export (an authenticated POST) and opens it in the same tab: the browser downloads the file
(Content-Disposition: attachment) and the page stays. A same-tab open is no popup, so no
popup blocker stops it although it follows a network call rather than the click itself."""

from __future__ import annotations

import asyncio

import flet as ft

from canvass.intake.state import IntakeClient, IntakeError
from canvass.staff.text import tr

EXPORT_NAMES = ("rejections", "filing", "dashboard")  # sync.server.routes.downloads.EXPORTS


def download_link(client: IntakeClient, export: str, **params: object) -> str:
    """The server's one-time link (a path: /v1/downloads/<token>) to ``export``."""
    body = {"export": export, **{k: v for k, v in params.items() if v is not None}}
    answer = client.request("POST", "/v1/downloads", json=body).json()
    url = answer.get("url", "")
    if not url.startswith("/v1/downloads/"):
        raise IntakeError(tr("intake.err.refused", status="link"))
    return url


def link_address(url: str, origin: str) -> str:
    """Where the browser opens ``url``: on the page's own origin when the server serves this
    app (``origin`` ""), the browser resolves the path against the page; else at ``origin``,
    the API server the app was started for."""
    return f"{origin.rstrip('/')}{url}" if origin else url


class Downloader:
    """One per browser tab: asks for a link and opens it at once."""

    def __init__(self, page: ft.Page, origin: str = "") -> None:
        self.origin = origin
        self.launcher = ft.UrlLauncher()
        page.services.append(self.launcher)

    async def download(self, client: IntakeClient, export: str, file_label: str,
                       **params: object) -> str:
        """Start the download; the text to show (what is true: the browser is downloading
        it, or why not). Raises nothing."""
        try:
            url = await asyncio.to_thread(download_link, client, export, **params)
        except IntakeError as exc:
            return str(exc)
        await self.launcher.launch_url(link_address(url, self.origin), web_only_window_name="_self")
        return tr("download.started", file=file_label)
