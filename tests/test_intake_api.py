"""Office intake over a real server (HTTP, SQLite and PostgreSQL): check-in and reconciliation,
keyed lines, imports (HTTP and in-process through the batch intake), review decisions reaching
the device's outcomes feed, the admin-only audited export, retention purge."""

from __future__ import annotations

import csv
import io
import json

import httpx
from intake_helpers import FULL_DECLARATION, import_csv, signer
from sqlalchemy import func, select

from sync.intake.mapping import guess_mapping
from sync.server.intake.imports import create_job, run_import
from sync.server.intake.office import office_device_id
from sync.server.models import AuditLog, BlockKey, Entry, IndexKey, SignerKey
from sync.server.services import Services

# ------------------------------------------------------------------------------ check-in


def test_checkin_reconciliation_and_keyed_lines(office):
    from fault_layer import pronounceable

    names = [(pronounceable(i * 7 + 3), pronounceable(i * 13 + 5, 5)) for i in range(10)]
    results = office.push(*[signer("A1", line, n=line, first=names[line][0], last=names[line][1])
                            for line in (1, 2, 4, 9)])
    assert [r["status"] for r in results] == ["accepted"] * 4

    r = office.post("/sections/A1/checkin", office.clerk, json={
        "returned_by": "Circulator One", "signed_lines": 5, "declaration": FULL_DECLARATION[:4]})
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["missing_lines"] == [3, 5] and first["extra_lines"] == [9]
    assert first["status"] == "returned" and first["declaration_missing"] == ["date_and_place"]
    assert first["next_line"] == 3

    # Returned a second time, now with a complete declaration and line 9 signed on paper.
    r = office.post("/sections/A1/checkin", office.clerk, json={
        "returned_by": "Circulator One", "signed_lines": 6, "skipped_lines": "6-8",
        "declaration": FULL_DECLARATION})
    second = r.json()
    assert second["check_ins"] == 2 and len(second["history"]) == 2
    assert second["missing_lines"] == [3, 5] and second["extra_lines"] == []
    assert "returned_2_times" in second["warnings"]

    # Key the missing lines at the office; the same line keyed again is a harmless repeat.
    line3 = dict(section="A1", line=3, first_name=names[3][0], last_name=names[3][1],
                 street="103 North Main Street", city="Los Angeles", zip="90012")
    r = office.post("/lines", office.clerk, json=line3)
    assert r.status_code == 200 and r.json()["result"]["status"] == "accepted"
    assert r.json()["next_line"] == 4
    assert office.post("/lines", office.clerk, json=line3).json()["result"]["status"] == "already_received"
    bad = dict(line3, line=5, zip="1234")
    answer = office.post("/lines", office.clerk, json=bad).json()["result"]
    assert answer["status"] == "rejected" and answer["field"] == "zip" and answer["reason_code"] == 102
    assert "1234" not in json.dumps(answer)
    r = office.post("/lines", office.clerk, json=dict(line3, line=5, first_name=names[5][0],
                                                      last_name=names[5][1], street="105 Main St"))
    assert r.json()["result"]["status"] == "accepted"

    # The team lead (of no team) may not read the section's lines (issue 16, Low 13); the clerk may.
    assert office.get("/sections/A1", office.lead).status_code == 404
    section = office.get("/sections/A1", office.clerk).json()
    assert section["missing_lines"] == [] and section["rejected_lines"] == []
    assert section["status"] == "ready_to_file"

    whole = office.get("/reconciliation", office.clerk).json()
    assert whole["ready"] is True and whole["totals"]["paper_lines"] == 6
    with office.server.db.read() as s:
        office_rows = s.scalar(select(func.count()).select_from(Entry).where(
            Entry.device_id == office_device_id(office.cid)))
        assert office_rows == 3  # lines 3, 5 (accepted) and the rejected line 5
        actions = set(s.scalars(select(AuditLog.action).where(AuditLog.target.in_(["A1"]))))
        actions |= set(s.scalars(select(AuditLog.action).where(AuditLog.action == "line.key")))
    assert {"section.checkin", "line.key"} <= actions


def test_unissued_sections_block_filing(office):
    r = office.post("/sections/issue", office.clerk,
                    json={"serials": ["B1", "B2"], "circulator": "Ann", "handed_out": True})
    assert r.json() == {"issued": 2}
    office.post("/sections/B1/checkin", office.clerk,
                json={"returned_by": "Ann", "signed_lines": 0, "declaration": FULL_DECLARATION})
    whole = office.get("/reconciliation", office.clerk).json()
    assert whole["ready"] is False
    assert whole["blockers"] == [{"serial": "B2", "blocker": "not_returned"}]
    assert office.post("/sections/B%201/checkin", office.clerk,
                       json={"returned_by": "Ann", "signed_lines": 1}).status_code == 422


# ------------------------------------------------------------------------------ imports


def test_import_over_http_twice_with_rejection_file(office):
    data, bad = import_csv(60, bad_every=20)
    preview = office.post("/imports/preview", office.clerk,
                          files={"file": ("volunteers.csv", data, "text/csv")}).json()
    assert preview["mapping"]["zip"] == "ZIP" and preview["missing"] == []
    assert preview["total_rows"] == 60
    assert [row["row"] for row in preview["rows"] if row["errors"]] == [20]

    def run() -> dict:
        r = office.post("/imports", office.clerk, data={"wait": "true"},
                        files={"file": ("volunteers.csv", data, "text/csv")})
        assert r.status_code == 202, r.text
        job = r.json()
        assert job["state"] == "done" and job["rows_done"] == 60
        return job

    first = run()
    assert first["counts"]["accepted"] == 57 and first["counts"]["invalid"] == 3
    rejections = office.get(f"/imports/{first['job_id']}/rejections.csv", office.clerk)
    rows = list(csv.reader(io.StringIO(rejections.text)))
    assert [int(r[-4]) for r in rows[1:]] == sorted(bad)
    assert {r[-2] for r in rows[1:]} == {"zip"} and {r[-3] for r in rows[1:]} == {"102"}

    second = run()
    assert second["counts"]["already_received"] == 57 and second["counts"]["invalid"] == 3
    assert second["counts"]["accepted"] == 0
    with office.server.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Entry).where(
            Entry.campaign_id == office.cid)) == 57
    # A team lead may not import.
    assert office.post("/imports", office.lead,
                       files={"file": ("x.csv", data, "text/csv")}).status_code == 403


def test_import_in_process_twice_counts_exact(office):
    """1,000 rows, 1% bad, in batches through handle_batch (the batch endpoint's function)."""
    data, bad = import_csv(1000, bad_every=100)
    settings = office.server  # the same database and keys as the running server
    from sync.server.config import Settings

    svc = Services.build(Settings(db_url=settings.db_url, keys=settings.keys))
    try:
        headers = next(csv.reader(io.StringIO(data.decode().split("\r\n", 1)[0])))
        mapping = guess_mapping(headers)
        counts = []
        for _ in range(2):
            job = create_job(svc, office.cid, "clerk", "csv", None)
            counts.append(run_import(svc, job, office.cid, data, "rows.csv", mapping, batch_size=250))
        first, second = counts
        assert first.as_dict() == {"total": 1000, "blank": 0, "invalid": 10, "accepted": 990,
                                   "already_received": 0, "duplicate": 0, "possible_duplicate": 0,
                                   "rejected": 0, "conflict": 0}
        assert second.already_received == 990 and second.accepted == 0 and second.invalid == 10
        assert second.accounted == 1000
        with svc.db.read() as s:
            assert s.scalar(select(func.count()).select_from(Entry).where(
                Entry.campaign_id == office.cid)) == 990
        status = office.get(f"/imports/{job}", office.clerk).json()
        assert status["state"] == "done" and status["rejected_rows"] == 10
        assert status["rows_done"] == 1000 and status["total_rows"] == 1000
        assert len(bad) == 10
    finally:
        svc.db.dispose()


# ------------------------------------------------------------------------------ review


def test_review_decisions_reach_device_outcomes(office):
    first = office.push(signer("R1", 1, n=23), signer("R1", 2, n=50, first="Joaquin", last="Reyes"))
    assert [r["status"] for r in first] == ["accepted", "accepted"]
    later = office.push(signer("R2", 1, n=25),  # 125 vs 123 North Main: a possible duplicate
                        signer("R2", 2, n=52, first="Joaquin", last="Reyes"))
    assert [r["status"] for r in later] == ["possible_duplicate", "possible_duplicate"]
    ids = [r["entry_id"] for r in later]

    queue = httpx.get(f"{office.url}/v1/review/queue", headers=office.clerk).json()["items"]
    assert [item["entry"]["entry_id"] for item in queue] == ids
    assert httpx.get(f"{office.url}/v1/review/queue", headers=office.lead).status_code == 403

    d1 = httpx.post(f"{office.url}/v1/review/{ids[0]}/decision", headers=office.clerk,
                    json={"decision": "duplicate"})
    d2 = httpx.post(f"{office.url}/v1/review/{ids[1]}/decision", headers=office.clerk,
                    json={"decision": "not_duplicate"})
    assert d1.json()["status"] == "duplicate" and d2.json()["status"] == "accepted"

    feed = httpx.get(f"{office.url}/v1/outcomes?since=0", headers=office.device).json()
    by_id = {o["entry_id"]: o for o in feed["outcomes"]}
    assert by_id[ids[0]]["status"] == "duplicate"
    assert by_id[ids[0]]["duplicate_of"] == first[0]["entry_id"]
    assert by_id[ids[1]]["status"] == "accepted"
    with office.server.db.read() as s:
        decisions = s.execute(select(AuditLog.actor, AuditLog.target).where(
            AuditLog.action == "review.decision", AuditLog.target.in_(ids))).all()
    assert sorted(t for _a, t in decisions) == sorted(ids)
    assert all(a.startswith("user:") for a, _t in decisions)

    # The filing export lists the duplicate line with the line it repeats.
    text = office.get("/export/filing.csv", office.admin).text
    assert "R2,1,duplicate,R1,1," in text


# ------------------------------------------------------------------------------ export, retention


def test_export_is_admin_only_and_audited(office):
    office.push(signer("E1", 1, n=1))
    assert office.get("/export/filing.csv", office.lead).status_code == 403
    assert office.get("/export/filing.csv", office.clerk).status_code == 403
    r = office.get("/export/filing.csv", office.admin)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    header = r.text.splitlines()[0].split(",")
    assert header[:3] == ["section", "status", "circulator"]
    assert "Maria" not in r.text and "Lopez" not in r.text and "Main" not in r.text
    with office.server.db.read() as s:
        exports = s.scalars(select(AuditLog.actor).where(AuditLog.action == "export.filing",
                                                         AuditLog.target == office.cid)).all()
    assert len(exports) == 1


def test_retention_purge_drops_signer_data(office):
    office.push(signer("P1", 1, n=1))
    assert office.post("/retention/purge", office.admin).status_code == 409  # not due yet
    r = httpx.put(f"{office.url}/v1/intake/retention", headers=office.admin,
                  json={"retention_days": 0, "filed_on": "2026-01-02"})
    assert r.json()["purge_due"] is True
    assert httpx.put(f"{office.url}/v1/intake/retention", headers=office.clerk,
                     json={"retention_days": 0}).status_code == 403
    with office.server.db.read() as s:  # the keys are there to be purged
        assert s.scalar(select(func.count()).select_from(IndexKey)
                        .where(IndexKey.campaign_id == office.cid)) > 0
    r = office.post("/retention/purge", office.admin)  # unconfirmed: nothing happens
    assert r.status_code == 422 and r.json()["code"] == "purge_not_confirmed"
    r = office.post("/retention/purge", office.admin, json={"confirm": office.cid})
    assert r.status_code == 200 and r.json()["purged_entries"] == 1
    with office.server.db.read() as s:
        entry = s.scalars(select(Entry).where(Entry.campaign_id == office.cid)).one()
        assert entry.enc_first_name is None and entry.enc_street is None
        assert entry.enc_match is None  # the sealed normalized record is personal data too
        assert entry.fingerprint == ""  # keyed from the content
        assert entry.status == "accepted"  # counts survive the purge
        for model in (SignerKey, BlockKey, IndexKey):  # every key derived from the signer
            assert s.scalar(select(func.count()).select_from(model)
                            .where(model.campaign_id == office.cid)) == 0
    # The raw scans, voter files, import rejections: tests/test_purge_server.py.
