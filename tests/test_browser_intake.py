"""Office intake in the one staff app, served by the real server at /app (create_app with the
staff web app), in headless Chromium: a clerk keys 10 lines of a section by keyboard alone and
resolves two review items with the D / N shortcuts; the clerk has no export and no dashboard,
a team lead has only the dashboard, an admin has every panel including the filing export."""

from __future__ import annotations

import httpx
import pytest
from browser_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    goto_app,
    log_in_by_keyboard,
    require_chromium,
    settled_focus,
    shot,
)
from intake_helpers import PASSWORD, Office, intake_server, signer
from sqlalchemy import func, select

from canvass.intake.app import PANELS
from sync.server.intake.office import office_device_id
from sync.server.models import Entry, StaffSession, User

pytestmark = pytest.mark.browser

WAIT = 30_000


def log_out(page) -> None:
    from playwright.sync_api import expect

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in")).to_be_attached(timeout=WAIT)


def nav_buttons(page) -> set[str]:
    """The names of the navigation buttons on screen."""
    names = {"Dashboard", *PANELS}
    return {n for n in names if page.get_by_role("button", name=n, exact=True).count()}


PEOPLE = [("Amara", "Okafor"), ("Bruno", "Silva"), ("Chen", "Wei"), ("Dalia", "Haddad"),
          ("Emil", "Novak"), ("Farah", "Qureshi"), ("Gustavo", "Pereira"), ("Hana", "Sato"),
          ("Ivan", "Petrov"), ("Julia", "Kowalski")]


def test_intake_panels_by_role_key_lines_and_review(tmp_path):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    with intake_server(f"sqlite:///{tmp_path / 'server.db'}", staff_web=True) as server:
        office = Office(server)
        tag = office.cid[-8:]
        first = office.push(signer("R1", 1, n=23), signer("R1", 2, n=50, first="Joaquin", last="Reyes"))
        later = office.push(signer("R2", 1, n=25), signer("R2", 2, n=52, first="Joaquin", last="Reyes"))
        assert [r["status"] for r in later] == ["possible_duplicate"] * 2
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                goto_app(page, f"{server.url}/app/")
                log_in_by_keyboard(page, f"clerk-{tag}", PASSWORD)
                # An intake clerk: the intake panels, no export, no dashboard.
                expect(page.get_by_role("button", name="Key lines")).to_be_attached(timeout=WAIT)
                assert nav_buttons(page) == {"Key lines", "Review", "Check-in", "Import"}

                # ---- keying: the Section field has the focus; keyboard only from here, at
                # a person's pace and with no wait for the focus between keys (issue 21):
                # ``tab_to`` names the field the Tab is for, for the reader only.
                def tab_to(role: str, name: str) -> None:
                    page.keyboard.press("Tab")
                    page.wait_for_timeout(60)

                def type_in(text: str) -> None:
                    page.keyboard.type(text, delay=25)

                settled_focus(page, "textbox", "Section")
                type_in("K1")
                tab_to("textbox", "Line")  # already 1
                tab_to("textbox", "First name")
                for number, (first_name, last_name) in enumerate(PEOPLE, start=1):
                    type_in(first_name)
                    tab_to("textbox", "Middle name")
                    tab_to("textbox", "Last name")
                    type_in(last_name)
                    tab_to("textbox", "Suffix")
                    tab_to("checkbox", "Same address as previous line")
                    if number == 9:  # lines 9 and 10: the household of line 8
                        page.keyboard.press("Space")
                        expect(page.get_by_role("textbox", name="Street address")).to_have_value(
                            "208 West Olive Avenue", timeout=WAIT)
                    tab_to("textbox", "Street address")
                    if number < 9:
                        type_in(f"{200 + number} West Olive Avenue")
                        tab_to("textbox", "Apt or unit")
                        tab_to("textbox", "City")
                        type_in("Los Angeles")
                        tab_to("textbox", "ZIP")
                        type_in("90012")
                    page.keyboard.press("Enter")
                    expect(page.get_by_text(f"Line {number} of section K1: saved")).to_be_attached(
                        timeout=WAIT)
                expect(page.get_by_text("Lines saved: 10")).to_be_attached()
                shot(page, "intake-keying-laptop")

                # ---- review: two items, decided with the D and N shortcuts.
                page.get_by_role("button", name="Review").click()
                expect(page.get_by_text("Items waiting: 2. Decided: 0")).to_be_attached(timeout=WAIT)
                expect(page.get_by_text("Street address (differs)")).to_be_attached()
                shot(page, "intake-review-laptop")
                page.keyboard.press("d")
                expect(page.get_by_text("Items waiting: 1. Decided: 1", exact=False)).to_be_attached(
                    timeout=WAIT)
                page.keyboard.press("n")
                expect(page.get_by_text("Review queue empty. Decided: 2", exact=False)).to_be_attached(
                    timeout=WAIT)

                # ---- a team lead: the dashboard only (no intake panel, no export).
                log_out(page)
                # "Log out" ended the browser's session on the server (issue 16): only the
                # clerk's session of the test's own API calls is left.
                with server.db.read() as s:
                    clerk_sessions = s.scalar(select(func.count()).select_from(StaffSession).join(
                        User, User.id == StaffSession.user_id).where(User.username == f"clerk-{tag}"))
                assert clerk_sessions == 1
                log_in_by_keyboard(page, f"lead-{tag}", PASSWORD)
                expect(page.get_by_text("Drive dashboard")).to_be_attached(timeout=WAIT)
                assert nav_buttons(page) == set()
                expect(page.get_by_role("button", name="Export", exact=True)).to_have_count(0)

                # ---- an admin on a tablet: every panel; the filing export is there.
                log_out(page)
                page.set_viewport_size({"width": 820, "height": 1180})
                log_in_by_keyboard(page, f"admin-{tag}", PASSWORD)
                expect(page.get_by_text("Figures computed at")).to_be_attached(timeout=WAIT)
                assert nav_buttons(page) == {"Dashboard", *PANELS}
                shot(page, "staff-admin-dashboard-tablet")
                page.get_by_role("button", name="Export", exact=True).click()
                expect(page.get_by_role("button", name="Download filing export")).to_be_attached(
                    timeout=WAIT)
                # Said before the click: what the file will be (the drive has sections to fix).
                expect(page.get_by_text("to fix before filing. The download will be a DRAFT")
                       ).to_be_visible(timeout=WAIT)
                shot(page, "staff-export-draft-tablet")
                page.get_by_role("button", name="Key lines", exact=True).click()
                expect(page.get_by_role("textbox", name="Section")).to_be_focused(timeout=WAIT)
                shot(page, "intake-keying-tablet")
            finally:
                browser.close()

        assert httpx.get(f"{server.url}/v1/intake/export/filing.csv",
                         headers=office.lead).status_code == 403
        with server.db.read() as s:
            keyed = s.execute(select(Entry.line, Entry.status).where(
                Entry.device_id == office_device_id(office.cid), Entry.section == "K1")
                .order_by(Entry.line)).all()
            decided = {e.id: (e.status, e.duplicate_of) for e in s.scalars(
                select(Entry).where(Entry.id.in_([r["entry_id"] for r in later])))}
        assert [line for line, _status in keyed] == list(range(1, 11))
        assert {status for _line, status in keyed} == {"accepted"}
        assert decided[later[0]["entry_id"]] == ("duplicate", first[0]["entry_id"])
        assert decided[later[1]["entry_id"]] == ("accepted", None)
