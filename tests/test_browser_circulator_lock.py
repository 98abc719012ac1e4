"""The lock screen and a correction, in headless Chromium against a real server (issue 5).

One phone: enroll, open a section, save a line; lock with the Lock button; wrong PINs show
"Wrong PIN" and, from the third, the delay counted down; the right PIN unlocks (Argon2 runs
off the UI loop, so "Unlocking..." shows while it runs and the page stays live); then the
saved line is corrected (the correction supersedes it) and the lines list says so.
"""

from __future__ import annotations

import re

import pytest
from browser_helpers import (
    PIN,
    box,
    click_into,
    enroll,
    fill,
    open_app,
    open_section,
    scroll_to,
    served_app,
    shot,
    shots_on_failure,
    type_signer,
    wait_focus,
    wait_text,
)

from canvass.demo import DemoServer, free_port

pytestmark = pytest.mark.browser

SIGNER = {"first_name": "Rosa", "last_name": "Parks", "street": "12 Cleveland Ave", "zip": "90012"}


def readable(page, pattern):
    """Text on screen, whether Flutter exposes it as a text node or as a node's label (a list
    tile merges its lines into one labelled node)."""
    return page.get_by_text(pattern).or_(page.get_by_label(pattern))


def unlock_with(page, pin: str) -> None:
    """Type the PIN as a person does: into the settled focus, key by key, then Enter once the
    field shows it (a key or an Enter sent while Flutter still moves the focus is lost)."""
    from playwright.sync_api import expect

    field = box(page, "PIN")
    click_into(page, "textbox", "PIN")
    field.fill("")
    page.keyboard.type(pin, delay=25)
    expect(field).to_have_value(pin, timeout=20_000)
    page.keyboard.press("Enter")


def test_lock_wrong_pin_delay_unlock_and_correct_a_line(tmp_path, chromium):
    server = DemoServer(tmp_path / "server").start()
    try:
        code = server.enroll_code("Circulator L")
        with served_app(tmp_path / "phone", server.url, free_port()) as url, \
                shots_on_failure(chromium, "failure-lock"):
            _, phone = open_app(chromium, url, 390, 844)
            enroll(phone, code)
            open_section(phone, "L-0001")
            type_signer(phone, SIGNER)
            wait_text(phone, "Saved line 1")
            wait_text(phone, "Pending upload: 0", timeout=60_000)

            # --- lock, then wrong PINs: free tries, then a delay counted down ---
            phone.get_by_role("button", name="Lock").click()
            wait_text(phone, "Canvass is locked")
            assert phone.get_by_text("Signer on line").count() == 0  # no personal data shown
            unlock_with(phone, "111111")
            wait_text(phone, "Wrong PIN. Try again.")
            unlock_with(phone, "222222")
            wait_text(phone, "Wrong PIN. Try again.")
            unlock_with(phone, "333333")  # the third failure costs a wait
            phone.get_by_text(re.compile(r"Wrong PIN\. Try again in \d+ s")).first.wait_for(timeout=20_000)
            shot(phone, "phone-lock-delay")
            wait_text(phone, "Wrong PIN. Try again.")  # the countdown reached zero

            # --- the right PIN unlocks, back where the circulator was ---
            unlock_with(phone, PIN)
            wait_text(phone, "Signer on line 2")
            wait_focus(phone, "First name")
            wait_text(phone, "This section: 1")

            # --- correct line 1: the correction supersedes the saved line ---
            scroll_to(phone, phone.get_by_role("button", name="Correct line 1")).click()
            wait_text(phone, "Correcting line 1")
            fill(phone, "First name", "Rosalind")
            scroll_to(phone, phone.get_by_role("button", name=re.compile(r"^Save line 1"))).click()
            wait_text(phone, "Corrected line 1")
            scroll_to(phone, readable(phone, re.compile(r"Line 1: Rosalind P\.")))
            scroll_to(phone, readable(phone, re.compile(r"Line 1: Rosa P\.: Corrected")))
            wait_text(phone, "Pending upload: 0", timeout=60_000)
            shot(phone, "phone-corrected")
    finally:
        server.stop()
