"""Feeds and small state: outcomes with their cursor, local matches, secrets and settings; the
retired exact dedup index leaving an older store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from helpers_store import PIN, key_for, make_entry, new_store, save_lines

from canvass.store import DeviceStore, StoreLocked
from sync.protocol import EntryResult, EntryStatus, Outcome, RegistrationMatch


def test_outcomes_update_entries_and_cursor(tmp_path):
    store = new_store(tmp_path)
    a, b = save_lines(store, 2)
    batch = store.next_batch()
    store.apply_batch_results(batch.batch_id, [
        EntryResult(entry_id=a.entry_id, status=EntryStatus.POSSIBLE_DUPLICATE, candidate_of="c1"),
        EntryResult(entry_id=b.entry_id, status=EntryStatus.ACCEPTED)])
    assert store.outcomes_cursor() == 0
    store.apply_outcomes([
        Outcome(entry_id=a.entry_id, status=EntryStatus.DUPLICATE, duplicate_of="c1"),
        Outcome(entry_id=b.entry_id, status=EntryStatus.ACCEPTED,
                registration=RegistrationMatch.REGISTERED_HERE),
        Outcome(entry_id="unknown-entry", status=EntryStatus.ACCEPTED),
    ], cursor=42)
    assert store.outcomes_cursor() == 42
    got_a, got_b = store.get_entry(a.entry_id), store.get_entry(b.entry_id)
    assert (got_a.status, got_a.duplicate_of, got_a.candidate_of) == ("duplicate", "c1", None)
    assert (got_b.status, got_b.registration) == ("accepted", "registered_here")
    store.close()
    reopened = DeviceStore.open(store.path)
    reopened.unlock(PIN)
    assert reopened.outcomes_cursor() == 42


def test_a_version_2_store_drops_the_old_exact_index(tmp_path):
    """A store from before the door-step filter still holds the campaign's exact index (every
    counted signer's matching keys): it opens, and the index is gone from the file."""
    store = new_store(tmp_path)
    store.close()
    keys = [bytes.fromhex(key_for(f"signer{i}")) for i in range(1000)]
    raw = sqlite3.connect(store.path)
    raw.execute("CREATE TABLE index_keys (key BLOB PRIMARY KEY) WITHOUT ROWID")
    raw.executemany("INSERT INTO index_keys (key) VALUES (?)", [(k,) for k in keys])
    raw.execute("INSERT INTO state (name, value) VALUES ('index_version', 7)")
    raw.execute("UPDATE state SET value = 2 WHERE name = 'schema_version'")
    raw.commit()
    raw.close()
    assert keys[0] in store.path.read_bytes()
    store = DeviceStore.open(store.path)
    store.unlock(PIN)
    saved = store.save_entry(make_entry(1), [key_for("own")])
    assert store.find_local_match([key_for("own")]) == saved.entry_id
    store.close()
    raw = sqlite3.connect(store.path)
    assert raw.execute("SELECT name FROM sqlite_master WHERE name = 'index_keys'").fetchall() == []
    assert dict(raw.execute("SELECT name, value FROM state").fetchall()) == {
        "schema_version": 3, "last_device_seq": 1, "outcomes_cursor": 0}
    raw.close()
    on_disk = b"".join(p.read_bytes() for p in (store.path, Path(f"{store.path}-wal")) if p.exists())
    assert not any(k in on_disk for k in keys)
    again = DeviceStore.open(store.path)
    again.unlock(PIN)
    assert again.find_local_match([key_for("own")]) == saved.entry_id


def test_malformed_keys_are_refused(tmp_path):
    store = new_store(tmp_path)
    good = [key_for(f"k{i}") for i in range(50)]
    for bad in ("not-hex", "abc", "g" * 32, f"{good[0][:30]} 1", "\uff10" * 32, None, "a" * 130):
        with pytest.raises(ValueError):  # one bad key refuses the whole list
            store.save_entry(make_entry(1), [*good, bad])
        with pytest.raises(ValueError):
            store.find_local_match([*good, bad])
    assert store.pending_count() == 0 and store.last_device_seq() == 0
    # Lengths may differ, and hex case does not matter.
    saved = store.save_entry(make_entry(1), [*good, "ab", "C" * 128, good[0].upper()])
    assert store.find_local_match(["c" * 128]) == saved.entry_id
    assert store.find_local_match([good[0]]) == saved.entry_id


def test_find_local_match(tmp_path):
    store = new_store(tmp_path)
    a = store.save_entry(make_entry(1), [key_for("a1"), key_for("shared")])
    b = store.save_entry(make_entry(2), [key_for("b1"), key_for("shared")])
    assert store.find_local_match([key_for("nobody")]) is None
    assert store.find_local_match([key_for("b1")]) == b.entry_id
    assert store.find_local_match([key_for("shared")]) == a.entry_id  # the oldest
    assert store.find_local_match([key_for("shared")], exclude_entry_id=a.entry_id) == b.entry_id
    # A superseded entry is no longer live; its correction carries its own keys.
    fixed = store.save_entry(a.correction(first_name="Fixed"), [key_for("a2")])
    assert store.find_local_match([key_for("a1")]) is None
    assert store.find_local_match([key_for("a2")]) == fixed.entry_id
    # A rejected entry is not a signature.
    batch = store.next_batch()
    store.apply_batch_results(batch.batch_id, [
        EntryResult(entry_id=b.entry_id, status=EntryStatus.REJECTED, reason_code=102)])
    assert store.find_local_match([key_for("b1")]) is None


def test_secrets_are_encrypted_and_need_the_key(tmp_path):
    store = new_store(tmp_path)
    assert store.get_secret("device_token") is None
    store.set_secret("device_token", "tok-abcdef123456")
    store.set_secret("device_token", "tok-rotated999999")
    assert store.get_secret("device_token") == "tok-rotated999999"
    store.lock()
    with pytest.raises(StoreLocked):
        store.get_secret("device_token")
    store.unlock(PIN)
    store.close()
    assert b"tok-rotated" not in store.path.read_bytes()


def test_settings_are_json_and_readable_while_locked(tmp_path):
    store = new_store(tmp_path)
    assert store.get_setting("campaign", {"default": True}) == {"default": True}
    store.set_setting("campaign", {"name": "Parks", "goal": 12000, "zips": ["90012"]})
    store.set_setting("idle_lock_seconds", 90)
    store.lock()
    assert store.get_setting("campaign") == {"name": "Parks", "goal": 12000, "zips": ["90012"]}
    with pytest.raises(StoreLocked):
        store.set_setting("idle_lock_seconds", 5)
    store.close()
    reopened = DeviceStore.open(store.path)
    assert reopened.get_setting("idle_lock_seconds") == 90
