"""What an enrolled device holds cannot confirm signers against the server's database (issue 15:
"keys are never derivable for people outside what the device holds").

The attack: someone holds an enrolled device (its store unlocked, so every secret in it) and a
dump of the server's database. For a person they guess, they compute the server's matching and
blocking keys with every key the device holds, and look for them among the stored keys. Before
2026-12-04 the device held the campaign's index key, and the guess was confirmed; now it holds
the registration key, its own lines' key and the door-step key, and nothing matches.

Real server over HTTP, SQLite and PostgreSQL, real device stores, the real enrollment and sync.
"""

from __future__ import annotations

import base64
import sqlite3

import httpx
from server_helpers import batch_body, device_headers, running_server, signer
from sqlalchemy import select

from canvass.store import DeviceStore, KdfParams
from sync.client import SyncClient
from sync.device_keys import OWN_LINES_KEY, REGISTRATION_KEY, own_lines_key, registration_key, upgrade
from sync.domain import SignerEntry
from sync.enroll import enroll
from sync.matching import blocking_keys, matching_keys
from sync.server.doorstep_filter import set_scope
from sync.server.models import BlockKey, IndexKey, SignerKey
from sync.voters.keys import registration_subkey

CHEAP = KdfParams(memory_kib=64, time_cost=1, parallelism=1)
SIGNERS = [signer("Rosalind", "Okonkwo-Baptiste", "1187 Vermont Avenue", zip="90006"),
           signer("Teodoro", "Villaseñor", "44 Alvarado Street", zip="90026")]


def _stored_keys(server, cid: str) -> set[str]:
    """Every matching, blocking and index-feed key in the server's database (the dump)."""
    with server.db.read() as s:
        return {k for model in (SignerKey, BlockKey, IndexKey)
                for k in s.scalars(select(model.key).where(model.campaign_id == cid))}


def _every_key_held(store: DeviceStore, path) -> list[bytes]:
    """Each secret in the device store, decrypted (the store unlocked), plus the door-step key."""
    with sqlite3.connect(path) as conn:
        names = [n for (n,) in conn.execute("SELECT name FROM secrets")]
    held = []
    for name in names:
        try:
            value = store.get_secret(name)
        except Exception:  # a bytes secret (the door-step blob and key): read below
            continue
        if value is None:
            continue
        try:
            held.append(base64.b64decode(value, validate=True))
        except ValueError:
            held.append(value.encode())
    door = store.doorstep_filter()
    if door is not None:
        held.append(door.key)
    return held


def test_a_device_and_a_dump_confirm_no_signer(db_url, tmp_path):
    with running_server(db_url) as server:
        cid = server.create_campaign()
        with server.db.write() as s:
            set_scope(s, cid, "campaign")  # the widest offline scope: the device holds most
        other = server.enroll_device(cid, "other phone").device_token
        body = batch_body(SIGNERS)
        r = httpx.post(f"{server.url}/v1/entries/batch", json=body, headers=device_headers(other, body),
                       timeout=60)
        assert [x["status"] for x in r.json()["results"]] == ["accepted", "accepted"]

        path = tmp_path / "stolen.db"
        device = DeviceStore.create(path, "246810", kdf=CHEAP)
        enroll(server.url, server.enroll_code(cid), "stolen tablet", device)
        device.open_section("R-stolen", "Test Circulator")
        own = SignerEntry(section="R-stolen", line=1, first_name="Ines", last_name="Quarshie",
                          street="9 Echo Park Avenue", city="Los Angeles", zip="90026")
        device.save_entry(own, matching_keys(own_lines_key(device), own.personal()))
        assert SyncClient(device, sleep=lambda _s: None).sync_once().ok
        assert SyncClient(device, sleep=lambda _s: None).sync_once().ok
        assert device.doorstep_filter() is not None and len(device.doorstep_filter()) > 0

        dump = _stored_keys(server, cid)
        assert dump  # the server does hold every signer's keys
        held = _every_key_held(device, path)
        assert len(held) >= 3  # device token, registration key, own lines' key, door-step key
        index_key = server.index_key(cid)
        assert index_key not in held
        for person in [*SIGNERS, own]:
            fields = person.personal()
            # The attack, with every key the device holds: nothing in the dump answers.
            for key in held:
                assert not set(matching_keys(key, fields) + blocking_keys(key, fields)) & dump
            # ... while the same guess under the index key is in the dump: what a device that
            # held the index key (before 2026-12-04) could confirm.
            assert set(matching_keys(index_key, fields)) & dump
        # The registration key is the one the server's registration index is made with.
        assert registration_key(device) == registration_subkey(index_key)


def test_a_store_enrolled_before_keeps_its_checks_and_loses_the_index_key(tmp_path):
    """A store that holds the campaign index key (enrolled before 2026-12-04) is upgraded on
    first use: the registration key derived, its own lines re-keyed under a new key of its own,
    the index key deleted."""
    index_key = bytes(range(32))
    path = tmp_path / "old.db"
    store = DeviceStore.create(path, "135790", kdf=CHEAP)
    store.set_secret("index_key", base64.b64encode(index_key).decode())
    store.open_section("R-old", "Test Circulator")
    lines = [SignerEntry(section="R-old", line=i + 1, first_name=f, last_name=last, street=st,
                         city="Los Angeles", zip="90012")
             for i, (f, last, st) in enumerate([("Maria", "Lopez", "12 Main Street"),
                                             ("James", "Okafor", "300 Spring Street")])]
    for entry in lines:
        store.save_entry(entry, matching_keys(index_key, entry.personal()))

    assert upgrade(store) is True
    assert store.get_secret("index_key") is None
    assert registration_key(store) == registration_subkey(index_key)
    own = own_lines_key(store)
    assert own != index_key and len(own) == 32
    for entry in lines:  # the device's own-line check still finds its lines ...
        assert store.find_local_match(matching_keys(own, entry.personal())) == entry.entry_id
        # ... and nothing is left under the old key
        assert store.find_local_match(matching_keys(index_key, entry.personal())) is None
    assert upgrade(store) is False  # once
    assert own_lines_key(store) == own

    # Locked and opened again: the same keys (they are in the store, sealed).
    store.close()
    again = DeviceStore.open(path)
    again.unlock("135790")
    assert own_lines_key(again) == own and registration_key(again) == registration_subkey(index_key)
    with sqlite3.connect(path) as conn:
        names = {n for (n,) in conn.execute("SELECT name FROM secrets")}
    assert {REGISTRATION_KEY, OWN_LINES_KEY} <= names and "index_key" not in names


def test_a_new_registration_key_is_not_overwritten_by_an_old_stores_upgrade(tmp_path):
    """Re-enrolling a store enrolled before (it still holds the index key): the key the server
    sends now wins over one derived from the old index key."""
    from sync.device_keys import keep_registration_key

    store = DeviceStore.create(tmp_path / "re.db", "135790", kdf=CHEAP)
    store.set_secret("index_key", base64.b64encode(b"\x01" * 32).decode())
    fresh = b"\x02" * 32
    keep_registration_key(store, base64.b64encode(fresh).decode())
    assert registration_key(store) == fresh and store.get_secret("index_key") is None
