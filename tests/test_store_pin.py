"""PIN handling: wrong PINs, growing delays persisted across restarts, PIN change, wipe,
weak PINs, locking, and the KDF defaults."""

from __future__ import annotations

import sqlite3

import pytest
from fake_clock import FakeClock
from helpers_store import CHEAP_KDF, PIN, make_entry, new_store

from canvass.store import (
    DeviceStore,
    KdfParams,
    PinDelay,
    StoreError,
    StoreLocked,
    StoreWiped,
    WeakPin,
    WrongPin,
)
from canvass.store.keyring import required_wait

WRONG = "999999"


def _reopen(path, clock):
    return DeviceStore.open(path, clock=clock)


def test_default_kdf_is_at_least_owasp_minimum(tmp_path):
    params = KdfParams()
    assert params.memory_kib >= 19456 and params.time_cost >= 2 and params.parallelism >= 1
    store = DeviceStore.create(tmp_path / "d.db", PIN)  # default parameters, really used
    store.close()
    row = sqlite3.connect(tmp_path / "d.db").execute(
        "SELECT kdf_memory_kib, kdf_time_cost, kdf_parallelism FROM keyring").fetchone()
    assert row == (params.memory_kib, params.time_cost, params.parallelism)


def test_wrong_pin_raises_without_hint_and_right_pin_opens(tmp_path):
    clock = FakeClock()
    store = new_store(tmp_path, clock=clock)
    saved = store.save_entry(make_entry(1, last_name="Kowalczyk"))
    store.close()
    store = _reopen(store.path, clock)
    assert not store.is_unlocked
    with pytest.raises(WrongPin) as info:
        store.unlock(WRONG)
    assert str(info.value) == "Wrong PIN"
    assert info.value.retry_after == 0.0
    assert not store.is_unlocked
    store.unlock(PIN)
    assert store.get_entry(saved.entry_id).entry.last_name == "Kowalczyk"


def test_required_wait_schedule():
    assert [required_wait(n) for n in range(0, 7)] == [0, 0, 0, 1, 2, 4, 8]
    assert required_wait(12) == 300 and required_wait(500) == 300


def test_growing_delay_is_enforced_and_persisted(tmp_path):
    clock = FakeClock()
    store = new_store(tmp_path, clock=clock)
    store.close()
    store = _reopen(store.path, clock)
    for _ in range(2):
        with pytest.raises(WrongPin) as info:
            store.unlock(WRONG)
        assert info.value.retry_after == 0.0
    with pytest.raises(WrongPin) as info:
        store.unlock(WRONG)  # 3rd failure: the next attempt waits 2^0 = 1 s
    assert info.value.retry_after == 1.0
    # Even the right PIN is refused before the delay, without trying the KDF.
    with pytest.raises(PinDelay) as delay:
        store.unlock(PIN)
    assert delay.value.retry_after == pytest.approx(1.0)
    clock.advance(1.0)
    with pytest.raises(WrongPin) as info:
        store.unlock(WRONG)  # 4th failure -> 2 s
    assert info.value.retry_after == 2.0

    # Restarting the app does not reset the count or the delay.
    store.close()
    store = _reopen(store.path, clock)
    clock.advance(0.5)
    with pytest.raises(PinDelay) as delay:
        store.unlock(PIN)
    assert delay.value.retry_after == pytest.approx(1.5)
    clock.advance(1.5)
    store.unlock(PIN)
    assert store.is_unlocked

    # Success resets the counter: three fresh free attempts.
    store.lock()
    for _ in range(2):
        with pytest.raises(WrongPin) as info:
            store.unlock(WRONG)
        assert info.value.retry_after == 0.0


def test_delay_attempt_is_not_counted(tmp_path):
    clock = FakeClock()
    store = new_store(tmp_path, clock=clock)
    store.lock()
    for _ in range(3):
        with pytest.raises(WrongPin):
            store.unlock(WRONG)
    for _ in range(5):
        with pytest.raises(PinDelay):
            store.unlock(WRONG)
    failures = sqlite3.connect(store.path).execute("SELECT failures FROM keyring").fetchone()[0]
    assert failures == 3


def test_clock_set_back_does_not_escape_the_delay(tmp_path):
    clock = FakeClock()
    store = new_store(tmp_path, clock=clock)
    store.lock()
    for _ in range(5):
        with pytest.raises(WrongPin):
            store.unlock(WRONG)
        clock.advance(10)  # longer than any wait so far: every attempt is a real one
    clock.advance(-3600)
    with pytest.raises(PinDelay) as delay:
        store.unlock(PIN)
    assert delay.value.retry_after > 0


def test_change_pin_rewraps_and_keeps_data(tmp_path):
    clock = FakeClock()
    store = new_store(tmp_path, clock=clock)
    saved = store.save_entry(make_entry(1, first_name="Ottoline"))
    before = sqlite3.connect(store.path).execute(
        "SELECT first_name FROM entries").fetchone()[0]
    new_pin = "correct horse battery"
    with pytest.raises(WrongPin):
        store.change_pin(WRONG, new_pin)
    with pytest.raises(WeakPin):
        store.change_pin(PIN, "12345")
    store.change_pin(PIN, new_pin)
    store.close()

    store = _reopen(store.path, clock)
    with pytest.raises(WrongPin):
        store.unlock(PIN)
    store.unlock(new_pin)
    assert store.get_entry(saved.entry_id).entry.first_name == "Ottoline"
    # Re-wrap only: the entry's ciphertext is byte-for-byte the same.
    after = sqlite3.connect(store.path).execute("SELECT first_name FROM entries").fetchone()[0]
    assert after == before


def test_wipe_after_max_failures(tmp_path):
    clock = FakeClock()
    store = new_store(tmp_path, clock=clock)
    store.set_setting("pin_max_failures", 4)
    store.save_entry(make_entry(1))
    store.set_secret("token", "t")
    store.close()
    store = _reopen(store.path, clock)
    for _ in range(3):
        with pytest.raises(WrongPin):
            store.unlock(WRONG)
    clock.advance(3600)
    with pytest.raises(StoreWiped):
        store.unlock(WRONG)
    # Nothing left to open, even with the right PIN, even after a restart.
    clock.advance(3600)
    with pytest.raises(StoreWiped):
        store.unlock(PIN)
    store.close()
    store = _reopen(store.path, clock)
    with pytest.raises(StoreWiped):
        store.unlock(PIN)
    conn = sqlite3.connect(store.path)
    assert conn.execute("SELECT wrapped_key FROM keyring").fetchone()[0] is None
    assert conn.execute("SELECT count(*) FROM entries").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM secrets").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0


def test_no_wipe_when_setting_is_zero(tmp_path):
    clock = FakeClock()
    store = new_store(tmp_path, clock=clock)
    saved = store.save_entry(make_entry(1))
    store.lock()
    for _ in range(8):
        clock.advance(400)
        with pytest.raises(WrongPin):
            store.unlock(WRONG)
    clock.advance(400)
    store.unlock(PIN)
    assert store.get_entry(saved.entry_id).entry.entry_id == saved.entry_id


@pytest.mark.parametrize("pin", ["", "12345", "abcdefg", "        ", "１２３４５"])
def test_weak_pins_refused(tmp_path, pin):
    with pytest.raises(WeakPin):
        DeviceStore.create(tmp_path / "d.db", pin, kdf=CHEAP_KDF)
    assert not DeviceStore.exists(tmp_path / "d.db")


@pytest.mark.parametrize("pin", ["123456", "00000000", "abcdefgh", "long pass phrase"])
def test_acceptable_pins(tmp_path, pin):
    DeviceStore.create(tmp_path / "d.db", pin, kdf=CHEAP_KDF).close()
    store = DeviceStore.open(tmp_path / "d.db")
    store.unlock(pin)
    assert store.is_unlocked


def test_locked_store_refuses_reads_and_writes(tmp_path):
    store = new_store(tmp_path)
    saved = store.save_entry(make_entry(1))
    store.lock()
    assert not store.is_unlocked
    for call in (lambda: store.get_entry(saved.entry_id), store.entries, store.pending_count,
                 lambda: store.save_entry(make_entry(2)), store.next_batch,
                 lambda: store.get_secret("x"), store.list_sections):
        with pytest.raises(StoreLocked):
            call()
    store.unlock(PIN)
    assert store.pending_count() == 1


def test_open_refuses_missing_and_foreign_files(tmp_path):
    with pytest.raises(StoreError):
        DeviceStore.open(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError):
        DeviceStore.open(junk)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(StoreError):
        DeviceStore.open(other)
    assert not DeviceStore.exists(other) and not DeviceStore.exists(junk)


def test_create_refuses_to_overwrite(tmp_path):
    store = new_store(tmp_path)
    store.save_entry(make_entry(1))
    store.close()
    assert DeviceStore.exists(store.path)
    with pytest.raises(StoreError):
        DeviceStore.create(store.path, PIN, kdf=CHEAP_KDF)
    reopened = DeviceStore.open(store.path)
    reopened.unlock(PIN)
    assert reopened.pending_count() == 1
