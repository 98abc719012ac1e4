"""A copied device store and an offline PIN attack (issue 16, Medium 8).

Delays and wipe-after-N live in the store, so a copy ignores them: each guess then costs one
Argon2id derivation with the parameters written in the copy. This reads the copy as an
attacker would (plain sqlite3) and checks that a store created with the defaults pays the
raised cost; tests/benchmarks/bench_store.py prints what a guess costs."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from canvass.store.errors import WrongPin
from canvass.store.keyring import KdfParams, derive_wrapping_key
from canvass.store.store import DeviceStore


def test_a_copied_store_makes_every_guess_pay_the_raised_argon2id_cost(tmp_path):
    store = DeviceStore.create(tmp_path / "store.db", "246813")  # the defaults, as the app
    store.close()
    copy = tmp_path / "stolen.db"
    shutil.copy(tmp_path / "store.db", copy)
    conn = sqlite3.connect(copy)
    try:
        memory, time_cost, salt = conn.execute(
            "SELECT kdf_memory_kib, kdf_time_cost, salt FROM keyring").fetchone()
    finally:
        conn.close()
    assert memory >= 65536 and time_cost >= 3  # was 19456 / 2 (OWASP's minimum)
    # The attacker's loop: one derivation per guess, at the copy's parameters.
    key = derive_wrapping_key("000000", salt, KdfParams(memory, time_cost, 1))
    assert len(key) == 32
    reopened = DeviceStore.open(copy)
    try:
        with pytest.raises(WrongPin):
            reopened.unlock("000000")
        reopened.unlock("246813")
    finally:
        reopened.close()
