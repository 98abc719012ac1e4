"""Two tabs on one device profile, the idle lock and the unsaved signer, in headless Chromium
against a real server (issue 21).

The app is served with a 6 s idle lock (CANVASS_IDLE_LOCK_SECONDS: a device may lock sooner
than its campaign says, never later). Tab A enrolls and opens a section; tab B, opened on the
same profile, asks for the PIN instead of showing the form. A types half a signer and stops:
the idle lock falls on both tabs and no signer text stays on either screen. A wrong PIN
submitted with Enter, typed at a person's pace with no wait for the field, says "Wrong PIN";
the right PIN in tab B brings the half-typed signer back there, and tab A says the app is
open in another window.
"""

from __future__ import annotations

import pytest
from browser_helpers import (
    PIN,
    box,
    enroll,
    open_app,
    open_section,
    screen_text,
    served_app,
    shot,
    shots_on_failure,
    wait_text,
)

from canvass.demo import DemoServer, free_port

pytestmark = pytest.mark.browser

IDLE_SECONDS = 6
ELSEWHERE = "open in another window"


def second_tab(context, url):
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=60_000)
    page.evaluate("document.querySelector('flt-semantics-placeholder').click()")
    return page


def type_pin_and_enter(page, pin: str) -> None:
    """As a person does: tap the PIN field, type at a person's pace, press Enter at once."""
    box(page, "PIN").click()
    page.keyboard.type(pin, delay=110)
    page.keyboard.press("Enter")


def test_two_tabs_idle_lock_keeps_the_draft_and_wrong_pin_by_enter_answers(tmp_path, chromium,
                                                                           monkeypatch):
    from playwright.sync_api import expect

    monkeypatch.setenv("CANVASS_IDLE_LOCK_SECONDS", str(IDLE_SECONDS))
    server = DemoServer(tmp_path / "server").start()
    try:
        code = server.enroll_code("Circulator W")
        with served_app(tmp_path / "phone", server.url, free_port()) as url, \
                shots_on_failure(chromium, "failure-windows"):
            ctx, tab_a = open_app(chromium, url, 390, 844)
            enroll(tab_a, code)
            open_section(tab_a, "W-0001")

            # --- a second tab on the same profile asks for the PIN ---
            tab_b = second_tab(ctx, url)
            wait_text(tab_b, ELSEWHERE)
            assert tab_b.get_by_text("Signer on line").count() == 0
            shot(tab_b, "tab-b-elsewhere")

            # --- tab A types half a signer, then the person walks away ---
            tab_a.keyboard.type("Rosalind", delay=110)
            expect(box(tab_a, "First name")).to_have_value("Rosalind", timeout=20_000)
            wait_text(tab_a, "Canvass is locked", timeout=IDLE_SECONDS * 1000 + 20_000)
            wait_text(tab_b, "Canvass is locked")
            for tab in (tab_a, tab_b):
                assert not any("Rosalind" in text for text in screen_text(tab))
                assert tab.get_by_text("Signer on line").count() == 0
            shot(tab_a, "tab-a-idle-locked")

            # --- a wrong PIN submitted with Enter answers ---
            type_pin_and_enter(tab_a, "111111")
            wait_text(tab_a, "Wrong PIN. Try again.")
            shot(tab_a, "tab-a-wrong-pin-enter")

            # --- the right PIN in tab B: the half-typed signer is back, there ---
            type_pin_and_enter(tab_b, PIN)
            wait_text(tab_b, "Signer on line 1")
            expect(box(tab_b, "First name")).to_have_value("Rosalind", timeout=20_000)
            wait_text(tab_a, ELSEWHERE)
            assert not any("Rosalind" in text for text in screen_text(tab_a))
            shot(tab_b, "tab-b-draft-restored")
    finally:
        server.stop()
