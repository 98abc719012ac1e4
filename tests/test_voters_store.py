"""Voter files on a real database (SQLite file and PostgreSQL): streaming import into a new
generation, atomic replacement, encrypted records, index versions and deltas, re-matching of
stored entries, the registration-index endpoint over HTTP, the CLI, and the device check."""

from __future__ import annotations

import argparse
import base64
import json

import httpx
import pytest
import requests
import server_helpers
from sqlalchemy import func, select

from canvass.state.registration_check import (
    NOT_FOUND,
    REGISTERED_ELSEWHERE,
    REGISTERED_HERE,
    UNKNOWN,
    RegistrationCheck,
)
from sync.crypto import TamperedData
from sync.server import admin, voters_cli
from sync.server.app import create_app
from sync.server.config import Settings
from sync.server.db import Database
from sync.server.migrate import upgrade_head
from sync.server.models import EntryRegistration, VoterFile, VoterFilePointer, VoterKey, VoterRecord
from sync.server.routes import registration
from sync.server.voters.importer import import_voter_file
from sync.server.voters.index_feed import build_response
from sync.server.voters.registrations import registration_summary, registrations_for
from sync.server.voters.sealing import open_voter
from sync.server.voters.store import voter_cipher
from sync.voters.columns import ColumnMapping, MappingError
from sync.voters.keys import registration_subkey
from sync.voters.reader import read_voter_file
from sync.voters.synthetic import write_voter_file


@pytest.fixture
def setup(db_url, tmp_path):
    upgrade_head(db_url)
    keys = server_helpers.server_keys_for(db_url)
    db = Database(db_url)
    cid = admin.create_campaign(db, keys, name="Voters test", goal=1000, deadline="2030-01-01", actor="test")
    yield db, keys, cid
    db.dispose()


def _wire(fields: dict) -> dict:
    return {k: fields[k] for k in ("first_name", "last_name", "street", "unit", "city", "zip")}


def test_import_replace_delta_and_device(setup, tmp_path):
    db, keys, cid = setup
    a = write_voter_file(tmp_path / "a.csv", 1500, seed=3)
    b = write_voter_file(tmp_path / "b.csv", 1700, seed=3)  # the same 1500 voters + 200 new ones
    progress = []
    ra = import_voter_file(db, keys, cid, a.path, progress=lambda *p: progress.append(p), batch_rows=400)
    assert ra.rows_loaded == a.rows and ra.replaced is None and progress[-1][0] == ra.rows_read
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(VoterRecord)
                        .where(VoterRecord.file_id == ra.file_id)) == a.rows
        blob = s.scalar(select(VoterRecord.enc_fields).where(VoterRecord.file_id == ra.file_id,
                                                             VoterRecord.row == 1))
    first_row = next(read_voter_file(a.path, ColumnMapping.build()))
    assert first_row.fields["last_name"].encode() not in blob  # sealed, not in clear
    cipher = voter_cipher(db, keys)
    assert open_voter(cipher, ra.file_id, 1, blob)["last_name"] == first_row.fields["last_name"]
    with pytest.raises(TamperedData):  # bound to its row: moved elsewhere it does not open
        open_voter(cipher, ra.file_id, 2, blob)

    # The device: a snapshot first.
    device = RegistrationCheck(tmp_path / "store.db.regindex", registration_subkey(
        admin.campaign_index_key(keys, _campaign(db, cid))))
    assert device.check(_wire(first_row.fields)) == UNKNOWN  # no index yet
    snap = build_response(db, cid, 0).model_dump()
    assert snap["reset"] and snap["snapshot"] and snap["version"] == ra.index_version
    device.apply_response(snap)
    assert device.version == ra.index_version
    assert device.check(_wire(first_row.fields)) == REGISTERED_HERE
    moved = dict(_wire(first_row.fields), street="1 Nowhere Ln", zip="90001")
    assert device.check(moved) == REGISTERED_ELSEWHERE
    # Names in no voter file: "not found", but for the index's false positives (about 1/4096
    # a probed key, a few keys a name: ~0.4 of 400 expected; one name alone failed CI once).
    letters = "bcdfghjklmnpqrstvwxz"
    nobodies = [dict(moved, first_name="Zy" + letters[i % 20] + letters[i // 20 % 20] + "ox",
                     last_name="Qwer" + letters[i // 7 % 20] + letters[i % 13] + "tuip")
                for i in range(400)]
    answers = [device.check(n) for n in nobodies]
    assert answers.count(NOT_FOUND) >= 395 and UNKNOWN not in answers
    assert device.check(dict(_wire(first_row.fields), zip="")) == UNKNOWN  # not typed yet
    assert build_response(db, cid, ra.index_version).snapshot is None  # up to date

    # Re-import a newer file: new generation, pointer flipped, old rows gone, delta to devices.
    rb = import_voter_file(db, keys, cid, b.path, batch_rows=500)
    assert rb.replaced == ra.file_id and rb.index_version > ra.index_version
    with db.read() as s:
        assert s.get(VoterFilePointer, cid).file_id == rb.file_id
        assert s.get(VoterFile, ra.file_id).state == "retired"
        assert s.scalar(select(func.count()).select_from(VoterKey).where(VoterKey.file_id == ra.file_id)) == 0
    delta = build_response(db, cid, ra.index_version)
    assert delta.snapshot is None and delta.added and not delta.removed
    device.apply_response(delta.model_dump())
    full = build_response(db, cid, 0)
    assert (tmp_path / "store.db.regindex").read_bytes() == base64.b64decode(full.snapshot)
    last_row = list(read_voter_file(b.path, ColumnMapping.build()))[-1]
    assert device.check(_wire(last_row.fields)) == REGISTERED_HERE
    index_key = admin.campaign_index_key(keys, _campaign(db, cid))
    again = RegistrationCheck(tmp_path / "store.db.regindex", registration_subkey(index_key))
    assert again.version == rb.index_version  # the file on disk survives a restart

    # A failed import leaves the active generation untouched.
    bad = tmp_path / "bad.csv"
    bad.write_text("Foo,Bar\n1,2\n")
    with pytest.raises(MappingError):
        import_voter_file(db, keys, cid, bad)
    with db.read() as s:
        assert s.get(VoterFilePointer, cid).file_id == rb.file_id
        states = dict(s.execute(select(VoterFile.id, VoterFile.state)).all())
    assert sorted(states.values()) == ["active", "failed", "retired"]


def _campaign(db, cid):
    from sync.server.models import Campaign

    with db.read() as s:
        return s.get(Campaign, cid)


@pytest.fixture
def voters_server(db_url):
    """The real app plus the registration router, served by uvicorn on a free port."""
    upgrade_head(db_url)
    keys = server_helpers.server_keys_for(db_url)
    app = create_app(Settings(db_url=db_url, keys=keys))
    if not any(getattr(r, "path", "") == "/v1/registration-index" for r in app.routes):
        app.include_router(registration.router)
    try:
        with server_helpers.serve_app(app, db_url, keys) as server:
            yield server
    finally:
        app.state.services.db.dispose()


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="canvass-server")
    voters_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_entries_rematched_cli_summary_and_http_index(voters_server, tmp_path, monkeypatch, capsys):
    srv = voters_server
    cid = srv.create_campaign()
    enrolled = srv.enroll_device(cid)
    vf = write_voter_file(tmp_path / "county.csv", 800, seed=9)
    rows = list(read_voter_file(vf.path, ColumnMapping.build()))
    here = _wire(rows[0].fields)
    moved = dict(_wire(rows[1].fields), street="77 Unlikely Way", zip="90012", city="Los Angeles", unit="")
    nobody = dict(_wire(rows[2].fields), first_name="Zzyzx", last_name="Qwertyuiop", unit="")
    entries = [server_helpers.signer(first=f["first_name"], last=f["last_name"], street=f["street"],
                                     city=f["city"], zip=f["zip"], unit=f["unit"])
               for f in (here, moved, nobody)]
    body = server_helpers.batch_body(entries)
    r = httpx.post(f"{srv.url}/v1/entries/batch", json=body,
                   headers=server_helpers.device_headers(enrolled.device_token, body))
    r.raise_for_status()
    statuses = [x["status"] for x in r.json()["results"]]
    assert statuses == ["accepted"] * 3

    # Before any voter file: everything unknown, projection from the campaign's rate.
    with srv.db.read() as s:
        summary = registration_summary(s, cid)
    assert summary["by_match"]["unknown"] == 3 and summary["voter_file"] is False

    monkeypatch.setenv("CANVASS_SERVER_KEY", base64.b64encode(srv.keys.server_key).decode())
    code = _cli(["voters", "import", str(vf.path), "--campaign", cid, "--db", srv.db_url, "--json",
                 "--map", "zip=Zip"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["rows_loaded"] == vf.rows
    assert out["rematched"] == {"registered_here": 1, "registered_elsewhere": 1, "not_found": 1}
    ids = [e.entry_id for e in entries]
    with srv.db.read() as s:
        regs = registrations_for(s, ids)
        summary = registration_summary(s, cid)
        assert s.scalar(select(func.count()).select_from(EntryRegistration)) == 3
    assert [regs[i].value for i in ids] == ["registered_here", "registered_elsewhere", "not_found"]
    assert summary["by_match"]["registered_here"] == 1 and summary["projected_valid"] == 1
    # Devices learn of the change through their outcomes feed (one outcome per entry).
    feed = httpx.get(f"{srv.url}/v1/outcomes", params={"since": 0},
                     headers=server_helpers.device_headers(enrolled.device_token)).json()
    assert sorted(o["entry_id"] for o in feed["outcomes"]) == sorted(ids)

    code = _cli(["voters", "status", "--campaign", cid, "--db", srv.db_url, "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["counted"] == 3

    # The index over HTTP, pulled by the device check with a requests session.
    check = RegistrationCheck(tmp_path / "dev.regindex", base64.b64decode(enrolled.registration_key))
    from canvass.state.registration_check import update_registration_index

    def fetch(since: int) -> dict:
        response = session.get(f"{srv.url}/v1/registration-index", params={"since": since},
                               headers=server_helpers.device_headers(enrolled.device_token))
        response.raise_for_status()
        return response.json()

    with requests.Session() as session:
        version = update_registration_index(check, fetch)
    assert version == out["index_version"] and check.check(here) == REGISTERED_HERE
    assert check.check(moved) == REGISTERED_ELSEWHERE and check.check(nobody) == NOT_FOUND
    denied = httpx.get(f"{srv.url}/v1/registration-index", params={"since": 0})
    assert denied.status_code == 401
