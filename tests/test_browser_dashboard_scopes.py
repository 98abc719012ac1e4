"""The staff dashboard as a director and a team lead meet it (issue 18), in headless Chromium
against the real server at /app: the director's device table and team filter with a device
of no team."""

from __future__ import annotations

import uuid

import pytest
from browser_helpers import require_chromium, scroll_to, shot, staff_page
from dashboard_helpers import add_south_entries, dashboard_server, seed_drive

pytestmark = pytest.mark.browser


def open_menu(page, label: str, option: str, tries: int = 4) -> None:
    """Open a dropdown as a person does: click it, and click again if its list did not open
    (a click while the page is still settling can be lost)."""
    for attempt in range(tries):
        scroll_to(page, page.get_by_role("button", name=label)).click()
        try:
            page.get_by_role("button", name=option, exact=True).wait_for(timeout=5_000)
            return
        except Exception:
            if attempt == tries - 1:
                raise


def test_director_sees_every_device_and_a_no_team_filter(tmp_path):
    require_chromium()
    from playwright.sync_api import expect

    with dashboard_server(f"sqlite:///{tmp_path / 'server.db'}", staff_web=True) as server:
        drive = seed_drive(server)
        # The demo's own device: enrolled without a team.
        server.enroll_device(drive.campaign_id, device_name="Office tablet", circulator="Dee",
                             team="")
        admin = f"director-{uuid.uuid4().hex[:6]}"
        server.add_user(admin, "pw-director-pass", role="admin")
        # Tall enough for the table and its filter without scrolling the page.
        with staff_page(f"{server.url}/app/", admin, "pw-director-pass", "dashboard-director",
                        height=1600) as page:
            for name in ("Ana", "Ben", "Cleo", "Dee"):
                scroll_to(page, page.get_by_role("cell", name=name, exact=True))
            scroll_to(page, page.get_by_text("Nothing unusual."))
            # The Team filter lists every team and the devices of no team, once each.
            open_menu(page, "Team filter: All teams", "North")
            for option in ("North", "South", "No team"):
                expect(page.get_by_role("button", name=option, exact=True)).to_have_count(1)
            page.get_by_role("button", name="No team", exact=True).click()
            expect(page.get_by_role("button", name="Team filter: No team")).to_be_attached()
            expect(page.get_by_role("cell", name="Dee", exact=True)).to_have_count(1)
            expect(page.get_by_role("cell", name="Ana", exact=True)).to_have_count(0)
            shot(page, "dashboard-director-no-team")


def test_team_lead_cards_are_their_teams_figures(tmp_path):
    require_chromium()
    import httpx
    from playwright.sync_api import expect

    with dashboard_server(f"sqlite:///{tmp_path / 'server.db'}", staff_web=True) as server:
        drive = seed_drive(server)
        add_south_entries(server, drive)  # the drive now has more than North
        lead = f"lead-{uuid.uuid4().hex[:6]}"
        server.add_user(lead, "pw-north-lead", role="team_lead", campaign_id=drive.campaign_id,
                        team="North")
        token = server.login(lead, "pw-north-lead")
        api = httpx.get(f"{server.url}/v1/dashboard/progress",
                        headers={"Authorization": f"Bearer {token}"}).json()["progress"]
        with staff_page(f"{server.url}/app/", lead, "pw-north-lead", "dashboard-lead-scope") as page:
            expect(page.get_by_text("Team North only:")).to_be_attached(timeout=60_000)
            for title, key in (("Raw entries", "raw_entries"),
                               ("Unique signers", "unique_signers"),
                               ("Projected valid", "projected_valid")):
                expect(page.get_by_text(f"{title}: {api[key]:,}", exact=True)
                       ).to_be_attached()
            assert api["raw_entries"] == 14  # North's, not the drive's 19
            shot(page, "dashboard-lead-scope")


def chart_axis_labels(page) -> list[str]:
    """The axis labels Flutter drew, which it merges into the chart's semantics label."""
    drawn = page.evaluate("""() => [...document.querySelectorAll('flt-semantics *')]
        .flatMap(e => [e.getAttribute('aria-label'), e.childElementCount ? null : e.textContent])
        .filter(t => t && t.startsWith('Progress chart:'))""")
    return drawn[0].split("\n")[1:] if drawn else []


def test_new_campaign_chart_and_cards_at_zero_and_one_signer(tmp_path):
    require_chromium()
    import re
    from datetime import UTC, datetime, timedelta

    from dashboard_helpers import _entry
    from playwright.sync_api import expect

    from sync.domain import utcnow

    with dashboard_server(f"sqlite:///{tmp_path / 'server.db'}", staff_web=True) as server:
        deadline = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
        cid = server.create_campaign(name="New drive", goal=1000, deadline=deadline,
                                     validity_rate=0.5)
        device = server.enroll_device(cid, device_name="First tablet", circulator="Eve",
                                      team="East").device_id
        admin = f"director-{uuid.uuid4().hex[:6]}"
        server.add_user(admin, "pw-director-pass", role="admin")
        with staff_page(f"{server.url}/app/", admin, "pw-director-pass", "dashboard-new-campaign") as page:
            expect(page.get_by_text("No signatures yet")).to_be_attached(timeout=60_000)
            expect(page.get_by_text("since -")).to_have_count(0)
            expect(page.get_by_text("at 50.0% valid")).to_be_attached()
            shot(page, "dashboard-new-campaign-empty")

            now = utcnow()
            with server.db.write() as s:
                s.add(_entry(cid, device, 1, "E1", 1, now, now))
            page.get_by_role("button", name="Refresh").click()
            expect(page.get_by_text("Raw entries: 1", exact=True)).to_be_attached(
                timeout=30_000)
            expect(page.get_by_text("Projected valid: 0", exact=True)).to_be_attached()
            expect(page.get_by_text("at 50.0% valid")).to_be_attached()
            expect(page.get_by_text("at 0.0% valid")).to_have_count(0)
            axis = chart_axis_labels(page)
            # Whole numbers up the side, days along the bottom: no "0.1" between days.
            assert axis and all(re.fullmatch(r"\d+(\.\d)?[KM]|\d[\d,]*|\d\d-\d\d", t)
                            for t in axis), axis
            assert any(re.fullmatch(r"\d\d-\d\d", t) for t in axis), axis
            shot(page, "dashboard-new-campaign-one-signer")
