"""The staff dashboard in headless Chromium, served by the central server at /app (create_app
with the staff web app): a team lead logs in on a laptop, sees only the dashboard, the stale
device highlighted and the progress chart with its lines drawn; an admin on a tablet sees the
dashboard and the intake panels. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from browser_helpers import CHROMIUM, CHROMIUM_ARGS, goto_app, log_in, require_chromium
from dashboard_helpers import dashboard_server, seed_drive

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _near(pixel, colour, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


def chart_line_pixels(page, chart, attempts: int = 40) -> tuple[int, int]:
    """Pixels of the progress line (blue 700) and the goal line (red 400) inside the chart's
    box. Lines are drawn by an animation: look again until both show (or give up)."""
    from io import BytesIO

    from PIL import Image

    blue = red = 0
    for _ in range(attempts):
        area = chart.bounding_box()
        shot = Image.open(BytesIO(page.screenshot(clip=area))).convert("RGB")
        pixels = list(shot.get_flattened_data())
        blue = sum(_near(px, (0x19, 0x76, 0xD2)) for px in pixels)
        red = sum(_near(px, (0xEF, 0x53, 0x50)) for px in pixels)
        if blue and red:
            return blue, red
        page.wait_for_timeout(250)
    return blue, red


def test_dashboard_by_role_stale_device_and_chart_lines(tmp_path):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    with dashboard_server(f"sqlite:///{tmp_path / 'server.db'}", staff_web=True) as server:
        drive = seed_drive(server)
        user = f"lead-{uuid.uuid4().hex[:6]}"
        server.add_user(user, "pw-north-lead", role="team_lead", campaign_id=drive.campaign_id,
                        team="North")
        admin = f"admin-{uuid.uuid4().hex[:6]}"
        server.add_user(admin, "pw-admin-passphrase", role="admin")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                goto_app(page, f"{server.url}/app/")
                log_in(page, user, "pw-north-lead")
                # A team lead: the dashboard only, no navigation to the intake panels.
                expect(page.get_by_text("Signed in as")).to_be_attached(timeout=60_000)
                for name in ("Dashboard", "Key lines", "Review", "Export"):
                    expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
                # Ben's device last synced 3 hours ago (stale after 60 minutes): its row is
                # highlighted and its last-sync cell reads out as stale; Ana's is fresh.
                expect(page.get_by_role("cell", name="Stale device: Ben")).to_be_attached(
                    timeout=60_000)
                expect(page.get_by_role("cell", name="Stale device: Ana")).to_have_count(0)
                expect(page.get_by_role("cell", name="Ana", exact=True)).to_have_count(1)
                # Cleo is in the South team: not shown to the North team lead.
                expect(page.get_by_role("cell", name="Cleo", exact=True)).to_have_count(0)
                expect(page.get_by_text("Figures computed at")).to_be_attached()
                expect(page.get_by_text("Stale devices: 1")).to_be_attached()
                expect(page.get_by_text("Projected valid: 6")).to_be_attached()
                # The filing check's count (the seeded sections are not all back): in words.
                expect(page.get_by_text(re.compile(r"^Filing check: \d+ to fix before filing$"))
                       ).to_be_attached()
                # The chart rendered: its semantics label, the left axis labels Flutter drew
                # (goal 100; no label at the top edge), and its two lines in their colours.
                chart = page.get_by_text(
                    "Progress chart: cumulative projected valid signatures against the goal")
                expect(chart).to_be_attached()
                # Flutter merges the axis labels it drew into the chart's semantics label.
                drawn = page.evaluate("""() => [...document.querySelectorAll('flt-semantics *')]
                    .flatMap(e => [e.getAttribute('aria-label'), e.childElementCount ? null
                                   : e.textContent])
                    .filter(t => t && t.startsWith('Progress chart:'))""")
                assert drawn
                axis = drawn[0].split("\n")[1:]
                assert {"0", "20", "80", "100"} <= set(axis) and "110" not in axis, axis
                assert any(re.fullmatch(r"\d\d-\d\d", t) for t in axis), axis  # dates below
                chart.scroll_into_view_if_needed()
                blue, red = chart_line_pixels(page, chart)
                assert blue > 200, "the progress line is not drawn"
                assert red > 100, "the goal line is not drawn"
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "dashboard-lead-laptop-chart.png"))
                page.mouse.wheel(0, 2000)
                expect(page.get_by_text("Nothing unusual.")).to_be_attached()
                page.screenshot(path=str(ARTIFACTS / "dashboard-lead-laptop-table.png"))

                # ---- the admin on a tablet: dashboard plus the intake panels, every team.
                page.get_by_role("button", name="Log out").click()
                page.set_viewport_size({"width": 820, "height": 1180})
                log_in(page, admin, "pw-admin-passphrase")
                expect(page.get_by_role("cell", name="Cleo", exact=True)).to_have_count(
                    1, timeout=60_000)
                for name in ("Dashboard", "Key lines", "Review", "Check-in", "Import", "Export"):
                    expect(page.get_by_role("button", name=name, exact=True)).to_have_count(1)
                blue, red = chart_line_pixels(page, chart)
                assert blue > 100 and red > 50
                page.screenshot(path=str(ARTIFACTS / "dashboard-admin-tablet.png"))
                page.get_by_role("button", name="Review", exact=True).click()
                expect(page.get_by_text("Review queue empty. Decided: 0")).to_be_attached(
                    timeout=60_000)
                page.screenshot(path=str(ARTIFACTS / "review-admin-tablet.png"))
            finally:
                browser.close()
