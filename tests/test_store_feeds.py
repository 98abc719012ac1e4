"""Feeds and small state: outcomes with their cursor, the campaign dedup index, local matches,
secrets and settings."""

from __future__ import annotations

import sqlite3

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


def test_index_delta_reset_and_lookup(tmp_path):
    store = new_store(tmp_path)
    assert (store.index_version(), store.index_size()) == (0, 0)
    keys = [key_for(f"signer{i}") for i in range(1000)]
    store.apply_index_delta(keys[:600], 3)
    store.apply_index_delta(keys[500:], 4)  # overlap is harmless
    assert (store.index_version(), store.index_size()) == (4, 1000)
    assert store.index_contains_any([key_for("stranger"), keys[999]])
    assert store.index_contains_any([keys[0].upper()])  # hex case does not matter
    assert not store.index_contains_any([key_for("stranger")])
    assert not store.index_contains_any([])
    store.apply_index_delta(keys[:10], 9, reset=True)
    assert (store.index_version(), store.index_size()) == (9, 10)
    store.apply_index_delta([], 10)  # an empty page still moves the version
    assert (store.index_version(), store.index_size()) == (10, 10)
    assert not store.index_contains_any([keys[999]])
    # Keys are stored compactly: 16 bytes each.
    raw = sqlite3.connect(store.path)
    assert raw.execute("SELECT DISTINCT length(key) FROM index_keys").fetchall() == [(16,)]


def test_malformed_keys_are_refused(tmp_path):
    store = new_store(tmp_path)
    with pytest.raises(ValueError):
        store.apply_index_delta(["not-hex"], 1)
    with pytest.raises(ValueError):
        store.save_entry(make_entry(1), ["abc"])
    good = [key_for(f"k{i}") for i in range(50)]
    for bad in ("g" * 32, f"{good[0][:30]} 1", "\uff10" * 32, None, "a" * 130):
        with pytest.raises(ValueError):  # one bad key refuses the whole page
            store.apply_index_delta([*good, bad], 1)
    assert store.index_version() == 0 and store.pending_count() == 0 and store.index_size() == 0
    store.apply_index_delta([*good, "ab", "C" * 128, good[0].upper()], 2)  # lengths may differ
    assert store.index_size() == 52


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
