"""The offline door-step check (issue 15): better keys, a compact filter, a scoped leak.

Real parts: a real server over HTTP (fault_layer.ServerUnderTest), real SQLite device stores,
the real sync client. The household pairs come from the scorer's labelled table."""

from __future__ import annotations

import base64
import os
import sqlite3
from pathlib import Path

import httpx
import pytest
from fault_layer import ServerUnderTest, valid_entry
from scoring_pairs import DIFFERENT, SAME

from sync.client import SyncClient
from sync.device_keys import own_lines_key
from sync.doorstep_offline import DoorstepFilter, offline_answer
from sync.keyfilter import KeyFilter, KeyFilterError
from sync.matching import (
    MAYBE,
    NO,
    PROBABLY,
    doorstep_keys,
    doorstep_probes,
    doorstep_subkey,
    doorstep_verdict,
    matching_keys,
)

KEY = doorstep_subkey(b"\x07" * 32)


def _answer(stored: dict, typed: dict) -> str:
    held = KeyFilter.build(doorstep_keys(KEY, stored))
    return doorstep_verdict(held.hits(doorstep_probes(KEY, typed)))


# ------------------------------------------------------------------------------ keys and verdict

@pytest.mark.parametrize(("label", "a", "b"), [(r[0], r[1], r[2]) for r in DIFFERENT],
                         ids=[r[0] for r in DIFFERENT])
def test_different_people_are_never_probably_signed(label, a, b):
    """Father and son (Jr/Sr, middle initials), twins, neighbours in one building, spouses...:
    whichever signed first, the other is not "probably signed" offline."""
    assert _answer(a, b) != PROBABLY, label
    assert _answer(b, a) != PROBABLY, label


def test_same_people_mostly_probably_signed():
    """The same table's repeat signers written differently: most are caught outright, and
    the single-field errors the keys are built for all are."""
    answers = {r[0]: _answer(r[1], r[2]) for r in SAME}
    caught = [label for label, a in answers.items() if a == PROBABLY]
    for label in ("identical", "nickname_bob", "missing_middle", "unit_on_street_line",
                  "swapped_first_last", "last_name_transposition", "last_name_bv", "zip_typo",
                  "first_name_typo", "suffix_in_last_name_box", "last_name_dropped_letter",
                  "double_surname_partial"):
        assert answers[label] == PROBABLY, label
    assert len(caught) >= 0.7 * len(SAME), sorted(set(answers) - set(caught))
    assert answers["house_number_typo"] == NO  # same-name neighbours on one street: not covered
    # A dropped unit is a question (door_nolast), not a certainty: the unit-blank keys it would
    # take cost more bytes a signer than they caught (tests/benchmarks/doorstep_offline.py).
    assert answers["missing_unit"] == MAYBE


def test_weak_kinds_say_maybe():
    a = {"first_name": "Jennifer", "last_name": "Lopez", "street": "11 Figueroa St", "zip": "90012"}
    assert _answer(a, {**a, "last_name": "Lozano"}) == MAYBE
    assert doorstep_verdict([]) == NO and doorstep_verdict(["door_nolast"]) == MAYBE
    assert doorstep_verdict(["door_nolast", "door_exact"]) == PROBABLY


def test_doorstep_keys_are_not_matching_keys_and_need_the_fields():
    index_key = b"\x07" * 32
    fields = SAME[0][1]
    assert not set(doorstep_keys(KEY, fields)) & set(matching_keys(index_key, fields))
    assert doorstep_keys(KEY, {**fields, "zip": ""}) == [] and doorstep_probes(KEY, {}) == {}
    assert doorstep_keys(doorstep_subkey(b"\x08" * 32), fields) != doorstep_keys(KEY, fields)


# ------------------------------------------------------------------------------ the filter

def test_filter_false_positive_rate_and_size():
    keys = [os.urandom(16) for _ in range(60_000)]
    built = KeyFilter.build(keys)
    held = KeyFilter.from_bytes(built.to_bytes())
    assert all(k in held for k in keys)  # no false negatives
    assert all(k.hex() in held for k in keys[:100])
    probes = 300_000
    false = sum(os.urandom(16) in held for _ in range(probes))
    stated = held.false_positive_rate
    assert stated == 2 ** -16
    assert false / probes < 3 * stated, false  # measured about 1.5e-5
    assert held.nbytes * 8 / len(keys) < 21  # about 19 bits a key at this size


def test_filter_small_sets_and_bad_blobs():
    for n in (0, 1, 2, 3, 10):
        keys = [os.urandom(16) for _ in range(n)]
        held = KeyFilter.from_bytes(KeyFilter.build(keys).to_bytes())
        assert len(held) == n and all(k in held for k in keys)
    assert os.urandom(16) not in KeyFilter.build([])
    blob = KeyFilter.build([os.urandom(16) for _ in range(50)]).to_bytes()
    for bad in (b"", b"XXXX" + blob[4:], blob[:-2], blob + b"\0\0"):
        with pytest.raises(KeyFilterError):
            KeyFilter.from_bytes(bad)


# ------------------------------------------------------------------------------ over HTTP

def _device(tmp_path: Path, server: ServerUnderTest, name: str, team: str):
    from fault_layer import TEST_PIN

    from canvass.store import DeviceStore, KdfParams
    from sync.enroll import enroll
    from sync.server.admin import create_enroll_code

    code = create_enroll_code(server.db, server.settings.keys, campaign_id=server.campaign_id,
                              circulator=name, team=team).code
    store = DeviceStore.create(tmp_path / f"{name}.db", TEST_PIN,
                               kdf=KdfParams(memory_kib=64, time_cost=1, parallelism=1))
    enroll(server.url, code, name, store)
    store.open_section(f"S-{name}", name)
    return store


def _sign(store, n: int, zip_code: str):
    entry = valid_entry(n, section=f"S-{store.get_setting('circulator')}",
                        line=store.next_line(f"S-{store.get_setting('circulator')}"), zip=zip_code)
    return store.save_entry(entry, [])


def _sync(store):
    report = SyncClient(store, sleep=lambda _s: None).sync_once()
    assert report.ok, report.error_detail
    return report


def _set(server, *, scope=None, team=None, zips=None):
    from sync.server.doorstep_filter import set_scope, set_team_zips

    with server.db.write() as s:
        if scope:
            set_scope(s, server.campaign_id, scope)
        if team is not None:
            set_team_zips(s, server.campaign_id, team, zips)


@pytest.fixture()
def server(tmp_path):
    srv = ServerUnderTest(tmp_path / "server").start()
    yield srv
    srv.close()


def _filter_page(server, store, **params) -> dict:
    token = store.get_secret("device_token")
    r = httpx.get(f"{server.url}/v1/doorstep-filter", params=params,
                  headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return r.json()


def _signers(store):
    return [e.entry.personal() for e in store.entries()]


def test_a_device_gets_no_keys_outside_its_region(server, tmp_path):
    _set(server, team="east", zips=["90012"])
    _set(server, team="west", zips=["90033"])
    east, west, north = (_device(tmp_path, server, n, n) for n in ("east", "west", "north"))
    for i in range(2):
        _sign(east, 100 + i, "90012")
    for i in range(3):
        _sign(west, 200 + i, "90033")
    _sign(north, 300, "91101")  # a team with no ZIPs assigned: the ZIPs it worked in
    for store in (east, west, north, east, west, north):
        _sync(store)
    page = _filter_page(server, east)
    assert page["scope"] == "region" and page["signers"] == 2
    dkey = base64.b64decode(page["doorstep_key"])
    held = KeyFilter.from_bytes(base64.b64decode(page["filter"]))
    # Exactly the keys of the two signers in the region: nobody else's.
    assert len(held) == len({k for f in _signers(east) for k in doorstep_keys(dkey, f)})
    assert all(offline_answer(east, f) == PROBABLY for f in _signers(east))
    assert all(offline_answer(east, f) == NO for f in _signers(west) + _signers(north))
    assert _filter_page(server, north)["signers"] == 1
    assert all(offline_answer(north, f) == NO for f in _signers(east) + _signers(west))
    # An unchanged filter is not sent again.
    again = _filter_page(server, east, tag=page["tag"])
    assert again["unchanged"] and again["filter"] is None

    _set(server, scope="campaign")
    _sync(east)
    assert _filter_page(server, east)["signers"] == 6
    assert all(offline_answer(east, f) == PROBABLY for f in _signers(west) + _signers(north))

    _set(server, scope="none")
    _sync(east)
    none = _filter_page(server, east)
    assert none["filter"] is None and none["doorstep_key"] is None
    assert east.doorstep_filter() is None
    assert all(offline_answer(east, f) == NO for f in _signers(west))
    # ... while its own lines are still checked (exact keys of the device's own entries).
    own = own_lines_key(east)
    mine = _signers(east)[0]
    east.save_entry(valid_entry(999, section="S-east", line=east.next_line("S-east")),
                    matching_keys(own, mine))
    assert offline_answer(east, mine, own_lines_key=own) == PROBABLY


def test_revoked_device_and_rotation(server, tmp_path):
    from sync.server.admin import revoke_device
    from sync.server.rotation import rotate_index

    _set(server, team="east", zips=["90012"])
    east, west = _device(tmp_path, server, "east", "east"), _device(tmp_path, server, "west", "east")
    _sign(west, 400, "90012")
    _sync(west)
    _sync(east)
    stolen = east.doorstep_filter()
    before = _signers(west)[0]
    assert stolen.answer(before) == PROBABLY

    revoke_device(server.db, east.get_setting("device_id"))
    rotate_index(server.db, server.settings.keys, server.campaign_id)
    report = SyncClient(east, sleep=lambda _s: None).sync_once()
    assert not report.ok and report.error_kind == "AuthRevoked"
    token = east.get_secret("device_token")
    assert httpx.get(f"{server.url}/v1/doorstep-filter",
                     headers={"Authorization": f"Bearer {token}"}).status_code == 401

    after = _sign(west, 401, "90012").personal()
    _sync(west)
    _sync(west)
    assert west.get_setting("index_key_id") == 2  # the new index key came with the filter
    fresh = west.doorstep_filter()
    assert fresh.answer(after) == PROBABLY and fresh.answer(before) == PROBABLY
    # The stolen copy: it still knows whom it held, and nobody counted after the rotation;
    # its key tests nothing in a filter made after the rotation.
    assert stolen.answer(after) == NO
    replayed = DoorstepFilter(stolen.key, fresh.filter.to_bytes())
    assert replayed.answer(before) == NO and replayed.answer(after) == NO


def test_device_store_holds_a_sealed_blob_not_key_rows(server, tmp_path):
    _set(server, scope="campaign")
    west = _device(tmp_path, server, "west", "")
    for i in range(12):
        _sign(west, 500 + i, "90033")
    _sync(west)
    _sync(west)
    page = _filter_page(server, west)
    blob, dkey = base64.b64decode(page["filter"]), base64.b64decode(page["doorstep_key"])
    own = own_lines_key(west)
    west.close()
    path = tmp_path / "west.db"
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'index_keys'").fetchall() == []
    raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    assert len(blob) > 100
    # The blob's densest 16 bytes (slots left zero by the filter would match any page).
    start = max(range(32, len(blob) - 16), key=lambda i: len(set(blob[i:i + 16])))
    assert len(set(blob[start:start + 16])) >= 12
    for chunk in (blob[start:start + 16], dkey, base64.b64encode(blob)[40:80]):
        assert chunk not in raw
    keys = [bytes.fromhex(k) for f in ([valid_entry(500 + i, section="x", line=1, zip="90033").personal()
                                        for i in range(12)])
            for k in doorstep_keys(dkey, f) + matching_keys(own, f)]
    assert keys and not any(k in raw for k in keys)


def test_the_old_index_feed_is_refused_plainly(server, tmp_path):
    store = _device(tmp_path, server, "old", "")
    token = store.get_secret("device_token")
    r = httpx.get(f"{server.url}/v1/dedup-index", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 410 and r.json()["code"] == "index_feed_retired"
    assert "key" not in r.text.lower().replace("keys", "")  # no keys, no index key


def test_cli_sets_scope_and_team_zips_and_revokes_with_rotation(tmp_path):
    import json

    from cli_helpers import cli

    url = f"sqlite:///{tmp_path / 'c.db'}"
    assert cli("init", "--db", url).returncode == 0
    cid = json.loads(cli("campaign", "create", "--db", url, "--name", "Q", "--goal", "10",
                         "--deadline", "2030-01-01", "--json").stdout)["campaign_id"]
    made = cli("team", "zips", "--db", url, "--campaign", cid, "--team", "North",
               "--set", "90012, 90033-1234,90012", "--json")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["zips"] == ["90012", "90033"]
    shown = cli("team", "zips", "--db", url, "--campaign", cid, "--team", "North", "--json")
    assert json.loads(shown.stdout)["zips"] == ["90012", "90033"]
    bad = cli("team", "zips", "--db", url, "--campaign", cid, "--team", "North", "--set", "9001x")
    assert bad.returncode != 0 and "five digits" in bad.stderr
    assert cli("campaign", "doorstep", "--db", url, "--campaign", cid, "--scope", "none").returncode == 0
    assert cli("campaign", "doorstep", "--db", url, "--campaign", cid, "--scope", "all").returncode != 0
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        settings = json.loads(conn.execute(text("SELECT settings_json FROM campaigns")).scalar())
    assert settings["doorstep_scope"] == "none"
    from sync.domain import utcnow
    from sync.server.db import Database
    from sync.server.models import Campaign, Device

    db = Database(url)
    try:
        with db.write() as s:  # a device (enrolling over HTTP is tested above)
            s.add(Device(id="d" * 36, campaign_id=cid, circulator="Ann", name="t", token_hash="x" * 64,
                         enrolled_at=utcnow()))
        revoked = cli("device", "revoke", "--db", url, "--device", "d" * 36, "--rotate-index", "--json")
        assert revoked.returncode == 0, revoked.stderr
        assert json.loads(revoked.stdout) == {"revoked": "d" * 36, "index_key_id": 2}
        with db.read() as s:
            assert s.get(Campaign, cid).index_key_id == 2
            assert s.get(Device, "d" * 36).revoked_at is not None
    finally:
        db.dispose()
        engine.dispose()


def test_what_a_malicious_device_confirms_offline_per_scope(server, tmp_path):
    """The review's attack (issue 15): a device of team east tests a voter list (the 300
    signers of team west and 2,000 people who did not sign) against what it holds offline.
    The figures are in SECURITY.md."""
    _set(server, team="east", zips=["90012"])
    _set(server, team="west", zips=["90033"])
    east, west = _device(tmp_path, server, "east", "east"), _device(tmp_path, server, "west", "west")
    theirs = [_sign(west, 10_000 + i, "90033").personal() for i in range(300)]
    mine = [_sign(east, 20_000 + i, "90012").personal() for i in range(20)]
    others = [valid_entry(30_000 + i, section="x", line=1, zip=("90033", "90012")[i % 2]).personal()
              for i in range(2_000)]
    for store in (west, east, west, east):
        _sync(store)

    def confirmed() -> tuple[int, int, int, int]:
        """How many of each group the held filter answers "probably" for, and how many keys
        it holds beyond those of the signers it should hold (``expected``)."""
        held = east.doorstep_filter()
        if held is None:
            return 0, 0, 0, 0
        counts = tuple(sum(held.answer(f) == PROBABLY for f in group) for group in (theirs, mine, others))
        should = {k for f in expected for k in doorstep_keys(held.key, f)}
        return (*counts, len(held) - len(should))

    # A guess that is not in the filter still hits by chance: five "probably" probes at 2^-16
    # each, ~8e-5 a person, ~0.15 false hits over the 2,000 (seen: 1, once in a CI run). So the
    # chance hits are bounded, and what the filter holds is counted exactly: the keys of the
    # signers of the scope and no others.
    expected = mine
    region = confirmed()
    assert region[0] <= 1 and region[1] == 20 and region[2] <= 2  # its own team's signers only
    assert region[3] == 0  # ... and nothing of team west's 300 (they would add ~1,900 keys)
    _set(server, scope="campaign")
    _sync(east)
    expected = mine + theirs
    got = confirmed()
    assert got[:2] == (300, 20) and got[2] <= 2 and got[3] == 0  # campaign: every signer
    _set(server, scope="none")
    _sync(east)
    assert confirmed() == (0, 0, 0, 0)  # none: nothing (its own lines are checked, not here)


def test_an_expensive_build_is_served_again_for_a_while(server, tmp_path, monkeypatch):
    """A scope whose build took long is not rebuilt for every new signer; a rotation (a new
    key) is never served from the old build."""
    from sync.server import doorstep_filter
    from sync.server.rotation import rotate_index

    monkeypatch.setattr(doorstep_filter, "REUSE_AFTER_BUILD_SECONDS", 0.0)  # every build "costly"
    monkeypatch.setattr(doorstep_filter, "REUSE_FACTOR", 1e9)  # ... reused for the hour
    _set(server, scope="campaign")
    west = _device(tmp_path, server, "west", "")
    _sign(west, 700, "90033")
    _sync(west)
    _sync(west)
    assert _filter_page(server, west)["signers"] == 1
    _sign(west, 701, "90033")
    _sync(west)
    assert _filter_page(server, west)["signers"] == 1  # the recent build, not a new one
    rotate_index(server.db, server.settings.keys, server.campaign_id)
    assert _filter_page(server, west)["signers"] == 2


def test_devices_without_a_team_share_one_region(server, tmp_path):
    """The default: two tablets enrolled without a team hold each other's signers (the
    browser test's two devices), written differently at the door."""
    a, b = _device(tmp_path, server, "a", ""), _device(tmp_path, server, "b", "")
    a.save_entry(valid_entry(1, section="S-a", line=1, first_name="Maria", last_name="Lopez",
                             street="123 North Main Street", zip="90012"), [])
    _sync(a)
    _sync(b)
    repeat = {"first_name": "MARIA", "last_name": "Lopez", "street": "123 N Main St", "zip": "90012"}
    assert offline_answer(b, repeat) == PROBABLY
