"""One-time download links (sync.server.routes.downloads) over a real server, SQLite and
PostgreSQL: the link serves its export once, as an attachment, without a bearer header; a
second use, an expired link, an unknown one, a link of a logged-out session and a link asked
for by a role that may not have the export are refused."""

from __future__ import annotations

import concurrent.futures
from datetime import timedelta

import httpx
from intake_helpers import Office, import_csv, signer
from sqlalchemy import select, update

from sync.domain import utcnow
from sync.server.models import AuditLog, DownloadLink
from sync.server.tokens import token_hash


def link(office: Office, who: dict, **body) -> httpx.Response:
    return httpx.post(f"{office.url}/v1/downloads", json=body, headers=who, timeout=60)


def fetch(office: Office, url: str) -> httpx.Response:
    return httpx.get(f"{office.url}{url}", timeout=60)  # no Authorization: a browser's GET


def test_filing_link_serves_once_as_attachment(office):
    office.push(signer("E1", 1, n=1))
    r = link(office, office.admin, export="filing")
    assert r.status_code == 201, r.text
    answer = r.json()
    assert answer["expires_in"] <= 60 and answer["url"].startswith("/v1/downloads/")
    first = fetch(office, answer["url"])
    assert first.status_code == 200, first.text
    # One signer and no section checked in: the filing check blocks, so the file says DRAFT.
    assert first.headers["content-disposition"] == 'attachment; filename="filing-DRAFT.csv"'
    assert first.headers["x-canvass-filing"] == "draft"
    assert first.headers["cache-control"] == "no-store"
    assert first.text.splitlines()[0].startswith("section,status,circulator")
    again = fetch(office, answer["url"])
    assert again.status_code == 410 and again.json()["code"] == "download_used"
    assert again.headers["content-type"].startswith("application/problem+json")
    assert fetch(office, "/v1/downloads/" + "x" * 43).json()["code"] == "download_not_found"
    with office.server.db.read() as s:
        actions = s.scalars(select(AuditLog.action).where(AuditLog.target.in_(
            ["filing", office.cid]))).all()
    assert actions.count("download.link") == 1 and actions.count("export.filing") == 1


def test_link_refused_to_a_role_without_the_export(office):
    assert link(office, office.clerk, export="filing").status_code == 403
    assert link(office, office.lead, export="rejections", job_id="x").status_code == 403
    # No such job: refused when the link is asked for, not in the browser tab it would open.
    assert link(office, office.clerk, export="rejections", job_id="x").status_code == 404
    assert link(office, office.clerk, export="rejections").status_code == 422
    assert link(office, office.clerk, export="dashboard").status_code == 403
    assert link(office, office.device, export="dashboard").status_code == 403
    assert link(office, {}, export="dashboard").status_code == 401
    # Another campaign's export: the same 403 as the export's own route.
    assert link(office, office.admin, export="filing", campaign_id="other").status_code == 403
    assert link(office, office.lead, export="dashboard").status_code == 201


def test_expired_and_logged_out_links_are_gone(office):
    url = link(office, office.lead, export="dashboard").json()["url"]
    with office.server.db.write() as s:
        s.execute(update(DownloadLink).where(DownloadLink.token_hash == token_hash(url.rsplit("/", 1)[1]))
                  .values(expires_at=utcnow() - timedelta(seconds=1)))
    gone = fetch(office, url)
    assert gone.status_code == 410 and gone.json()["code"] == "download_expired"

    url = link(office, office.lead, export="dashboard").json()["url"]
    assert httpx.post(f"{office.url}/v1/auth/logout", headers=office.lead).status_code in (200, 204)
    ended = fetch(office, url)
    assert ended.status_code == 410 and ended.json()["code"] == "download_expired"


def test_rejections_link_and_one_winner_of_two_opens(office):
    data, _bad = import_csv(40, bad_every=10)
    job = office.post("/imports", office.clerk, data={"wait": "true"},
                      files={"file": ("v.csv", data, "text/csv")}).json()
    url = link(office, office.clerk, export="rejections", job_id=job["job_id"]).json()["url"]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _i: fetch(office, url), range(4)))
    assert sorted(r.status_code for r in answers) == [200, 410, 410, 410]
    served = next(r for r in answers if r.status_code == 200)
    assert served.headers["content-disposition"].startswith('attachment; filename="rejections-')
    assert len(served.text.splitlines()) == 1 + 4
    # The token is not stored, only its hash.
    with office.server.db.read() as s:
        assert url.rsplit("/", 1)[1] not in {h for h in s.scalars(select(DownloadLink.token_hash))}
