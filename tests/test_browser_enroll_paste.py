"""A pasted enrollment link (issue 18) in headless Chromium at phone size: the link becomes
its code in the same field, and the field shows the code from its start. Before, Flutter
kept the field scrolled to the end of the long link: "DV9ZTFM" of "PCBDV9ZTFM" was shown.

Flutter draws the text on a canvas, so the field is compared as a person sees it: the field
left after the paste looks exactly as it does once Home has brought the code's start into view.
"""

from __future__ import annotations

import pytest
from browser_helpers import box, click_into, open_app, served_app, shot
from playwright.sync_api import expect

from canvass.demo import DemoServer, free_port

pytestmark = pytest.mark.browser
LABEL = "Enrollment code or link"


def test_pasted_link_shows_the_code_from_its_start(tmp_path, chromium):
    server = DemoServer(tmp_path / "server").start()
    try:
        code = server.enroll_code("Paste")
        with served_app(tmp_path / "phone", server.url, free_port()) as url:
            context, page = open_app(chromium, url, 390, 844)
            context.grant_permissions(["clipboard-read", "clipboard-write"])
            field = box(page, LABEL)
            field.wait_for(timeout=60_000)
            click_into(page, "textbox", LABEL)
            page.evaluate("text => navigator.clipboard.writeText(text)", server.enroll_link(code))
            page.keyboard.press("Control+V")  # a real paste, as a person does it
            expect(field).to_have_value(code, timeout=20_000)

            def field_picture() -> bytes:
                # Focus elsewhere first: no caret (it blinks) in the picture.
                click_into(page, "textbox", "Device name")
                page.wait_for_timeout(300)  # the focus ring's animation
                return page.screenshot(clip=field.bounding_box())

            pasted = field_picture()
            shot(page, "enroll-pasted-link")
            click_into(page, "textbox", LABEL)
            page.keyboard.press("Home")
            assert field_picture() == pasted
    finally:
        server.stop()
