"""Signers' withdrawals (EC 11303) end to end over HTTP on a real server (SQLite and
PostgreSQL): recorded sealed, matched with the server's matcher (an exact match applies at
once, a fuzzy one waits for a person), the line marked withdrawn and audited, and the figures
following it: unique and projected valid (dashboard), the registrar simulator (a withdrawn
line is never valid), the filing export's per-section list. Refused once the petition is filed."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import server_helpers
from sqlalchemy import select

from sync.reports.registrar import simulate
from sync.server.integrity import key_integrity
from sync.server.models import AuditLog, Entry, Withdrawal, WithdrawnLine

GALLANT = dict(first_name="Perpetua", last_name="Gallant", street="88 North Spring Street",
               city="Los Angeles", zip="90012")
QUILL = dict(first_name="Leopold", last_name="Quill", street="5 East First Street",
             city="Los Angeles", zip="90012")
OTHER = dict(first_name="Octavia", last_name="Brisbane", street="410 West Temple Street",
             city="Los Angeles", zip="90012")


@dataclass
class Drive:
    server: server_helpers.ServerHandle
    cid: str
    admin: dict
    clerk: dict
    lead: dict
    ids: dict[int, str]  # line -> entry id
    token: str  # the device that sent the lines

    def get(self, path: str, who: dict, **kw) -> httpx.Response:
        return httpx.get(f"{self.server.url}{path}", headers=who, timeout=60, **kw)

    def post(self, path: str, who: dict, **kw) -> httpx.Response:
        return httpx.post(f"{self.server.url}{path}", headers=who, timeout=60, **kw)

    def figures(self) -> dict:
        p = self.get("/v1/dashboard/progress", self.admin).json()["progress"]
        sim = self.get("/v1/dashboard/simulation", self.admin, params={"trials": 200}).json()
        return {"raw": p["raw_entries"], "unique": p["unique_signers"],
                "duplicates": p["duplicates"], "withdrawn": p["withdrawn"],
                "valid": p["projected_valid"], "sim": sim["simulation"]}

    def export(self) -> tuple[dict, list[list[str]], list[list[str]], httpx.Response]:
        r = self.get("/v1/intake/export/filing.csv", self.admin)
        assert r.status_code == 200, r.text
        tables = [list(csv.reader(io.StringIO(t))) for t in r.text.split("\r\n\r\n")]
        summary = {row[0]: dict(zip(tables[0][0], row, strict=True)) for row in tables[0][1:]}
        return summary, tables[2], tables[3], r


def _signer(line: int, fields: dict):
    return server_helpers.signer(first=fields["first_name"], last=fields["last_name"],
                                 street=fields["street"], city=fields["city"], zip=fields["zip"],
                                 section="W1", line=line, device_seq=line)


@pytest.fixture
def drive(db_url) -> Iterator[Drive]:
    with server_helpers.running_server(db_url) as server:
        cid = server.create_campaign(goal=4, deadline="2030-12-31", validity_rate=0.75)
        heads = server.staff_headers(cid)
        device = server.enroll_device(cid)
        # Line 1 Gallant, line 2 Gallant again (a duplicate of line 1), line 3 Quill, line 4 another.
        entries = [_signer(1, GALLANT), _signer(2, GALLANT), _signer(3, QUILL), _signer(4, OTHER)]
        body = server_helpers.batch_body(entries)
        r = httpx.post(f"{server.url}/v1/entries/batch", json=body,
                       headers=server_helpers.device_headers(device.device_token, body))
        assert [x["status"] for x in r.json()["results"]] == ["accepted", "duplicate",
                                                              "accepted", "accepted"]
        yield Drive(server, cid, heads["admin"], heads["intake"], heads["team_lead"],
                    {e.line: e.entry_id for e in entries}, device.device_token)


def _request(fields: dict, via: str = "mail", received_at: datetime | None = None) -> dict:
    at = received_at or datetime.now(UTC) - timedelta(hours=1)
    return {"signer": fields, "received_at": at.isoformat(), "received_via": via}


def test_withdrawal_flow_and_the_figures_that_follow(drive):
    before = drive.figures()
    assert (before["raw"], before["unique"], before["duplicates"], before["withdrawn"]) == (4, 3, 1, 0)
    assert before["valid"] == 2  # floor(3 x 0.75)
    summary, withdrawn_rows, check_rows, _ = drive.export()
    assert summary["W1"]["counted_lines"] == "3" and summary["W1"]["withdrawn_lines"] == "0"
    assert withdrawn_rows == [["section", "withdrawn_line"]]

    # An exact match (the server's matching keys) is withdrawn at once, with the signer's
    # repeated line.
    r = drive.post("/v1/withdrawals", drive.clerk, json=_request(GALLANT, "mail"))
    assert r.status_code == 201, r.text
    exact = r.json()
    assert (exact["state"], exact["match"], exact["entry_id"]) == ("withdrawn", "exact", drive.ids[1])
    assert [(x["section"], x["line"]) for x in exact["lines"]] == [("W1", 1), ("W1", 2)]
    mid = drive.figures()
    assert (mid["raw"], mid["unique"], mid["duplicates"], mid["withdrawn"]) == (4, 2, 0, 2)

    # A fuzzy match ("Quil" for "Quill": no exact key, a possible duplicate) waits for a person.
    r = drive.post("/v1/withdrawals", drive.clerk,
                   json=_request(dict(QUILL, last_name="Quil"), "in_person"))
    assert r.status_code == 201, r.text
    fuzzy = r.json()
    assert (fuzzy["state"], fuzzy["match"], fuzzy["lines"]) == ("pending", "fuzzy", [])
    assert [c["entry_id"] for c in fuzzy["candidates"]] == [drive.ids[3]]
    assert fuzzy["candidates"][0]["fields"]["last_name"] == "Quill"  # for the clerk to compare
    assert drive.figures()["unique"] == 2  # nothing changed without a person's decision
    # Only a candidate of the request can be confirmed.
    wrong = drive.post(f"/v1/withdrawals/{fuzzy['id']}/decision", drive.clerk,
                       json={"decision": "withdraw", "entry_id": drive.ids[4]})
    assert wrong.status_code == 422 and wrong.json()["code"] == "not_a_candidate"
    r = drive.post(f"/v1/withdrawals/{fuzzy['id']}/decision", drive.clerk,
                   json={"decision": "withdraw", "entry_id": drive.ids[3]})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "withdrawn" and r.json()["lines"][0]["line"] == 3
    again = drive.post(f"/v1/withdrawals/{fuzzy['id']}/decision", drive.clerk,
                       json={"decision": "withdraw", "entry_id": drive.ids[3]})
    assert again.status_code == 409 and again.json()["code"] == "not_pending"

    after = drive.figures()
    assert (after["raw"], after["unique"], after["duplicates"], after["withdrawn"]) == (4, 1, 0, 3)
    assert after["valid"] == 0  # floor(1 x 0.75)
    # The simulator: the three withdrawn lines are in the sample and never valid.
    sim = after["sim"]
    assert (sim["raw"], sim["unique"], sim["withdrawn"]) == (4, 1, 3)
    expected = simulate(raw=4, unique=1, rejected=0, withdrawn=3, validity_rate=0.75,
                        required=4, trials=200)
    assert sim["median_projected_valid"] == expected.median_projected_valid <= 1
    assert before["sim"]["median_projected_valid"] > sim["median_projected_valid"]

    # The filing export's per-section list.
    summary, withdrawn_rows, check_rows, r = drive.export()
    assert summary["W1"]["counted_lines"] == "1" and summary["W1"]["withdrawn_lines"] == "3"
    assert summary["TOTAL"]["withdrawn_lines"] == "3"
    assert withdrawn_rows[1:] == [["W1", "1"], ["W1", "2"], ["W1", "3"]]
    assert check_rows[1][0] == "DRAFT" and r.headers["x-canvass-filing"] == "draft"
    assert "Gallant" not in r.text and "Quill" not in r.text

    # Audited (ids only), sealed at rest, keys consistent, no names in the list.
    with drive.server.db.read() as s:
        actions = s.scalars(select(AuditLog.action).where(AuditLog.action.like("withdrawal.%"))).all()
        assert sorted(actions) == ["withdrawal.apply", "withdrawal.apply", "withdrawal.record",
                                   "withdrawal.record"]
        blobs = s.scalars(select(Withdrawal.enc_signer)).all()
        assert len(blobs) == 2 and all(b and b"Gallant" not in b and b"Quil" not in b for b in blobs)
        assert not s.scalar(select(Entry.counted).where(Entry.id == drive.ids[1]))
        assert len(s.scalars(select(WithdrawnLine.entry_id)).all()) == 3
        assert key_integrity(s).ok
    if drive.server.db_url.startswith("sqlite:///"):  # the raw file, WAL included
        from pathlib import Path

        path = Path(drive.server.db_url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        assert raw and b"Gallant" not in raw and b"Spring" not in raw and b"Quil" not in raw
    listed = drive.get("/v1/withdrawals", drive.clerk)
    assert listed.status_code == 200 and len(listed.json()["items"]) == 2
    assert "Gallant" not in listed.text and "Spring" not in listed.text
    one = drive.get(f"/v1/withdrawals/{exact['id']}", drive.admin).json()
    assert one["signer"]["last_name"] == "Gallant" and one["received_via"] == "mail"


def test_no_match_is_left_to_a_person_and_roles_are_scoped(drive):
    r = drive.post("/v1/withdrawals", drive.clerk, json=_request(
        dict(first_name="Nobody", last_name="Atall", street="1 Nowhere Road", zip="90012")))
    assert r.status_code == 201 and r.json()["match"] == "none" and r.json()["state"] == "pending"
    wid = r.json()["id"]
    assert drive.post(f"/v1/withdrawals/{wid}/decision", drive.clerk,
                      json={"decision": "not_a_match"}).json()["state"] == "not_matched"
    assert drive.figures()["unique"] == 3
    # Team leads see counts, not signers; another campaign's staff see nothing of it.
    assert drive.post("/v1/withdrawals", drive.lead, json=_request(GALLANT)).status_code == 403
    assert drive.get("/v1/withdrawals", drive.lead).status_code == 403
    other = drive.server.create_campaign(name="Other", deadline="2030-12-31")
    stranger = drive.server.staff_headers(other, ("intake",))["intake"]
    assert drive.get(f"/v1/withdrawals/{wid}", stranger).status_code == 404
    assert drive.get("/v1/withdrawals", drive.clerk,
                     params={"campaign_id": other}).status_code == 403
    bad = drive.post("/v1/withdrawals", drive.clerk, json=dict(_request(GALLANT), received_via="fax"))
    assert bad.status_code == 422 and "Gallant" not in bad.text
    future = drive.post("/v1/withdrawals", drive.clerk, json=_request(
        GALLANT, received_at=datetime.now(UTC) + timedelta(days=2)))
    assert future.status_code == 422 and future.json()["code"] == "invalid_received_at"


def test_refused_once_the_petition_is_filed(drive):
    pending = drive.post("/v1/withdrawals", drive.clerk,
                         json=_request(dict(QUILL, last_name="Quil"))).json()
    assert pending["state"] == "pending"
    today = datetime.now(UTC).date()
    r = httpx.put(f"{drive.server.url}/v1/intake/retention", headers=drive.admin,
                  json={"retention_days": 90, "filed_on": (today - timedelta(days=1)).isoformat()})
    assert r.status_code == 200, r.text
    refused = drive.post("/v1/withdrawals", drive.clerk, json=_request(GALLANT))
    assert refused.status_code == 409 and refused.json()["code"] == "already_filed"
    assert "Gallant" not in refused.text
    late = drive.post(f"/v1/withdrawals/{pending['id']}/decision", drive.clerk,
                      json={"decision": "withdraw", "entry_id": drive.ids[3]})
    assert late.status_code == 409 and late.json()["code"] == "already_filed"
    figures = drive.figures()
    assert (figures["unique"], figures["withdrawn"]) == (3, 0)


def test_data_key_rotation_reseals_requests_and_purge_drops_them(drive):
    from sync.crypto import FieldCipher
    from sync.server import rotation, withdrawals

    wid = drive.post("/v1/withdrawals", drive.clerk, json=_request(GALLANT)).json()["id"]
    with drive.server.db.read() as s:
        old_id = FieldCipher.key_id_of(s.get(Withdrawal, wid).enc_signer)
    report = rotation.rotate_data(drive.server.db, drive.server.keys, batch_size=5,
                                  grace_seconds=1.2, actor="test")
    with drive.server.db.read() as s:
        assert FieldCipher.key_id_of(s.get(Withdrawal, wid).enc_signer) == report.key_id != old_id
    # Re-sealed under the new key, and it still opens.
    assert drive.get(f"/v1/withdrawals/{wid}", drive.clerk).json()["signer"]["last_name"] == "Gallant"
    with drive.server.db.write() as s:
        assert withdrawals.purge_withdrawals(s, drive.cid) == 1
    purged = drive.get(f"/v1/withdrawals/{wid}", drive.clerk).json()
    assert purged["signer"] is None and purged["state"] == "withdrawn"


def test_a_withdrawn_line_corrected_by_the_device_stays_withdrawn(drive):
    """The circulator fixes a typo on a line whose signer has withdrawn: the correction is the
    same signature, and must not bring the signer back into the count (EC 11303)."""
    r = drive.post("/v1/withdrawals", drive.clerk, json=_request(GALLANT, "mail"))
    assert r.status_code == 201 and r.json()["state"] == "withdrawn", r.text
    withdrawn = drive.figures()
    assert (withdrawn["unique"], withdrawn["withdrawn"]) == (2, 2)
    before_export = drive.export()[1]

    correction = server_helpers.signer(first="Perpetua", last="Gallant", street="88 N Spring St",
                                       city="Los Angeles", zip="90012", section="W1", line=1,
                                       device_seq=5, supersedes=drive.ids[1])
    token = drive.token  # the line's own device
    body = server_helpers.batch_body([correction])
    r = httpx.post(f"{drive.server.url}/v1/entries/batch", json=body,
                   headers=server_helpers.device_headers(token, body), timeout=60)
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["status"] == "accepted"  # the device's answer, as for any line

    after = drive.figures()
    assert (after["raw"], after["unique"], after["withdrawn"]) == (
        withdrawn["raw"], withdrawn["unique"], withdrawn["withdrawn"])
    assert drive.export()[1] == before_export  # still W1 1 and 2, listed once each
    with drive.server.db.read() as s:
        assert not s.scalar(select(Entry.counted).where(Entry.id == correction.entry_id))
        assert s.get(WithdrawnLine, correction.entry_id) is not None
        assert key_integrity(s).ok
    # A later signature of the same person on another line is a new one (the keys were freed).
    again = server_helpers.signer(first="Perpetua", last="Gallant", street="88 North Spring Street",
                                  city="Los Angeles", zip="90012", section="W1", line=6, device_seq=6)
    body = server_helpers.batch_body([again])
    r = httpx.post(f"{drive.server.url}/v1/entries/batch", json=body,
                   headers=server_helpers.device_headers(token, body), timeout=60)
    assert r.json()["results"][0]["status"] == "accepted"
    assert drive.figures()["unique"] == withdrawn["unique"] + 1
