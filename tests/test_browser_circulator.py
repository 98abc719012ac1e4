"""The circulator app in headless Chromium against a real server (issue 5).

Two devices (two profiles, two app processes, two browser contexts): a phone (390x844) and a
tablet (820x1180). Enroll, set a PIN, open a section, enter 5 signers by keyboard alone (Tab
moves, Enter saves), see the duplicate warning for a repeat signer on the second device before
anything is saved and save it with a second Enter, go offline (server stopped),
keep entering, come back online and see pending drop to 0. Screenshots in test-artifacts/.
"""

from __future__ import annotations

import pytest
from browser_helpers import (
    enroll,
    open_app,
    open_section,
    served_app,
    shot,
    shots_on_failure,
    type_signer,
    wait_text,
)

from canvass.demo import DemoServer, free_port

pytestmark = pytest.mark.browser

SIGNERS = [
    {"first_name": "Maria", "last_name": "Lopez", "street": "123 North Main Street", "zip": "90012"},
    {"first_name": "John", "middle_name": "Q", "last_name": "Smith", "street": "45 Elm St",
     "unit": "4B", "zip": "90401"},
    {"first_name": "Aiko", "last_name": "Tanaka", "street": "7 Ocean Ave", "zip": "90802"},
    {"first_name": "Luis", "last_name": "Garcia", "suffix": "Jr", "street": "900 Sunset Blvd",
     "zip": "90028"},
    {"first_name": "Grace", "last_name": "Kim", "street": "31 Pine St", "zip": "91101"},
]
LATER = [
    {"first_name": "Omar", "last_name": "Haddad", "street": "12 Oak St", "zip": "90004"},
    {"first_name": "Nina", "last_name": "Petrov", "street": "88 Vine St", "zip": "90038"},
]
AFTER_CLICK = {"first_name": "Ines", "last_name": "Duarte", "street": "5 Figueroa St", "zip": "90015"}


def test_two_devices_capture_dedup_offline_and_catch_up(tmp_path, chromium):
    server = DemoServer(tmp_path / "server").start()
    try:
        code_a, code_b = server.enroll_code("Circulator A"), server.enroll_code("Circulator B")
        port_a, port_b = free_port(), free_port()
        with served_app(tmp_path / "phone", server.url, port_a) as url_a, \
                served_app(tmp_path / "tablet", server.url, port_b) as url_b, \
                shots_on_failure(chromium):
            # --- device A, a phone: enroll with the pasted link, PIN, section, 5 signers ---
            ctx_a, phone = open_app(chromium, url_a, 390, 844)
            shot(phone, "phone-enroll")
            enroll(phone, server.enroll_link(code_a))
            open_section(phone, "A-0001")
            for n, signer in enumerate(SIGNERS, start=1):
                type_signer(phone, signer)
                wait_text(phone, f"Saved line {n}")
            wait_text(phone, "Signer on line 6")
            wait_text(phone, "This section: 5")
            wait_text(phone, "Pending upload: 0", timeout=60_000)
            shot(phone, "phone-five-signers")

            # --- device B, a tablet: the first signer again -> duplicate warning ---
            ctx_b, tablet = open_app(chromium, url_b, 820, 1180)
            enroll(tablet, code_b)
            open_section(tablet, "B-0001")
            repeat = {**SIGNERS[0], "first_name": "MARIA", "street": "123 N Main St"}
            type_signer(tablet, repeat)  # Enter in the ZIP: checked first, not saved
            wait_text(tablet, "This person has probably already signed")
            tablet.get_by_role("button", name="Save line 1 anyway").wait_for(timeout=20_000)
            assert tablet.get_by_text("Saved line 1").count() == 0
            shot(tablet, "tablet-duplicate-warning")
            tablet.keyboard.press("Enter")  # the circulator may still save the paper line
            wait_text(tablet, "Saved line 1")

            # --- offline: server stopped; A keeps entering ---
            server.stop()  # each save wakes the sync runner, which finds the server gone
            for n, signer in enumerate(LATER, start=6):
                type_signer(phone, signer)
                wait_text(phone, f"Saved line {n}")
            wait_text(phone, "Offline — 2 waiting", timeout=60_000)
            wait_text(phone, "Pending upload: 2")
            # "Sync now" while offline: the round (reachability check, retries) runs on the
            # sync thread, so the page stays live: the next signer is saved at once and the
            # runner's "offline" answer reaches the status bar.
            # The tap answers in words (issue 21) and gives the focus back to the form: the
            # circulator types the next signer without tapping a field first.
            phone.get_by_role("button", name="Sync now").click()
            wait_text(phone, "will send when the server answers", timeout=60_000)
            type_signer(phone, AFTER_CLICK)
            wait_text(phone, "Saved line 8")
            wait_text(phone, "Offline — 3 waiting", timeout=60_000)
            wait_text(phone, "last synced")
            wait_text(phone, "Pending upload: 3")
            shot(phone, "phone-offline")

            # --- back online: pending drops to 0 ---
            server.start()
            phone.get_by_role("button", name="Sync now").click()
            wait_text(phone, "Pending upload: 0", timeout=60_000)
            wait_text(phone, "Synced")
            shot(phone, "phone-back-online")
            tablet.set_viewport_size({"width": 1180, "height": 820})
            wait_text(tablet, "Lines of this section")
            shot(tablet, "tablet-landscape")

            # --- Spanish on the device ---
            phone.get_by_role("button", name="Español").click()
            wait_text(phone, "Por enviar: 0")
            shot(phone, "phone-spanish")
            ctx_a.close()
            ctx_b.close()
    finally:
        server.stop()
