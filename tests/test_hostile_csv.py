"""Formulas never reach a CSV the project writes; devices cannot invent sections (issue 16,
Medium 6). Over HTTP on a real server, SQLite and PostgreSQL.

The attack: a device sends an entry whose section is ``=HYPERLINK(...)``; a device name, a
circulator, a team, a clerk-typed circulator and an imported cell start with ``= + - @``.
Every export (dashboard export.csv, filing.csv, an import's rejections.csv, the synthetic
county voter file) is then parsed: no cell may start a formula, and the invented section is
neither stored nor in the reconciliation.
"""

from __future__ import annotations

import csv
import io
import random

import httpx
import server_helpers
from sqlalchemy import select, update

from sync.csv_cells import FORMULA_START, csv_writer, unescape_cell
from sync.protocol import ReasonCode
from sync.server.models import Entry

FORMULA_SECTION = '=HYPERLINK("http://attacker.example/x","open")'
HOSTILE = ("=1+2", "+SUM(A1)", "-3+4", "@cmd", "\t=1", "\r=1")


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _no_formulas(text: str) -> None:
    bad = [cell for cell in _cells(text) if cell.startswith(FORMULA_START)]
    assert bad == [], bad


def test_a_device_cannot_invent_a_section(campaign_staff):
    server, cid, who = campaign_staff
    enrolled = server.enroll_device(cid)
    good = server_helpers.signer(section="S100", line=1, device_seq=1)
    bad = server_helpers.signer(section=FORMULA_SECTION, line=1, device_seq=2,
                                first="Evander", last="Holloway")
    body = server_helpers.batch_body([good, bad])
    r = httpx.post(f"{server.url}/v1/entries/batch", json=body,
                   headers=server_helpers.device_headers(enrolled.device_token, body))
    assert r.status_code == 200, r.text
    first, second = r.json()["results"]
    assert first["status"] == "accepted"
    assert second["status"] == "rejected"
    assert second["reason_code"] == int(ReasonCode.INVALID_SECTION_SERIAL)
    with server.db.read() as s:  # refused before anything was stored
        assert s.get(Entry, bad.entry_id) is None
        assert s.scalars(select(Entry.section).where(Entry.campaign_id == cid)).all() == ["S100"]
    # Sent again: the same answer, still nothing stored.
    again = server_helpers.batch_body([bad])
    r = httpx.post(f"{server.url}/v1/entries/batch", json=again,
                   headers=server_helpers.device_headers(enrolled.device_token, again))
    assert r.json()["results"][0]["status"] == "rejected"
    # A row stored with such a section by older code stays out of reconciliation and filing.
    with server.db.write() as s:
        s.execute(update(Entry).where(Entry.id == good.entry_id).values(section=FORMULA_SECTION))
    recon = httpx.get(f"{server.url}/v1/intake/reconciliation", headers=who["clerk"]).json()
    assert [x["serial"] for x in recon["sections"]] == []
    filing = httpx.get(f"{server.url}/v1/intake/export/filing.csv", headers=who["admin"])
    assert filing.status_code == 200 and "HYPERLINK" not in filing.text


def test_every_export_neutralises_formula_cells(campaign_staff):
    server, cid, who = campaign_staff
    # Dashboard: a device name, a circulator and a team that start formulas.
    for n, text in enumerate(HOSTILE[:4]):
        enrolled = server.enroll_device(cid, device_name=text, circulator=text, team=text)
        entry = server_helpers.signer(section=f"D{n}00", line=1, device_seq=1)
        body = server_helpers.batch_body([entry])
        assert httpx.post(f"{server.url}/v1/entries/batch", json=body, headers=server_helpers
                          .device_headers(enrolled.device_token, body)).status_code == 200
    dash = httpx.get(f"{server.url}/v1/dashboard/export.csv", headers=who["admin"])
    assert dash.status_code == 200 and "HYPERLINK" not in dash.text
    assert {"'" + t for t in HOSTILE[:4]} <= set(_cells(dash.text))
    _no_formulas(dash.text)

    # Filing: a clerk-typed circulator on an issued section, and a returned-by name.
    r = httpx.post(f"{server.url}/v1/intake/sections/issue", headers=who["clerk"],
                   json={"serials": ["D000"], "circulator": "=1+1"})
    assert r.status_code == 200, r.text
    r = httpx.post(f"{server.url}/v1/intake/sections/D100/checkin", headers=who["clerk"],
                   json={"returned_by": "@SUM(1)", "signed_lines": 1})
    assert r.status_code == 201, r.text
    filing = httpx.get(f"{server.url}/v1/intake/export/filing.csv", headers=who["admin"])
    assert filing.status_code == 200
    assert "'=1+1" in _cells(filing.text)
    _no_formulas(filing.text)

    # An import's rejection file echoes the rejected cells: neutralised.
    rows = ("Section,Line,First Name,Last Name,Street,City,ZIP\n"
            "I100,1,=HYPERLINK(\"http://x\"),+Holloway,-12 Main Street,@Los Angeles,ABCDE\n")
    r = httpx.post(f"{server.url}/v1/intake/imports", headers=who["clerk"], data={"wait": "true"},
                   files={"file": ("rows.csv", rows.encode(), "text/csv")}, timeout=60)
    assert r.status_code == 202 and r.json()["rejected_rows"] == 1, r.text
    rejections = httpx.get(f"{server.url}/v1/intake/imports/{r.json()['job_id']}/rejections.csv",
                           headers=who["clerk"])
    assert rejections.status_code == 200
    assert "'=HYPERLINK(\"http://x\")" in _cells(rejections.text)
    _no_formulas(rejections.text)


def test_synthetic_voter_file_and_the_round_trip(tmp_path):
    from sync.voters.synthetic import write_voter_file

    path = tmp_path / "county.csv"
    write_voter_file(path, 200, seed=7)
    _no_formulas(path.read_text(encoding="utf-8"))
    # What the one writer neutralises, the importer's reader restores (nothing typed is lost).
    buf = io.StringIO()
    cells = [*HOSTILE, "'=already quoted", "plain", "+1 (213) 555-0101"]
    csv_writer(buf).writerow(cells)
    _no_formulas(buf.getvalue())
    assert [unescape_cell(c) for c in _cells(buf.getvalue())] == cells
    rng = random.Random(3)
    for _ in range(2000):  # any text survives the round trip
        text = "".join(rng.choice("=+-@\t\r'a1 ") for _ in range(rng.randint(0, 6)))
        out = io.StringIO()
        csv_writer(out).writerow([text])
        assert unescape_cell(next(csv.reader(io.StringIO(out.getvalue())))[0]) == text
