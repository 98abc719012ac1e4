"""Signer data on the device lasts only as long as the campaign says (issue 19), with a real
server over HTTP and real SQLite store files:

- after a good sync round the app's client erases entries the server settled longer ago than
  the campaign's ``retention_days``, their keys too; the circulator's counts stay and the
  lines list says which lines were erased; the store file and its WAL then hold none of the
  erased signers' ciphertexts; after the server's purge the device's dedup index goes too,
  and no key of theirs is left in the file;
- ``canvass wipe --profile DIR`` (no PIN; asks first) and ``DeviceStore.wipe``;
- the campaign's ``pin_max_failures`` wipes the store after that many wrong PINs.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import server_helpers
from cli_helpers import canvass
from fake_clock import FakeClock
from helpers_store import CHEAP_KDF, PIN, make_entry, new_store

from canvass.state.device_sync import device_sync_client
from canvass.state.lines import SectionLines
from canvass.store import DeviceStore, StoreWiped, WrongPin
from canvass.store.profile import store_path
from sync.device_keys import own_lines_key
from sync.domain import PERSONAL_FIELDS, SignerEntry
from sync.enroll import enroll
from sync.matching import matching_keys
from sync.server.models import Campaign

SECTION = "R-0001"
ERASED = [dict(first_name="Zebulon", last_name="Marchbanks", street="4821 Wisteria Lane",
               city="Los Angeles", zip="90012", phone="626-555-0199", email="zeb.marchbanks@example.org"),
          dict(first_name="Philippa", last_name="Thistlewood", street="77 Quetzal Terrace",
               city="Los Angeles", zip="90026", email="pippa.thistle@example.net")]
KEPT = dict(first_name="Algernon", last_name="Pennyworth", street="310 Juniper Avenue",
            city="Los Angeles", zip="90012")
WORDS = [v for s in ERASED for k, v in s.items() if k not in ("city", "zip")]


@contextmanager
def enrolled(tmp_path: Path, clock: FakeClock, **settings) -> Iterator[tuple]:
    """A real server with a campaign of these CampaignSettings, and a device store enrolled
    through it over HTTP: yields (server, campaign id, store); closes the store after."""
    with server_helpers.running_server(f"sqlite:///{tmp_path / 'server.db'}") as server:
        cid = server.create_campaign(deadline="2030-12-31")
        with server.db.write() as s:
            s.get(Campaign, cid).settings_json = json.dumps(settings)
        store = DeviceStore.create(tmp_path / "device.sqlite", PIN, kdf=CHEAP_KDF, clock=clock)
        try:
            enroll(server.url, server.enroll_code(cid), "tablet", store)
            store.open_section(SECTION, "Circulator One")
            yield server, cid, store
        finally:
            store.close()


def _save(store: DeviceStore, fields: dict) -> SignerEntry:
    index_key = own_lines_key(store)
    entry = SignerEntry(section=SECTION, line=store.next_line(SECTION), **fields)
    return store.save_entry(entry, matching_keys(index_key, entry.personal()))


def _sealed(path: Path, entry_ids: list[str]) -> tuple[list[bytes], list[bytes]]:
    """The ciphertexts and local keys of these entries, read as an attacker would."""
    raw = sqlite3.connect(path)
    try:
        marks = ",".join("?" * len(entry_ids))
        out = []
        for row in raw.execute(f"SELECT {', '.join(PERSONAL_FIELDS)} FROM entries "
                               f"WHERE entry_id IN ({marks})", entry_ids):
            out += [bytes(v) for v in row if v is not None]
        keys = [bytes(k) for (k,) in raw.execute(
            f"SELECT key FROM local_keys WHERE entry_id IN ({marks})", entry_ids)]
        return out, keys
    finally:
        raw.close()


def _file_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def _left_in_file(path: Path, needles: list[bytes]) -> list[bytes]:
    """The needles still in the store file or its WAL."""
    raw = _file_bytes(path)
    return [n for n in needles if n in raw]


def test_a_good_round_erases_what_the_server_settled_past_the_retention(tmp_path):
    clock = FakeClock()
    with enrolled(tmp_path, clock, retention_days=2) as (server, cid, store):
        erased = [_save(store, fields) for fields in ERASED]
        ids = [e.entry_id for e in erased]
        blobs, keys = _sealed(store.path, ids)
        assert len(blobs) >= 12 and len(keys) >= 2
        assert all(b in _file_bytes(store.path) for b in blobs)  # the scan sees them now
        report = device_sync_client(store, sleep=lambda _s: None).sync_once()
        assert report.ok and report.purged == 0  # settled just now: inside the window
        clock.advance(86400)
        kept = _save(store, KEPT)
        clock.advance(86400 + 60)  # the first two were answered two days ago, `kept` one
        counts = (store.count_entries(section=SECTION), store.count_entries())

        client = device_sync_client(store, sleep=lambda _s: None)
        idle_with: list[int] = []  # entries held when the round says it is done (the app refreshes then)
        client.status.subscribe(lambda st: idle_with.append(len(store.entries()))
                                if str(st.state) == "idle" else None)
        report = client.sync_once()
        assert report.ok and report.purged == 2 and idle_with == [1]
        assert [s.entry.entry_id for s in store.entries()] == [kept.entry_id]
        # What the circulator sees stays: counts, used lines, which lines were erased.
        assert (store.count_entries(section=SECTION), store.count_entries()) == counts == (3, 3)
        assert store.next_line(SECTION) == 4 and store.list_sections()[0].lines_used == 3
        lines = SectionLines(store)
        lines.show(SECTION)
        assert [(r.line, r.status, r.can_correct) for r in lines.rows] == [
            (3, "accepted", True), (2, "purged", False), (1, "purged", False)]
        assert lines.rows[1].outcome.key == "outcome.purged"
        assert store.find_local_match(matching_keys(
            own_lines_key(store), ERASED[0])) is None
        # Nothing of the erased signers in the file or its WAL.
        raw = _file_bytes(store.path)
        assert [b for b in blobs if b in raw] == []
        for word in WORDS:
            assert word.encode() not in raw
        # Their matching keys went with them: the campaign's offline index is a sealed filter
        # of door-step keys (sync/keyfilter.py), never the raw keys.
        assert _left_in_file(store.path, keys) == []

        # The server's purge: at its next pull the device drops the index, and no key is left.
        server.add_user("purger", "correct horse battery staple", "admin", cid)
        admin = {"Authorization": "Bearer " + server.login("purger", "correct horse battery staple")}
        httpx.put(f"{server.url}/v1/intake/retention", headers=admin,
                  json={"retention_days": 0, "filed_on": "2026-01-02"}).raise_for_status()
        httpx.post(f"{server.url}/v1/intake/retention/purge", headers=admin, json={"confirm": cid},
                   timeout=120).raise_for_status()
        assert device_sync_client(store, sleep=lambda _s: None).sync_once().ok
        held = store.doorstep_filter()
        assert held is None or len(held) == 0  # the filter holds nobody: all purged
        assert _left_in_file(store.path, keys) == []
        store.close()
        assert _left_in_file(store.path, [*blobs, *keys]) == []  # closed, too


def test_no_purge_after_a_failed_round(tmp_path):
    clock = FakeClock()
    with enrolled(tmp_path, clock, retention_days=0) as (server, _cid, store):
        _save(store, ERASED[0])
        assert device_sync_client(store, sleep=lambda _s: None).sync_once().ok
        clock.advance(60)
        server.revoke_device(store.get_setting("device_id"))
        report = device_sync_client(store, sleep=lambda _s: None).sync_once()
        assert not report.ok and report.purged == 0 and len(store.entries()) == 1


def test_wrong_pins_wipe_the_store_when_the_campaign_says_so(tmp_path):
    clock = FakeClock()
    with enrolled(tmp_path, clock, pin_max_failures=3) as (_server, _cid, store):
        saved = _save(store, ERASED[0])
        blobs, _keys = _sealed(store.path, [saved.entry_id])
    store = DeviceStore.open(tmp_path / "device.sqlite", clock=clock)
    try:
        for _ in range(2):
            with pytest.raises(WrongPin):
                store.unlock("999999")
        with pytest.raises(StoreWiped):
            store.unlock("999999")
        with pytest.raises(StoreWiped):
            store.unlock(PIN)
    finally:
        store.close()
    assert _left_in_file(tmp_path / "device.sqlite", blobs) == []


def test_without_the_campaign_setting_wrong_pins_only_delay(tmp_path):
    clock = FakeClock()
    store = new_store(tmp_path, clock=clock)
    store.set_setting("campaign", {"pin_max_failures": 0})
    store.lock()
    for _ in range(4):
        with pytest.raises(WrongPin):
            store.unlock("999999")
        clock.advance(3600)
    store.unlock(PIN)
    store.close()


def test_store_wipe_needs_no_pin_and_leaves_no_ciphertext(tmp_path):
    store = new_store(tmp_path)
    saved = [store.save_entry(make_entry(n)) for n in (1, 2)]
    store.set_secret("device_token", "device-token-7f3a9c2b")
    blobs, _ = _sealed(store.path, [e.entry_id for e in saved])
    store.close()
    store = DeviceStore.open(store.path)  # locked: nobody knows the PIN
    store.wipe()
    store.close()
    assert _left_in_file(store.path, [*blobs, b"device-token-7f3a9c2b"]) == []
    store = DeviceStore.open(store.path)
    with pytest.raises(StoreWiped):
        store.unlock(PIN)
    store.close()


def test_canvass_wipe_asks_then_erases_the_profile(tmp_path):
    profile = tmp_path / "profile"
    profile.mkdir()
    store = DeviceStore.create(store_path(profile), PIN, kdf=CHEAP_KDF)
    store.open_section("A-0001", "Circulator One")
    store.save_entry(make_entry(1))
    store.close()
    (profile / "device.sqlite.regindex").write_bytes(b"index")  # the registration index beside it

    refused = canvass("wipe", "--profile", str(profile), pin=None, stdin="no\n")
    assert refused.returncode == 7 and "not wiped" in refused.stderr
    assert DeviceStore.exists(store_path(profile))

    done = canvass("wipe", "--profile", str(profile), pin=None, stdin="wipe\n")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in profile.iterdir()) == []

    missing = canvass("wipe", "--profile", str(profile), "--yes", pin=None)
    assert missing.returncode == 5 and "no device store" in missing.stderr


def test_a_version_1_store_is_upgraded_and_keeps_working(tmp_path):
    store = new_store(tmp_path)
    store.close()
    raw = sqlite3.connect(store.path)
    raw.execute("ALTER TABLE purged_lines DROP COLUMN captured_at")
    raw.execute("UPDATE state SET value = 1 WHERE name = 'schema_version'")
    raw.commit()
    raw.close()
    store = DeviceStore.open(store.path)
    store.unlock(PIN)
    assert store.count_entries() == 0 and store.purged_lines("A-0001") == []
    store.close()
