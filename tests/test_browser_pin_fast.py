"""The PIN and the enrollment's PINs typed like a fast person (issue 21): at 40 ms a key, from
the moment the screen shows, Tab between the two PIN boxes, Enter to finish; no wait for the
focus anywhere. A key lost there is a wrong PIN (a delay before the next try) or PINs that do
not match. The lock screen's box takes the focus a frame or more after "Canvass is locked"
shows: typed from that moment, 4 locks of 18 lost the first digit before the lock screen carried
the PIN's keys (canvass.state.pin_keys); the old code got through twelve locks 1 time in 20."""

from __future__ import annotations

import pytest
from browser_helpers import PIN, box, open_app, served_app, shots_on_failure, wait_text
from typist import KEY_DELAY_MS, type_text

from canvass.demo import DemoServer, free_port

pytestmark = pytest.mark.browser


def test_pins_typed_at_forty_ms_a_key(tmp_path, chromium):
    server = DemoServer(tmp_path / "server").start()
    try:
        code = server.enroll_code("Circulator")
        with served_app(tmp_path / "device", server.url, free_port()) as url, \
                shots_on_failure(chromium, "failure-pin-fast"):
            _, page = open_app(chromium, url, 390, 844)
            code_box = box(page, "Enrollment code or link")
            code_box.wait_for(timeout=60_000)
            code_box.click()
            type_text(page, code, delay=KEY_DELAY_MS)
            # code, past the device's name (optional), the PIN, the PIN again
            for key in ("Tab", "Tab", *PIN, "Tab", *PIN, "Enter"):
                page.keyboard.press(key)
                page.wait_for_timeout(KEY_DELAY_MS)
            box(page, "Section serial number").wait_for(timeout=60_000)
            for _ in range(12):
                page.get_by_role("button", name="Lock", exact=True).click()
                wait_text(page, "Canvass is locked")
                for key in (*PIN, "Enter"):  # as soon as the lock screen shows
                    page.keyboard.press(key)
                    page.wait_for_timeout(KEY_DELAY_MS)
                box(page, "Section serial number").wait_for(timeout=30_000)
    finally:
        server.stop()
