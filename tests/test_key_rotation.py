"""Key rotation while the server keeps serving: the field data key and a campaign's index key.

Real server over HTTP on 127.0.0.1, real SQLite and PostgreSQL, real device stores and the
real sync client."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading

import httpx
import pytest
from fault_layer import pronounceable
from server_helpers import REPO, batch_body, device_headers, running_server, signer
from sqlalchemy import func, select

from canvass.store import DeviceStore, KdfParams
from sync.client import SyncClient
from sync.crypto import FieldCipher
from sync.device_keys import own_lines_key
from sync.enroll import enroll
from sync.matching import PROBABLY, doorstep_subkey, matching_keys
from sync.server import rotation
from sync.server.admin import campaign_index_key
from sync.server.dedup import decrypt_fields
from sync.server.doorstep_filter import set_scope
from sync.server.models import SEALED_ENTRY_FIELDS, Campaign, DataKey, Entry, IndexKey, SignerKey
from sync.voters.keys import registration_subkey

CHEAP = KdfParams(memory_kib=64, time_cost=1, parallelism=1)


def _w(n: int) -> str:
    """A distinct plausible name per n (letters only)."""
    return pronounceable(n * 7919 + 11, 4)


def _post(server, token: str, entries) -> list[str]:
    body = batch_body(entries)
    r = httpx.post(f"{server.url}/v1/entries/batch", json=body, headers=device_headers(token, body),
                   timeout=60)
    assert r.status_code == 200, r.text[:200]
    return [x["status"] for x in r.json()["results"]]


def _key_ids(server, cid: str) -> set[int]:
    ids = set()
    with server.db.read() as s:
        for entry in s.scalars(select(Entry).where(Entry.campaign_id == cid)):
            for column, _field in SEALED_ENTRY_FIELDS:  # the fields and the match blob
                blob = getattr(entry, column)
                if blob:
                    ids.add(FieldCipher.key_id_of(blob))
    return ids


def _plain_names(server, cid: str) -> dict[str, str]:
    cipher = rotation.data_cipher(server.db, server.keys)
    with server.db.read() as s:
        return {e.id: decrypt_fields(cipher, e)["last_name"]
                for e in s.scalars(select(Entry).where(Entry.campaign_id == cid))}


def test_data_key_rotation_while_batches_flow(db_url):
    with running_server(db_url) as server:
        cid = server.create_campaign()
        token = server.enroll_device(cid).device_token
        first = [signer(_w(i), _w(i + 500), f"{100 + i} Rotation Way") for i in range(40)]
        assert _post(server, token, first) == ["accepted"] * 40
        assert _key_ids(server, cid) == {1}

        sent, stop, errors = list(first), threading.Event(), []

        def keep_posting() -> None:
            i = 0
            while not stop.is_set() and i < 200:
                batch = [signer(_w(i + 1000), _w(i + 2000), f"{300 + i} Busy Street")]
                try:
                    statuses = _post(server, token, batch)
                except AssertionError as exc:  # reported below, not swallowed
                    errors.append(str(exc))
                    return
                if statuses != ["accepted"]:
                    errors.append(str(statuses))
                sent.extend(batch)
                i += 1

        poster = threading.Thread(target=keep_posting)
        poster.start()
        try:
            report = rotation.rotate_data(server.db, server.keys, batch_size=7, grace_seconds=1.5,
                                          actor="test")
        finally:
            stop.set()
            poster.join(timeout=60)
        assert errors == []
        assert report.key_id == 2 and report.retired == [] and report.passes >= 1
        assert report.reencrypted >= 40 * 5  # first, last, street, city, zip of the first 40
        # Entries posted after the rotation are sealed under the new key too.
        assert _post(server, token, [signer("After", "Rotationafter", "9 Later Lane")]) == ["accepted"]
        assert _key_ids(server, cid) == {2}
        names = _plain_names(server, cid)
        assert sorted(names.values()) == sorted([e.last_name for e in sent] + ["Rotationafter"])

        again = rotation.rotate_data(server.db, server.keys, batch_size=50, grace_seconds=1.2, actor="test")
        assert again.key_id == 3 and again.retired == [2]
        with server.db.read() as s:
            assert list(s.scalars(select(DataKey.id))) == [3]
        assert _key_ids(server, cid) == {3}
        assert sorted(_plain_names(server, cid).values()) == sorted(names.values())
        # The serving process reads the new key without a restart: a duplicate of an entry
        # sealed under key 3 is still found by the fuzzy matcher (which decrypts candidates).
        dup = signer(_w(3), _w(503), "103 Rotation Way")
        assert _post(server, token, [dup]) == ["duplicate"]


def test_rotate_data_cli(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'cli.db'}"
    with running_server(db_url) as server:
        cid = server.create_campaign()
        token = server.enroll_device(cid).device_token
        assert _post(server, token, [signer("Cli", "Clirotation")]) == ["accepted"]
        out = subprocess.run([sys.executable, "-m", "sync.server.cli", "keys", "rotate-data", "--db", db_url,
                              "--grace-seconds", "1.1", "--json"], cwd=REPO, capture_output=True,
                             text=True, timeout=120, check=True)
        # 5 sealed fields and the match blob
        assert json.loads(out.stdout) == {"key_id": 2, "reencrypted": 6, "passes": 2, "retired": []}
        assert _key_ids(server, cid) == {2}
        assert list(_plain_names(server, cid).values()) == ["Clirotation"]


def _device(tmp_path, server, cid, name: str) -> DeviceStore:
    store = DeviceStore.create(tmp_path / f"{name}.db", "246813", kdf=CHEAP)
    enroll(server.url, server.enroll_code(cid), name, store)
    store.open_section(f"R-{name}", "Test Circulator")
    return store


def _save(store: DeviceStore, section: str, first: str, last: str, street: str) -> None:
    from sync.domain import SignerEntry

    own = own_lines_key(store)
    entry = SignerEntry(section=section, line=store.next_line(section), first_name=first, last_name=last,
                        street=street, city="Los Angeles", zip="90012")
    store.save_entry(entry, matching_keys(own, entry.personal()))


def test_index_key_rotation_resets_devices_and_hands_out_the_new_key(db_url, tmp_path):
    with running_server(db_url) as server:
        cid = server.create_campaign()
        with server.db.write() as s:
            set_scope(s, cid, "campaign")  # b holds every signer offline
        a, b = _device(tmp_path, server, cid, "a"), _device(tmp_path, server, cid, "b")
        for i in range(5):
            _save(a, "R-a", _w(i), _w(i + 50), f"{10 + i} Index Road")
        assert SyncClient(a, sleep=lambda _s: None).sync_once().ok
        assert SyncClient(b, sleep=lambda _s: None).sync_once().ok
        old_key = b.get_secret("registration_key")
        with server.db.read() as s:
            old_rows = s.scalar(select(func.count()).select_from(IndexKey).where(IndexKey.campaign_id == cid))
            old_version = s.scalar(select(func.max(IndexKey.version)).where(IndexKey.campaign_id == cid))
        assert len(b.doorstep_filter()) > 0 and old_rows > 0

        report = rotation.rotate_index(server.db, server.keys, cid, actor="test")
        assert (report.key_id, report.entries, report.index_keys, report.reset_floor) == (
            2, 5, old_rows, old_version)
        with server.db.read() as s:
            campaign = s.get(Campaign, cid)
            new_key = campaign_index_key(server.keys, campaign)
            versions = sorted(s.scalars(select(IndexKey.version).where(IndexKey.campaign_id == cid)))
            claimed = set(s.scalars(select(SignerKey.key).where(SignerKey.campaign_id == cid)))
        assert versions == list(range(old_version + 1, old_version + 1 + old_rows))
        cipher = rotation.data_cipher(server.db, server.keys)
        with server.db.read() as s:
            expected = {k for e in s.scalars(select(Entry).where(Entry.campaign_id == cid)) for k in
                        matching_keys(new_key, decrypt_fields(cipher, e))}
        assert claimed == expected

        # Device b: next sync takes the new key and a filter re-keyed under it.
        report_b = SyncClient(b, sleep=lambda _s: None).sync_once()
        assert report_b.ok and report_b.index_keys_applied == 5
        # ... as its registration key (the index key itself never reaches a device)
        assert b.get_secret("index_key") is None
        assert base64.b64decode(b.get_secret("registration_key")) == registration_subkey(new_key)
        assert b.get_secret("registration_key") != old_key
        assert b.get_setting("index_key_id") == 2
        probe = {"first_name": _w(2), "last_name": _w(52), "street": "12 Index Road",
                 "city": "Los Angeles", "zip": "90012"}
        held = b.doorstep_filter()
        assert held.key == doorstep_subkey(new_key) and held.answer(probe) == PROBABLY
        # A second sync sends nothing again (no reset loop).
        assert SyncClient(b, sleep=lambda _s: None).sync_once().index_keys_applied == 0

        # A signer already counted is still found by exact keys under the new key.
        _save(b, "R-b", _w(2), _w(52), "12 Index Road")
        result_b = SyncClient(b, sleep=lambda _s: None).sync_once()
        assert result_b.ok and dict(result_b.results) == {"duplicate": 1}


def test_doorstep_feed_rotation_rules(tmp_path):
    """After an index rotation a device that names the old key id gets the new key id and
    registration key, and
    every device a filter under the new door-step key (a new tag)."""
    with running_server(f"sqlite:///{tmp_path / 'feed.db'}") as server:
        cid = server.create_campaign()
        token = server.enroll_device(cid).device_token
        assert _post(server, token, [signer("Feedfirst", "Feedlast")]) == ["accepted"]
        auth = {"Authorization": f"Bearer {token}"}

        def page(**params) -> dict:
            r = httpx.get(f"{server.url}/v1/doorstep-filter", params=params, headers=auth)
            assert r.status_code == 200
            return r.json()

        before = page(key_id=1)
        assert before["registration_key"] is None and before["index_key_id"] is None
        assert before["signers"] == 1
        assert page(key_id=1, tag=before["tag"])["unchanged"] is True
        rotation.rotate_index(server.db, server.keys, cid, actor="test")
        with server.db.read() as s:
            raw = campaign_index_key(server.keys, s.get(Campaign, cid))
        answer = page(key_id=1, tag=before["tag"])
        assert answer["registration_key"] == base64.b64encode(registration_subkey(raw)).decode()
        assert answer["index_key_id"] == 2 and "index_key" not in answer
        assert not answer["unchanged"] and answer["tag"] != before["tag"] and answer["key_id"] == 2
        assert base64.b64decode(answer["doorstep_key"]) == doorstep_subkey(raw)
        fresh = page(key_id=2, tag=answer["tag"])
        assert fresh["unchanged"] and fresh["registration_key"] is None


def test_stale_index_key_is_refused_inside_the_transaction(tmp_path):
    with running_server(f"sqlite:///{tmp_path / 'guard.db'}") as server:
        cid = server.create_campaign()
        with server.db.write() as s:
            rotation.guard_index_key(s, cid, 1)  # current: no error
        rotation.rotate_index(server.db, server.keys, cid, actor="test")
        with pytest.raises(rotation.StaleIndexKey), server.db.write() as s:
            rotation.guard_index_key(s, cid, 1)
        with server.db.write() as s:
            rotation.guard_index_key(s, cid, 2)
