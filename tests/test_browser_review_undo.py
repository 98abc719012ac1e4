"""A clerk takes back a review decision in the staff app (issue 18), in headless Chromium
against the real server at /app: "Not a duplicate" by mistake, then "Undo last decision";
the entry is waiting for review again on the screen and on the server (read through the
review queue API), and the undo is in the audit log. Then U, the key, undoes a D."""

from __future__ import annotations

import httpx
import pytest
from browser_helpers import require_chromium, shot, staff_page
from intake_helpers import PASSWORD, Office, intake_server, signer
from playwright.sync_api import expect
from sqlalchemy import select

from sync.server.models import AuditLog

pytestmark = pytest.mark.browser
WAIT = 30_000


def test_undo_the_last_review_decision(tmp_path):
    require_chromium()
    with intake_server(f"sqlite:///{tmp_path / 'server.db'}", staff_web=True) as server:
        office = Office(server)
        office.push(signer("V1", 1, n=23), signer("V1", 2, n=50, first="Joaquin", last="Reyes"))
        later = office.push(signer("V2", 1, n=25), signer("V2", 2, n=52, first="Joaquin", last="Reyes"))
        ids = [r["entry_id"] for r in later]
        assert [r["status"] for r in later] == ["possible_duplicate"] * 2

        def queued() -> list[str]:
            items = httpx.get(f"{office.url}/v1/review/queue", headers=office.clerk).json()["items"]
            return [item["entry"]["entry_id"] for item in items]

        with staff_page(f"{server.url}/app/", f"clerk-{office.cid[-8:]}", PASSWORD,
                        shots="failure-undo") as page:
            page.get_by_role("button", name="Review", exact=True).click()
            expect(page.get_by_text("Items waiting: 2. Decided: 0")).to_be_attached(timeout=WAIT)
            assert page.get_by_role("button", name="Undo last decision (U)").count() == 0
            page.get_by_role("button", name="Not a duplicate (N)").click()
            expect(page.get_by_text("Items waiting: 1. Decided: 1", exact=False)).to_be_attached(
                timeout=WAIT)
            assert queued() == ids[1:]
            page.get_by_role("button", name="Undo last decision (U)").click()
            expect(page.get_by_text("Last decision undone", exact=False)).to_be_attached(timeout=WAIT)
            expect(page.get_by_text("Items waiting: 2. Decided: 0", exact=False)).to_be_attached(
                timeout=WAIT)
            shot(page, "review-undone")
            assert sorted(queued()) == sorted(ids)
            # The undone entry is the one on screen again: deciding it now decides that entry.
            page.keyboard.press("d")
            expect(page.get_by_text("Items waiting: 1. Decided: 1", exact=False)).to_be_attached(
                timeout=WAIT)
            assert queued() == ids[1:]
            page.keyboard.press("u")  # the key, as the hint on screen says
            expect(page.get_by_text("Items waiting: 2. Decided: 0", exact=False)).to_be_attached(
                timeout=WAIT)
            assert sorted(queued()) == sorted(ids)
            expect(page.get_by_role("button", name="Undo last decision (U)")).to_have_count(0)
        with server.db.read() as s:
            undos = s.scalars(select(AuditLog.target).where(AuditLog.action == "review.undo")).all()
        assert undos == [ids[0], ids[0]]
