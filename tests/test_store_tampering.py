"""Ciphertexts are bound to their row and field: altering one, or moving one to another row or
another field, makes reading fail loudly (TamperedData) instead of showing wrong data."""

from __future__ import annotations

import sqlite3

import pytest
from helpers_store import PIN, make_entry, new_store

from canvass.store import DeviceStore, TamperedData
from sync.crypto import TamperedData as CryptoTampered


def _two_entries(tmp_path):
    store = new_store(tmp_path)
    a = store.save_entry(make_entry(1, first_name="Alpha", last_name="Anders"))
    b = store.save_entry(make_entry(2, first_name="Bravo", last_name="Birch"))
    store.close()
    return store.path, a, b


def _reopen(path):
    store = DeviceStore.open(path)
    store.unlock(PIN)
    return store


def _raw(path):
    # isolation_level=None: each statement commits at once, like another program editing the file.
    return sqlite3.connect(path, isolation_level=None)


def test_store_reexports_the_crypto_error():
    assert TamperedData is CryptoTampered


def test_flipped_byte_fails_loudly(tmp_path):
    path, a, b = _two_entries(tmp_path)
    with _raw(path) as conn:
        blob = bytearray(conn.execute("SELECT last_name FROM entries WHERE entry_id = ?",
                                      (a.entry_id,)).fetchone()[0])
        blob[-5] ^= 0x01
        conn.execute("UPDATE entries SET last_name = ? WHERE entry_id = ?", (bytes(blob), a.entry_id))
    store = _reopen(path)
    with pytest.raises(TamperedData) as info:
        store.get_entry(a.entry_id)
    assert "Anders" not in str(info.value)
    with pytest.raises(TamperedData):
        store.entries()
    # The untouched row still reads.
    assert store.get_entry(b.entry_id).entry.last_name == "Birch"
    store.close()


def test_ciphertext_moved_to_another_row_fails(tmp_path):
    path, a, b = _two_entries(tmp_path)
    with _raw(path) as conn:
        blob = conn.execute("SELECT last_name FROM entries WHERE entry_id = ?", (a.entry_id,)).fetchone()[0]
        conn.execute("UPDATE entries SET last_name = ? WHERE entry_id = ?", (blob, b.entry_id))
    store = _reopen(path)
    with pytest.raises(TamperedData):
        store.get_entry(b.entry_id)
    assert store.get_entry(a.entry_id).entry.last_name == "Anders"
    store.close()


def test_ciphertext_moved_to_another_field_fails(tmp_path):
    path, a, _ = _two_entries(tmp_path)
    with _raw(path) as conn:
        blob = conn.execute("SELECT first_name FROM entries WHERE entry_id = ?", (a.entry_id,)).fetchone()[0]
        conn.execute("UPDATE entries SET last_name = ? WHERE entry_id = ?", (blob, a.entry_id))
    store = _reopen(path)
    with pytest.raises(TamperedData):
        store.get_entry(a.entry_id)
    store.close()


def test_swapping_entry_ids_fails(tmp_path):
    """Renaming a row (entry_id edited in clear) unbinds every ciphertext of it."""
    path, a, _ = _two_entries(tmp_path)
    with _raw(path) as conn:
        conn.execute("UPDATE entries SET entry_id = 'forged-id' WHERE entry_id = ?", (a.entry_id,))
    store = _reopen(path)
    with pytest.raises(TamperedData):
        store.get_entry("forged-id")
    store.close()


def test_secret_moved_into_an_entry_field_fails(tmp_path):
    store = new_store(tmp_path)
    a = store.save_entry(make_entry(1))
    store.set_secret("token", "tok-123")
    store.close()
    with _raw(store.path) as conn:
        blob = conn.execute("SELECT value FROM secrets WHERE name = 'token'").fetchone()[0]
        conn.execute("UPDATE entries SET notes = ? WHERE entry_id = ?", (blob, a.entry_id))
    store = _reopen(store.path)
    with pytest.raises(TamperedData):
        store.get_entry(a.entry_id)
    assert store.get_secret("token") == "tok-123"
    store.close()
