"""A generated 100,000-row county voter file through the real import (SQLite file), then
petition entries with realistic faults matched against it: the server's answers must equal
the generator's truth exactly; the device's compact index must agree except for lines with a
name typo (the device checks exact keys) and the index's stated false-positive rate."""

from __future__ import annotations

from collections import Counter

import pytest
import server_helpers

from sync.normalize import normalized_record
from sync.server import admin
from sync.server.db import Database
from sync.server.migrate import upgrade_head
from sync.server.models import Campaign
from sync.server.voters.candidates import DbVoterSource
from sync.server.voters.importer import import_voter_file
from sync.server.voters.index_feed import build_response
from sync.server.voters.registrations import match_records
from sync.server.voters.store import active_file_id, voter_cipher
from sync.voters.keys import registration_subkey
from sync.voters.matcher import match_entry
from sync.voters.synthetic import write_voter_file

pytestmark = pytest.mark.slow  # minutes on a busy 2-core machine (conftest: longer timeout)

ROWS = 100_000
ENTRIES = 4000


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("v100k")
    url = f"sqlite:///{tmp / 'server.db'}"
    upgrade_head(url)
    keys = server_helpers.server_keys_for(url)
    db = Database(url)
    cid = admin.create_campaign(db, keys, name="100k", goal=1000, deadline="2030-01-01", actor="test")
    vf = write_voter_file(tmp / "county.csv", ROWS, seed=2024, n_entries=ENTRIES)
    result = import_voter_file(db, keys, cid, vf.path, rematch=False)
    yield db, keys, cid, vf, result, tmp
    db.dispose()


def test_import_counts(imported):
    _db, _keys, _cid, vf, result, _tmp = imported
    assert result.rows_loaded == ROWS == vf.rows
    assert result.skipped == {"cancelled": vf.cancelled}
    # ~2.1 distinct keys per voter; about 18 bits each.
    assert 1.5 * ROWS < result.index_keys < 3 * ROWS
    assert result.index_bytes < 3 * result.index_keys + 4 * 2 ** 16
    assert result.false_positive_rate < 1 / 2000


def test_server_matches_equal_truth(imported):
    db, keys, cid, vf, _result, _tmp = imported
    with db.read() as s:
        index_key = admin.campaign_index_key(keys, s.get(Campaign, cid))
        source = DbVoterSource(s, voter_cipher(db, keys), active_file_id(s, cid))
        wrong = []
        for e in vf.entries:
            got = match_entry(index_key, e.fields, source).match.value
            if got != e.truth:
                wrong.append((e.truth, got, e.status, e.faults))
    truths = Counter(e.truth for e in vf.entries)
    assert min(truths.values()) > 100
    assert {"moved", "unregistered", "here"} == {e.status for e in vf.entries}
    assert wrong == []


def test_bulk_matching_equals_entry_by_entry(imported):
    """match_records (intake and re-match: bulk reads per page) answers exactly what the
    per-entry DbVoterSource does, voter row and score included."""
    db, keys, cid, vf, _result, _tmp = imported
    cipher = voter_cipher(db, keys)
    with db.read() as s:
        index_key = admin.campaign_index_key(keys, s.get(Campaign, cid))
        file_id = active_file_id(s, cid)
        source = DbVoterSource(s, cipher, file_id)
        one_by_one = {str(i): match_entry(index_key, e.fields, source) for i, e in enumerate(vf.entries)}
        records = [(str(i), normalized_record(e.fields)) for i, e in enumerate(vf.entries)]
        bulk = {}
        for start in range(0, len(records), 250):  # the intake chunk size
            bulk.update(match_records(s, cipher, index_key, file_id, records[start:start + 250]))
    assert bulk == one_by_one
    assert {r.match.value for r in bulk.values()} >= {"registered_here", "registered_elsewhere", "not_found"}


def test_device_index_agrees(imported):
    db, keys, cid, vf, _result, tmp = imported
    from canvass.state.registration_check import RegistrationCheck

    with db.read() as s:
        index_key = admin.campaign_index_key(keys, s.get(Campaign, cid))
    check = RegistrationCheck(tmp / "device.regindex", registration_subkey(index_key))  # the device's key
    check.apply_response(build_response(db, cid, 0).model_dump())
    wrong = [(e.truth, check.check(e.fields)) for e in vf.entries
             if "typo" not in e.faults and check.check(e.fields) != e.truth]
    assert len(wrong) <= 0.01 * len(vf.entries)
    typos = [e for e in vf.entries if "typo" in e.faults]
    assert typos  # the device cannot see through these; the server (above) does
