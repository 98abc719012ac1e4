"""Serve the staff views (canvass.staff) from the central server at /app, with every web asset
local (no_cdn=True: a campaign office needs nothing installed and no CDN).

The server never imports this module by name (nothing of the app is in sync.server's import
closure): pyproject.toml declares ``mount_staff_app`` in the ``canvass.server_mounts`` entry
point group, and sync.server.app.create_app mounts what that group lists, last, after the API
routers. Flet is imported here only, so a server without canvass installed never loads it."""

from __future__ import annotations

from typing import Any

STAFF_PATH = "/app"


def mount_staff_app(app: Any, path: str = STAFF_PATH, server_url: str | None = None) -> None:
    import flet_web.fastapi as flet_fastapi

    from canvass.staff.app import build_staff_main
    from canvass.staff.web_assets import serve_local_web_assets

    # The API address comes from the server's own settings (app.state.own_url, read when a
    # page opens: ServerThread learns its port only once bound), never from a request.
    staff = flet_fastapi.app(build_staff_main(
        server_url, own_url=lambda: getattr(app.state, "own_url", ""), same_origin=True),
        no_cdn=True)
    serve_local_web_assets(app, path)  # before the mount: these routes must match first
    app.mount(path, staff)
