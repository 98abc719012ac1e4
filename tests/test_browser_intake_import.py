"""An admin imports a small CSV in the staff app (headless Chromium, the real server at /app):
chooses the file, picks the column the server could not guess with its dropdown, reads the
preview (the bad row marked with its reason), imports, watches the progress end at all rows,
sees the counts and downloads the rejected rows; then the check-in panel shows the sections."""

from __future__ import annotations

import csv
import io

import pytest
from browser_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    STAFF_WAIT_MS,
    goto_app,
    log_in_by_keyboard,
    require_chromium,
    shot,
)
from intake_helpers import PASSWORD, Office, drive_csv, intake_server
from sqlalchemy import func, select

from sync.server.models import Entry

pytestmark = pytest.mark.browser

def test_admin_imports_csv_through_mapping_preview_and_progress(tmp_path):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    with intake_server(f"sqlite:///{tmp_path / 'server.db'}", staff_web=True) as server:
        office = Office(server)
        tag = office.cid[-8:]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
                goto_app(page, f"{server.url}/app/")
                log_in_by_keyboard(page, f"admin-{tag}", PASSWORD)
                page.get_by_role("button", name="Import", exact=True).click()
                with page.expect_file_chooser(timeout=STAFF_WAIT_MS) as chooser:
                    page.get_by_role("button", name="Choose file").click()
                chooser.value.set_files(files=[{"name": "drive.csv", "mimeType": "text/csv",
                                                "buffer": drive_csv()}])
                # The mapping step: "Booklet No" is no known spelling of the section.
                expect(page.get_by_text("File drive.csv: 6 rows")).to_be_attached(timeout=STAFF_WAIT_MS)
                expect(page.get_by_text("Choose a column for: Section")).to_be_attached(timeout=STAFF_WAIT_MS)
                shot(page, "intake-import-mapping")
                page.get_by_role("button", name="Section column: (not imported)").click()
                page.get_by_role("button", name="Booklet No", exact=True).click()
                expect(page.get_by_role("button", name="Section column: Booklet No")).to_be_attached(
                    timeout=STAFF_WAIT_MS)
                expect(page.get_by_text("Choose a column for")).to_have_count(0, timeout=STAFF_WAIT_MS)
                # The preview: the bad row with its reason.
                expect(page.get_by_text("The first 6 of 6 rows; 1 of them would be rejected.")
                       ).to_be_attached(timeout=STAFF_WAIT_MS)
                expect(page.get_by_text("Row 4: ZIP: Not a 5-digit ZIP or ZIP+4.")).to_be_attached()
                shot(page, "intake-import-preview")
                page.get_by_role("button", name="Import", exact=True).last.click()
                expect(page.get_by_text("Import finished: 5 of 6 rows imported, 1 rejected", exact=False)
                       ).to_be_attached(timeout=STAFF_WAIT_MS)
                expect(page.get_by_text("New: 5. Already received: 0. Duplicates: 0 (0 waiting for "
                                        "review). Rejected: 1. Blank: 0. Rows read: 6.")
                       ).to_be_attached(timeout=STAFF_WAIT_MS)
                shot(page, "intake-import-done")
                with page.expect_download(timeout=STAFF_WAIT_MS) as download:
                    page.get_by_role("button", name="Download rejected rows").click()
                rejected = list(csv.reader(io.StringIO(
                    open(download.value.path(), encoding="utf-8").read())))
                assert [(r[0], r[3], r[-4], r[-2]) for r in rejected[1:]] == [("BI1", "Haddad", "4", "zip")]

                # The check-in panel: the imported section, with nothing checked in yet.
                page.get_by_role("button", name="Check-in", exact=True).click()
                expect(page.get_by_text("Section BI1: out", exact=False)
                       ).to_be_attached(timeout=STAFF_WAIT_MS)
                expect(page.get_by_text("Blocks filing: the paper is not back at the office")
                       ).to_be_attached()
                page.mouse.move(640, 600)
                page.mouse.wheel(0, 800)
                expect(page.get_by_role("button", name="Refresh")).to_be_in_viewport(timeout=STAFF_WAIT_MS)
                shot(page, "intake-checkin-sections")
                # Back to Import: the result is kept until the clerk leaves it (starts anew).
                page.get_by_role("button", name="Import", exact=True).first.click()
                expect(page.get_by_text("Import finished: 5 of 6 rows imported, 1 rejected",
                                        exact=False)).to_be_attached(timeout=STAFF_WAIT_MS)
                expect(page.get_by_role("button", name="Download rejected rows")).to_be_attached()
            finally:
                browser.close()
        with server.db.read() as s:
            count = s.scalar(select(func.count()).select_from(Entry).where(
                Entry.campaign_id == office.cid, Entry.section == "BI1"))
        assert count == 5
