"""Serve the staff views (canvass.staff) from the central server at /app, with every web asset
local (no_cdn=True: a campaign office needs nothing installed and no CDN).

    from sync.server.staff_web import mount_staff_app
    mount_staff_app(app)          # in create_app, after the routers

Flet is imported here only, so a server without the staff views never loads it."""

from __future__ import annotations

from fastapi import FastAPI

STAFF_PATH = "/app"


def mount_staff_app(app: FastAPI, path: str = STAFF_PATH, server_url: str | None = None) -> None:
    import flet_web.fastapi as flet_fastapi

    from canvass.staff.app import build_staff_main

    staff = flet_fastapi.app(build_staff_main(server_url), no_cdn=True)
    app.mount(path, staff)
