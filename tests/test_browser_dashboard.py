"""The staff dashboard in headless Chromium, served by the central server at /app: a team
lead logs in, sees the stale device highlighted and the progress chart."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from dashboard_helpers import dashboard_server, seed_drive

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _need_browser():
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = "playwright is not installed"
    else:
        missing = "" if Path(CHROMIUM).exists() or shutil.which("chromium") else "no chromium"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser test required under CI=true: {missing}")
        pytest.skip(missing)


def test_team_lead_sees_stale_device_and_chart(tmp_path):
    _need_browser()
    from playwright.sync_api import expect, sync_playwright

    with dashboard_server(f"sqlite:///{tmp_path / 'server.db'}", staff_web=True) as server:
        drive = seed_drive(server)
        user = f"lead-{uuid.uuid4().hex[:6]}"
        server.add_user(user, "pw-north-lead", role="team_lead", campaign_id=drive.campaign_id,
                        team="North")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(f"{server.url}/app/")
                page.wait_for_selector("flt-semantics-placeholder", state="attached",
                                       timeout=60_000)
                page.evaluate("document.querySelector('flt-semantics-placeholder').click()")
                for name, text in (("Username", user), ("Password", "pw-north-lead")):
                    box = page.get_by_role("textbox", name=name)
                    box.click()
                    page.keyboard.type(text)
                    expect(box).to_have_value(text)
                page.get_by_role("button", name="Log in").click()
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
                # The chart rendered: its semantics label and the axis labels Flutter drew
                # (goal 100 x 1.1 -> a left axis up to 110; the two days on the bottom axis).
                expect(page.get_by_text(
                    "Progress chart: cumulative projected valid signatures against the goal")
                ).to_be_attached()
                labels = page.evaluate("""() => [...document.querySelectorAll('*')]
                    .flatMap(e => [e.getAttribute('aria-label'), e.childElementCount ? null
                                   : e.textContent]).filter(Boolean).map(t => t.trim())""")
                # 110 = the chart's top (goal 100 x 1.1): only the drawn left axis says it.
                assert any("110" in t for t in labels if "flet" not in t)
                page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
            finally:
                browser.close()
