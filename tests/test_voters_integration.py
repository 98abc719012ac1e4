"""Voter files wired into the rest of the system (issue 8 integration), over a real server on
127.0.0.1, real SQLite and PostgreSQL, real device stores and the real sync client:

- data-key rotation re-seals voter records with entries; re-matching and a new import work
  after the old keys are gone;
- every entry is matched at intake, and the device learns the match from its outcomes feed;
- the device pulls the registration index during sync and answers from it (a server without
  the endpoint, or a campaign without a voter file, does not fail the sync)."""

from __future__ import annotations

import httpx
import pytest
import server_helpers
from server_helpers import batch_body, device_headers, running_server, signer
from sqlalchemy import func, select

from canvass.state.device_sync import device_sync_client
from canvass.state.registration_check import (
    NOT_FOUND,
    REGISTERED_ELSEWHERE,
    REGISTERED_HERE,
    UNKNOWN,
    RegistrationCheck,
    index_path_for,
)
from canvass.store import DeviceStore, KdfParams
from sync.crypto import FieldCipher, UnknownKey
from sync.device_keys import own_lines_key
from sync.domain import SignerEntry
from sync.enroll import enroll
from sync.matching import matching_keys
from sync.server import rotation
from sync.server.app import create_app
from sync.server.config import Settings
from sync.server.migrate import upgrade_head
from sync.server.models import EntryRegistration, OutcomeRow, VoterRecord
from sync.server.voters.importer import import_voter_file
from sync.server.voters.registrations import registrations_for, rematch_campaign
from sync.server.voters.sealing import open_voter
from sync.server.voters.store import voter_cipher
from sync.voters.columns import ColumnMapping
from sync.voters.reader import read_voter_file
from sync.voters.synthetic import write_voter_file

CHEAP = KdfParams(memory_kib=64, time_cost=1, parallelism=1)
NOBODY = {"first_name": "Zzyzx", "last_name": "Qwertyuiop"}


def _voters(tmp_path, name: str, rows: int, seed: int = 5):
    vf = write_voter_file(tmp_path / f"{name}.csv", rows, seed=seed)
    return vf, list(read_voter_file(vf.path, ColumnMapping.build()))


def _three(rows) -> list[SignerEntry]:
    """Signers: registered here, a voter's name at another address, nobody in the file."""
    here, other, absent = rows[0].fields, rows[1].fields, rows[2].fields
    return [signer(first=here["first_name"], last=here["last_name"], street=here["street"],
                   city=here["city"], zip=here["zip"], unit=here.get("unit", "")),
            signer(first=other["first_name"], last=other["last_name"], street="77 Unlikely Way",
                   city="Los Angeles", zip="90012"),
            signer(first=NOBODY["first_name"], last=NOBODY["last_name"], street=absent["street"],
                   city=absent["city"], zip=absent["zip"])]


def _post(server, token: str, entries) -> list[str]:
    import httpx

    body = batch_body(entries)
    r = httpx.post(f"{server.url}/v1/entries/batch", json=body, headers=device_headers(token, body),
                   timeout=60)
    assert r.status_code == 200, r.status_code
    return [x["status"] for x in r.json()["results"]]


def _voter_key_ids(db) -> set[int]:
    with db.read() as s:
        return {FieldCipher.key_id_of(b) for b in s.scalars(select(VoterRecord.enc_fields))}


def _matches(db, ids) -> list[str]:
    with db.read() as s:
        found = registrations_for(s, ids)
    return [found[i].value if i in found else "none" for i in ids]


EXPECTED = ["registered_here", "registered_elsewhere", "not_found"]


def test_data_key_rotation_reseals_voters_then_rematch_and_import_work(db_url, tmp_path):
    vf_a, rows = _voters(tmp_path, "a", 600)
    vf_b, _ = _voters(tmp_path, "b", 700)  # the same 600 voters and 100 more
    no_sleep = lambda _s: None  # noqa: E731 - nothing is posted while rotating
    with running_server(db_url) as server:
        cid = server.create_campaign()
        token = server.enroll_device(cid).device_token
        first = import_voter_file(server.db, server.keys, cid, vf_a.path)
        assert _voter_key_ids(server.db) == {1}
        entries = _three(rows)
        assert _post(server, token, entries) == ["accepted"] * 3
        ids = [e.entry_id for e in entries]
        assert _matches(server.db, ids) == EXPECTED  # matched at intake

        # Two rotations: key 2 replaces key 1, then key 3 replaces key 2 (whose row is deleted).
        report = rotation.rotate_data(server.db, server.keys, batch_size=50, sleep=no_sleep, actor="test")
        assert report.key_id == 2 and report.reencrypted >= vf_a.rows
        assert _voter_key_ids(server.db) == {2}
        report = rotation.rotate_data(server.db, server.keys, batch_size=50, sleep=no_sleep, actor="test")
        assert report.key_id == 3 and report.retired == [2]
        assert _voter_key_ids(server.db) == {3}
        with server.db.read() as s:
            blob = s.scalar(select(VoterRecord.enc_fields).where(VoterRecord.file_id == first.file_id,
                                                                 VoterRecord.row == rows[0].line))
        # The fixed key-1 cipher the voters code used to hold no longer opens a voter record.
        legacy = FieldCipher(rotation.legacy_data_key(server.keys))
        with pytest.raises(UnknownKey):
            open_voter(legacy, first.file_id, rows[0].line, blob)
        voter = open_voter(voter_cipher(server.db, server.keys), first.file_id, rows[0].line, blob)
        assert voter["last_name"] == rows[0].fields["last_name"]

        # Re-matching decrypts every voter candidate and entry under the new keys.
        with server.db.write() as s:
            s.execute(EntryRegistration.__table__.delete())
        assert rematch_campaign(server.db, server.keys, cid) == dict.fromkeys(EXPECTED, 1)
        assert _matches(server.db, ids) == EXPECTED

        # A new import after rotation: sealed under key 3, entries re-matched against it.
        second = import_voter_file(server.db, server.keys, cid, vf_b.path)
        assert second.replaced == first.file_id and second.rows_loaded == vf_b.rows
        assert second.rematched == dict.fromkeys(EXPECTED, 1)
        assert _voter_key_ids(server.db) == {3}
        # The serving process follows too: intake matches a new entry against the new file.
        again = signer(first=rows[3].fields["first_name"], last=rows[3].fields["last_name"],
                       street=rows[3].fields["street"], city=rows[3].fields["city"],
                       zip=rows[3].fields["zip"], unit=rows[3].fields.get("unit", ""))
        assert _post(server, token, [again]) == ["accepted"]
        assert _matches(server.db, [again.entry_id]) == ["registered_here"]


def _device(tmp_path, server, cid, name: str) -> DeviceStore:
    store = DeviceStore.create(tmp_path / f"{name}.db", "246813", kdf=CHEAP)
    enroll(server.url, server.enroll_code(cid), name, store)
    store.open_section(f"R-{name}", "Test Circulator")
    return store


def _save(store: DeviceStore, section: str, fields: dict) -> SignerEntry:
    index_key = own_lines_key(store)
    entry = SignerEntry(section=section, line=store.next_line(section), first_name=fields["first_name"],
                        last_name=fields["last_name"], street=fields["street"], city=fields["city"],
                        zip=fields["zip"], unit=fields.get("unit", ""))
    return store.save_entry(entry, matching_keys(index_key, entry.personal()))


def _outcome_rows(db, entry_ids) -> int:
    with db.read() as s:  # the module's PostgreSQL database is shared by its tests
        return s.scalar(select(func.count()).select_from(OutcomeRow)
                        .where(OutcomeRow.entry_id.in_(list(entry_ids)))) or 0


def test_intake_matches_every_entry_and_the_device_learns_it(db_url, tmp_path):
    vf, rows = _voters(tmp_path, "county", 500, seed=11)
    with running_server(db_url) as server:
        cid = server.create_campaign()
        store = _device(tmp_path, server, cid, "intake")
        try:
            # No voter file yet: intake stores no match and adds no outcome row.
            early = _save(store, "R-intake", rows[5].fields)
            assert device_sync_client(store, sleep=lambda _s: None).sync_once().ok
            with server.db.read() as s:
                assert s.scalar(select(func.count()).select_from(EntryRegistration)
                                .where(EntryRegistration.campaign_id == cid)) == 0
            assert _outcome_rows(server.db, [early.entry_id]) == 0
            assert store.get_entry(early.entry_id).registration == "unknown"

            import_voter_file(server.db, server.keys, cid, vf.path)  # re-matches `early`
            here, other, absent = (e.personal() for e in _three(rows))
            saved = [_save(store, "R-intake", f) for f in (here, other, absent)]
            ids = [e.entry_id for e in saved]
            report = device_sync_client(store, sleep=lambda _s: None).sync_once()
            assert report.ok and dict(report.results) == {"accepted": 3}
            # Matched inside the batch's transaction and said in each entry's result (protocol
            # 2): no outcome row repeats the answer the device already has; only the re-match
            # of `early` (after its answer) is an outcome.
            assert _matches(server.db, ids) == EXPECTED
            assert _outcome_rows(server.db, [early.entry_id, *ids]) == 1
            assert [store.get_entry(i).registration for i in ids] == EXPECTED
            assert store.get_entry(early.entry_id).registration == "registered_here"
            assert store.get_entry(ids[0]).status == "accepted"

            # A protocol-1 device (strict: it refuses unknown fields) gets results without the
            # field, and the match in an outcome, as before.
            token = server.enroll_device(cid, "old phone").device_token
            old = SignerEntry(**here, section="R-old", line=1, device_seq=1)
            body = batch_body([old])
            body["protocol_version"] = 1
            r = httpx.post(f"{server.url}/v1/entries/batch", json=body,
                           headers=device_headers(token, body), timeout=60)
            assert r.status_code == 200 and "registration" not in r.json()["results"][0]
            assert _outcome_rows(server.db, [old.entry_id]) == 1
        finally:
            store.close()


def test_device_pulls_the_registration_index_during_sync(db_url, tmp_path):
    vf, rows = _voters(tmp_path, "county", 400, seed=13)
    here = dict(rows[0].fields)
    # Made-up names: each reads "not found" unless one of its probe fingerprints collides with a
    # voter's (the index's stated false-positive rate, ~1/700 per check at this size).
    absent = [dict(rows[1].fields, first_name=first, last_name=NOBODY["last_name"])
              for first in ("Zzyzx", "Quorbl", "Xandrel", "Vexmo", "Ulquin")]
    moved = dict(rows[2].fields, street="9 Elsewhere Ave", zip="90012")
    with running_server(db_url) as server:
        cid = server.create_campaign()
        store = _device(tmp_path, server, cid, "regindex")
        try:
            client = device_sync_client(store, sleep=lambda _s: None)
            report = client.sync_once()  # no voter file: nothing to pull, and no failure
            assert report.ok and report.registration_version == 0
            assert not index_path_for(store.path).exists()
            assert RegistrationCheck.for_store(store).check(here) == UNKNOWN

            result = import_voter_file(server.db, server.keys, cid, vf.path)
            report = client.sync_once()
            assert report.ok and report.registration_version == result.index_version
            check = RegistrationCheck.for_store(store)  # what the capture form builds
            assert check.version == result.index_version
            assert check.check(here) == REGISTERED_HERE
            answers = [check.check(f) for f in absent]
            assert answers.count(NOT_FOUND) >= 4 and UNKNOWN not in answers
            assert check.check(moved) == REGISTERED_ELSEWHERE

            # A newer file: the next sync brings the delta; an open check sees it (no restart).
            vf2, rows2 = _voters(tmp_path, "county2", 450, seed=13)
            newcomer = dict(rows2[-1].fields)  # not in the first file (same seed, 50 rows more)
            second = import_voter_file(server.db, server.keys, cid, vf2.path)
            report = device_sync_client(store, sleep=lambda _s: None).sync_once()
            assert report.ok and report.registration_version == second.index_version
            assert check.check(newcomer) == REGISTERED_HERE and check.version == second.index_version
        finally:
            store.close()


@pytest.fixture
def server_without_voters(tmp_path):
    """The real app behind a wrapper answering 404 at /v1/registration-index: an older server."""
    db_url = f"sqlite:///{tmp_path / 'older-server.db'}"
    upgrade_head(db_url)
    keys = server_helpers.server_keys_for(db_url)
    app = create_app(Settings(db_url=db_url, keys=keys))

    async def older_server(scope, receive, send):  # answers as FastAPI does for an unknown path
        if scope["type"] == "http" and scope["path"] == "/v1/registration-index":
            await send({"type": "http.response.start", "status": 404,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": b'{"detail":"Not Found"}'})
            return
        await app(scope, receive, send)

    try:
        with server_helpers.serve_app(older_server, db_url, keys) as server:
            yield server
    finally:
        app.state.services.db.dispose()


def test_a_server_without_the_endpoint_does_not_fail_the_sync(server_without_voters, tmp_path):
    import httpx

    srv = server_without_voters
    cid = srv.create_campaign()
    store = _device(tmp_path, srv, cid, "old")
    try:
        token = store.get_secret("device_token")
        answer = httpx.get(f"{srv.url}/v1/registration-index", params={"since": 0},
                           headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 404
        _save(store, "R-old", {"first_name": "Ana", "last_name": "Reyes", "street": "5 Oak St",
                               "city": "Los Angeles", "zip": "90012"})
        report = device_sync_client(store, sleep=lambda _s: None).sync_once()
        assert report.ok and dict(report.results) == {"accepted": 1}
        assert report.registration_version == 0 and not index_path_for(store.path).exists()
        assert report.attempts == 5  # batch, outcomes, dedup index, one 404 (not retried), heartbeat
    finally:
        store.close()
