"""The door-step check in headless Chromium at tablet size (issue 15).

Another circulator's device has already sent "Guadalupe Hernandez" at 501 S Indiana St. On a
tablet, a circulator keys the same person as "Lupe Hernadez" at "501 South Indiana Street" (a
nickname and a typo: no exact key of the tablet's index matches) at a person's pace
(tests/typist.py). The first Enter saves nothing: the warning stands before the save, with
where the answer came from -- the server while it runs; with the server stopped, the tablet.
"""

from __future__ import annotations

from contextlib import contextmanager

import httpx
import pytest
import server_helpers
from browser_helpers import box, enroll, open_app, open_section, served_app, shot, shots_on_failure, wait_text
from typist import key_signer

from canvass.demo import DemoServer, free_port

pytestmark = pytest.mark.browser

ORDINARY_MS = 250  # an ordinary typist's pace between keys (as the fast-capture test's check)
FIRST = server_helpers.signer("Guadalupe", "Hernandez", "501 S Indiana St", zip="90063")
REPEAT = {"first_name": "Lupe", "last_name": "Hernadez", "street": "501 South Indiana Street",
          "zip": "90063"}
WARNING = "This person has probably already signed — ask before they sign again"


def _first_signature_elsewhere(server: DemoServer) -> None:
    """Circulator A's device sends the first signature (over HTTP, as its sync would)."""
    r = httpx.post(f"{server.url}/v1/devices/enroll",
                   json={"code": server.enroll_code("Circulator A"), "device_name": "phone A"})
    r.raise_for_status()
    token = r.json()["device_token"]
    body = server_helpers.batch_body([FIRST])
    r = httpx.post(f"{server.url}/v1/entries/batch", json=body,
                   headers=server_helpers.device_headers(token, body), timeout=60)
    r.raise_for_status()
    assert r.json()["results"][0]["status"] == "accepted"


@contextmanager
def enrolled_tablet(tmp_path, chromium, prefix: str):
    """A real server holding Circulator A's first signature, and the app at tablet size,
    enrolled as Circulator B: (server, page). Stopped on leaving."""
    server = DemoServer(tmp_path / "server").start()
    try:
        _first_signature_elsewhere(server)
        with served_app(tmp_path / "tablet", server.url, free_port()) as url, \
                shots_on_failure(chromium, prefix):
            _, tablet = open_app(chromium, url, 820, 1180)
            enroll(tablet, server.enroll_code("Circulator B"))
            yield server, tablet
    finally:
        server.stop()


def test_repeat_signer_warned_before_save_online_from_the_server(tmp_path, chromium):
    from playwright.sync_api import expect

    with enrolled_tablet(tmp_path, chromium, "failure-doorstep-online") as (_server, tablet):
        open_section(tablet, "D-0001")
        key_signer(tablet, REPEAT, delay=ORDINARY_MS)  # Enter in the ZIP: checked first
        wait_text(tablet, WARNING)
        wait_text(tablet, "(Answer from the server.)")
        expect(tablet.get_by_role("button", name="Save line 1 anyway")).to_be_visible()
        assert tablet.get_by_text("Saved line 1").count() == 0
        expect(box(tablet, "Last name")).to_have_value("Hernadez")  # nothing typed lost
        shot(tablet, "doorstep-online-warned")
        tablet.keyboard.press("Enter")  # the paper line was signed anyway: saved
        wait_text(tablet, "Saved line 1")


def test_repeat_signer_warned_offline_from_the_tablet(tmp_path, chromium):
    with enrolled_tablet(tmp_path, chromium, "failure-doorstep-offline") as (server, tablet):
        wait_text(tablet, "Synced", timeout=60_000)  # the campaign's index is on the tablet
        open_section(tablet, "D-0001")
        server.stop()
        key_signer(tablet, REPEAT, delay=ORDINARY_MS)
        # What a person sees after the Enter: the warning, or the line saved.
        tablet.get_by_text(WARNING).or_(tablet.get_by_text("Saved line 1")).first.wait_for(
            timeout=30_000)
        assert tablet.get_by_text("Saved line 1").count() == 0
        wait_text(tablet, WARNING)
        wait_text(tablet, "(Answer from this tablet.)")
        shot(tablet, "doorstep-offline-warned")
