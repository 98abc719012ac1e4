"""The staff page needs no internet (issue 18): /app/ loads and logs in with every request to a
host other than loopback refused, and no request leaves loopback."""

from __future__ import annotations

import os
import uuid
from urllib.parse import urlsplit

import pytest
from browser_helpers import CHROMIUM, CHROMIUM_ARGS, goto_app, log_in, require_chromium, shot
from dashboard_helpers import dashboard_server, seed_drive

from canvass.staff.web_assets import RIVE_DIR

pytestmark = pytest.mark.browser

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def test_staff_page_loads_with_no_outside_network(tmp_path):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    with dashboard_server(f"sqlite:///{tmp_path / 'server.db'}", staff_web=True) as server:
        seed_drive(server)
        admin = f"director-{uuid.uuid4().hex[:6]}"
        server.add_user(admin, "pw-director-pass", role="admin")
        outside: list[str] = []

        def guard(route):
            parts = urlsplit(route.request.url)
            if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOOPBACK:
                outside.append(f"{parts.scheme}://{parts.hostname}{parts.path}")
                return route.abort("internetdisconnected")
            return route.continue_()

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                context.route("**/*", guard)
                page = context.new_page()
                rive: list[tuple[str, int]] = []
                page.on("response", lambda r: rive.append((urlsplit(r.url).path, r.status))
                        if "rive_native" in r.url else None)
                goto_app(page, f"{server.url}/app/")
                log_in(page, admin, "pw-director-pass")
                expect(page.get_by_text("Signed in as")).to_be_attached(timeout=60_000)
                expect(page.get_by_text("Raw entries: 14", exact=True)).to_be_attached(
                    timeout=60_000)
                shot(page, "staff-offline")
                if os.environ.get("CI") == "true" or (RIVE_DIR / "wasm" / "rive_native.js").exists():
                    # The Rive runtime the client asks for comes from this server.
                    assert ("/app/rive-wasm/wasm/rive_native.js", 200) in rive, rive
            finally:
                browser.close()
        assert outside == [], f"the staff page asked outside hosts for {outside}"


def test_entry_files_name_no_cdn_and_keep_their_length():
    from canvass.staff.web_assets import ENTRY_FILES, RIVE_CDN, local_rive_base, patched_entry

    assert len(local_rive_base()) == len(RIVE_CDN)
    for name in ENTRY_FILES:
        data = patched_entry(name)
        assert RIVE_CDN not in data and b"cdn.jsdelivr.net" not in data, name
        assert local_rive_base() in data, name  # the base flet-web compiled in is still there
