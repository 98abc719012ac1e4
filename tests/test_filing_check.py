"""The filing check (sync.intake.filing_check): each rule on a fixture that breaks it and only
it, one fixture that breaks none; then over HTTP (SQLite and PostgreSQL) the route, the
dashboard's blocking count and the filing export's final / DRAFT marker."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
import server_helpers

from sync.intake.filing_check import RULES, check_filing, window_start
from sync.intake.reconcile import DECLARATION_PARTS, CheckIn, EntryLine, SectionIssue, reconcile_campaign

DEADLINE = date(2026, 6, 30)
SIGNED = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)


def _lines(serial: str, numbers, at: datetime = SIGNED) -> list[EntryLine]:
    return [EntryLine(f"{serial}-{n}-{i}", serial, n, "accepted", captured_at=at)
            for i, n in enumerate(numbers)]


def _check_in(serial: str, signed: int, **kw) -> CheckIn:
    values = dict(declaration=frozenset(DECLARATION_PARTS), county="Los Angeles")
    values.update(kw)
    return CheckIn(serial, "Circulator", SIGNED + timedelta(days=2), signed, **values)


def clean() -> tuple[list[EntryLine], list[CheckIn], list[SectionIssue]]:
    """Two sections, returned, reconciled, declared, with their county, dated in the window;
    S2's line 3 is blank on the paper (skipped), which is no gap."""
    lines = _lines("S1", [1, 2, 3]) + _lines("S2", [1, 2, 4])
    checks = [_check_in("S1", 3), _check_in("S2", 3, skipped_lines=frozenset({3}))]
    return lines, checks, [SectionIssue("S1"), SectionIssue("S2")]


def codes(lines, checks, issues=()) -> set[tuple[str | None, str]]:
    check = check_filing(reconcile_campaign(lines, checks, issues), lines, checks,
                         deadline=DEADLINE, timezone="America/Los_Angeles")
    return {(b.serial, b.code) for b in check.blockers}


def test_a_drive_that_breaks_no_rule_is_ready():
    lines, checks, issues = clean()
    check = check_filing(reconcile_campaign(lines, checks, issues), lines, checks,
                         deadline=DEADLINE, timezone="America/Los_Angeles")
    assert check.ready and check.blocking == 0 and check.as_dict()["final"] is True


def test_declaration_incomplete_ec_104():
    lines, checks, issues = clean()
    checks[1] = replace(checks[1], declaration=frozenset(DECLARATION_PARTS) - {"signature"})
    check = check_filing(reconcile_campaign(lines, checks, issues), lines, checks, deadline=DEADLINE)
    assert [(b.serial, b.code, b.rule, b.parts) for b in check.blockers] == [
        ("S2", "declaration_incomplete", "EC 104", ("signature",))]


def test_line_gap_ec_100():
    # Not returned yet: S3 holds lines 1, 2 and 5, so 3 and 4 are a gap in its numbering.
    open_lines = _lines("S3", [1, 2, 5])
    assert codes(open_lines, []) == {("S3", "not_returned"), ("S3", "line_gap")}
    check = check_filing(reconcile_campaign(open_lines), open_lines, [], deadline=DEADLINE)
    gap = next(b for b in check.blockers if b.code == "line_gap")
    assert gap.lines == (3, 4) and gap.rule == "EC 100"
    # Returned: a number neither signed nor blank on the paper is a gap (here the paper says
    # two signed lines, so the entry on line 4 is also one reconciliation cannot place).
    lines, checks, issues = clean()
    lines.append(EntryLine("S1-5", "S1", 5, "accepted", captured_at=SIGNED))
    checks[0] = replace(checks[0], signed_lines=3)
    assert codes(lines, checks, issues) == {("S1", "line_gap"), ("S1", "extra_entries")}
    # A line the paper shows blank (skipped at check-in) is no gap: S2's line 3 in clean().
    assert ("S2", "line_gap") not in codes(*clean())


def test_line_repeated_ec_100():
    lines, checks, issues = clean()
    lines.append(EntryLine("S1-2-again", "S1", 2, "duplicate", captured_at=SIGNED))
    assert codes(lines, checks, issues) == {("S1", "line_repeated")}


def test_county_missing():
    lines, checks, issues = clean()
    checks[0] = replace(checks[0], county=" ")
    assert codes(lines, checks, issues) == {("S1", "county_missing")}


def test_dated_before_the_160_day_window_ec_11220():
    lines, checks, issues = clean()
    first_day = window_start(DEADLINE)
    assert (DEADLINE - first_day).days == 159  # 160 days, both ends included
    early = datetime(first_day.year, first_day.month, first_day.day, 7, 0, tzinfo=UTC)  # local day before
    lines[0] = replace(lines[0], captured_at=early)
    assert codes(lines, checks, issues) == {("S1", "dated_before_window")}
    lines[0] = replace(lines[0], captured_at=early + timedelta(days=1))
    assert codes(lines, checks, issues) == set()


def test_dated_after_the_deadline():
    lines, checks, issues = clean()
    lines[4] = replace(lines[4], captured_at=datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    assert codes(lines, checks, issues) == {("S2", "dated_after_deadline")}


def test_every_section_returned_and_reconciled_ec_11222a():
    lines, checks, issues = clean()
    issues.append(SectionIssue("S9", handed_out=True))  # still with a circulator
    assert codes(lines, checks, issues) == {("S9", "not_returned")}
    lines, checks, issues = clean()
    lines[1] = replace(lines[1], status="possible_duplicate")
    assert codes(lines, checks, issues) == {("S1", "review_pending")}
    lines, checks, issues = clean()
    lines.append(EntryLine("S1-9", "S1", 4, "accepted", captured_at=SIGNED))  # not on paper
    assert codes(lines, checks, issues) == {("S1", "extra_entries")}
    assert codes([], []) == {(None, "no_sections")}
    assert {RULES[c] for c in ("not_returned", "missing_lines", "review_pending")} == {"EC 11222(a)"}


# ------------------------------------------------------------------------------ over HTTP

FULL = list(DECLARATION_PARTS)


def test_route_dashboard_count_and_export_marker(db_url):
    with server_helpers.running_server(db_url) as server:
        deadline = (datetime.now(UTC) + timedelta(days=30)).date()
        cid = server.create_campaign(goal=10, deadline=deadline.isoformat())
        heads = server.staff_headers(cid)
        device = server.enroll_device(cid)
        entries = [server_helpers.signer(first=first, last=last, street=f"{n} North Main Street",
                                         section="F1", line=n, device_seq=n)
                   for n, (first, last) in enumerate((("Ottilie", "Vanderzee"),
                                                       ("Barnaby", "Quistgaard")), start=1)]
        body = server_helpers.batch_body(entries)
        assert httpx.post(f"{server.url}/v1/entries/batch", json=body, headers=server_helpers
                          .device_headers(device.device_token, body)).status_code == 200

        def check(who="intake"):
            r = httpx.get(f"{server.url}/v1/filing/check", headers=heads[who], timeout=60)
            return r

        def count(who="admin"):
            r = httpx.get(f"{server.url}/v1/dashboard/filing", headers=heads[who], timeout=60)
            assert r.status_code == 200, r.text
            return r.json()["filing"]["blocking"]

        def export():
            r = httpx.get(f"{server.url}/v1/intake/export/filing.csv", headers=heads["admin"])
            assert r.status_code == 200
            return list(csv.reader(io.StringIO(r.text.split("\r\n\r\n")[-1]))), r

        first = check().json()
        assert first["ready"] is False and first["final"] is False
        assert [(b["serial"], b["code"], b["rule"]) for b in first["blockers"]] == [
            ("F1", "not_returned", "EC 11222(a)")]
        assert count() == count("team_lead") == 1
        rows, r = export()
        assert rows[1][:2] == ["DRAFT", "1 blocking"] and rows[2][1:4] == ["not_returned",
                                                                           "EC 11222(a)", "F1"]
        assert "DRAFT" in r.headers["content-disposition"]

        # Returned without its county and with an incomplete declaration: two blockers.
        r = httpx.post(f"{server.url}/v1/intake/sections/F1/checkin", headers=heads["intake"],
                       json={"returned_by": "Circulator", "signed_lines": 2, "declaration": FULL[:4]})
        assert r.status_code == 201, r.text
        assert {b["code"] for b in check().json()["blockers"]} == {"declaration_incomplete",
                                                                   "county_missing"}
        assert count() == 2
        # Returned again, complete: nothing blocks, the export calls itself final.
        r = httpx.post(f"{server.url}/v1/intake/sections/F1/checkin", headers=heads["intake"],
                       json={"returned_by": "Circulator", "signed_lines": 2, "declaration": FULL,
                             "county": "Los Angeles"})
        assert r.status_code == 201, r.text
        done = check().json()
        assert done["ready"] and done["blocking"] == 0 and done["sections"] == {}
        assert count() == 0
        rows, r = export()
        assert rows[1][0] == "final" and r.headers["x-canvass-filing"] == "final"
        assert 'filename="filing.csv"' in r.headers["content-disposition"]
        assert check("team_lead").status_code == 403


@pytest.mark.parametrize("bad", [{"county": "x" * 65}, {"county": "a\u0000b"}])
def test_checkin_county_is_bounded(db_url, bad):
    with server_helpers.running_server(db_url) as server:
        cid = server.create_campaign(deadline="2030-12-31")
        head = server.staff_headers(cid, ("intake",))["intake"]
        r = httpx.post(f"{server.url}/v1/intake/sections/G1/checkin", headers=head,
                       json={"returned_by": "Circulator", "signed_lines": 1, **bad})
        assert r.status_code == 422
