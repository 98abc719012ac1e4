"""Staff downloads arrive when asked (issue 18), in headless Chromium against the real server
at /app: an admin's "Download rejected rows", "Download filing export" and the dashboard's
"Export CSV" each deliver the file after that one click, with no other click or key on the
page, and the message says the browser is downloading it. The page is still the staff app
afterwards, and the link the browser opened does not work a second time.

Before the one-time links the file travelled over Flet's websocket and reached the browser
only at the next event of the page (nothing after 120 s), while the app said "downloaded"."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from browser_helpers import require_chromium, staff_page
from intake_helpers import PASSWORD, Office, drive_csv, intake_server
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
WAIT = 30_000


def download_after_one_click(page, button: str):
    """Click ``button`` once; the download that follows, with nothing else done on the page."""
    with page.expect_download(timeout=WAIT) as download:
        page.get_by_role("button", name=button, exact=True).click()
    return download.value


def test_exports_download_at_the_click_and_the_link_works_once(tmp_path):
    require_chromium()
    with intake_server(f"sqlite:///{tmp_path / 'server.db'}", staff_web=True) as server:
        office = Office(server)
        user = f"admin-{office.cid[-8:]}"
        with staff_page(f"{server.url}/app/", user, PASSWORD, shots="failure-downloads") as page:
            expect(page.get_by_text(f"Signed in as {user}")).to_be_attached(timeout=WAIT)
            # ---- an import with one bad row: its rejected rows
            page.get_by_role("button", name="Import", exact=True).click()
            with page.expect_file_chooser(timeout=WAIT) as chooser:
                page.get_by_role("button", name="Choose file").click()
            chooser.value.set_files(files=[{"name": "drive.csv", "mimeType": "text/csv",
                                            "buffer": drive_csv()}])
            page.get_by_role("button", name="Section column: (not imported)").click()
            page.get_by_role("button", name="Booklet No", exact=True).click()
            expect(page.get_by_text("Choose a column for")).to_have_count(0, timeout=WAIT)
            page.get_by_role("button", name="Import", exact=True).last.click()
            expect(page.get_by_text("Import finished: 5 of 6 rows imported, 1 rejected",
                                    exact=False)).to_be_attached(timeout=WAIT)
            rejected = download_after_one_click(page, "Download rejected rows")
            assert rejected.suggested_filename.startswith("rejections-")
            rows = list(csv.reader(io.StringIO(open(rejected.path(), encoding="utf-8").read())))
            assert [(r[0], r[3], r[-2]) for r in rows[1:]] == [("BI1", "Haddad", "zip")]
            expect(page.get_by_text(f"Your browser is downloading {rejected.suggested_filename}",
                                    exact=False)).to_be_attached(timeout=WAIT)
            # The link is spent: a second open is refused with a clear problem.
            again = httpx.get(rejected.url, timeout=30)
            assert again.status_code == 410 and again.json()["code"] == "download_used"
            # The tab is still the staff app (the link opened in it and left it where it was).
            expect(page.get_by_text(f"Signed in as {user}")).to_be_attached(timeout=WAIT)

            # ---- the filing export
            page.get_by_role("button", name="Export", exact=True).click()
            filing = download_after_one_click(page, "Download filing export")
            assert filing.suggested_filename == "filing-DRAFT.csv"  # the filing check blocks
            assert open(filing.path(), encoding="utf-8").readline().startswith("section,status")
            expect(page.get_by_text("Your browser is downloading the filing export", exact=False)
                   ).to_be_attached(timeout=WAIT)
            assert page.get_by_text("Filing export downloaded").count() == 0

            # ---- the dashboard's CSV
            page.get_by_role("button", name="Dashboard", exact=True).click()
            expect(page.get_by_text("Figures computed at", exact=False)).to_be_attached(timeout=WAIT)
            sheet = download_after_one_click(page, "Export CSV")
            assert sheet.suggested_filename.startswith("dashboard-")
            assert httpx.get(sheet.url, timeout=30).status_code == 410
            expect(page.get_by_text("Your browser is downloading dashboard.csv", exact=False)
                   ).to_be_attached(timeout=WAIT)
