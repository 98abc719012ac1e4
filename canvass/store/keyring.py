"""The data key and its protection by the circulator's PIN.

A random 32-byte data key encrypts every personal field. It is stored only wrapped (AES-GCM)
under a key derived from the PIN with Argon2id, so changing the PIN re-wraps 32 bytes instead
of re-encrypting the data. Wrong PINs are counted in the database (surviving restarts) and
after three of them each attempt must wait 2^(n-3) seconds, capped at 300 s.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw
from sqlalchemy import Connection, select, update

from sync.crypto import KEY_BYTES, TamperedData, new_key, unwrap_key, wrap_key

from . import schema
from .errors import WeakPin

SALT_BYTES = 16
WRAP_LABEL = "canvass-device-data-key:v1"
DATA_KEY_ID = 1
FREE_ATTEMPTS = 3
MAX_DELAY_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class KdfParams:
    """Argon2id cost. A copied store can be attacked offline, where delays and wipe-after-N
    do not apply: every guess costs one derivation, so the cost is set as high as a phone's
    unlock budget allows (m=64 MiB, t=3, p=1: about 0.3 s on this CI machine's core, under a
    second on a mid-range phone; SECURITY.md has the figures). Tests may pass cheaper values
    explicitly, production code never should. A store keeps the parameters it was created
    with."""

    memory_kib: int = 65536
    time_cost: int = 3
    parallelism: int = 1


OWASP_MINIMUM = KdfParams(memory_kib=19456, time_cost=2, parallelism=1)


def check_pin_strength(pin: str) -> None:
    """At least 6 digits, or a passphrase of at least 8 characters."""
    if not isinstance(pin, str):
        raise WeakPin()
    pin = _normalize(pin)
    if pin.isdigit() and pin.isascii() and len(pin) >= 6:
        return
    if len(pin) >= 8 and pin.strip():
        return
    raise WeakPin()


def _normalize(pin: str) -> str:
    # The same passphrase typed on two keyboards may arrive composed or decomposed.
    return unicodedata.normalize("NFC", pin)


def derive_wrapping_key(pin: str, salt: bytes, params: KdfParams) -> bytes:
    return hash_secret_raw(
        _normalize(pin).encode("utf-8"), salt,
        time_cost=params.time_cost, memory_cost=params.memory_kib,
        parallelism=params.parallelism, hash_len=KEY_BYTES, type=Type.ID,
    )


def required_wait(failures: int) -> float:
    """Seconds that must pass after the last failure before another attempt."""
    if failures < FREE_ATTEMPTS:
        return 0.0
    return min(MAX_DELAY_SECONDS, float(2 ** min(failures - FREE_ATTEMPTS, 16)))


# --------------------------------------------------------------------------------------------
# The keyring row


@dataclass(frozen=True, slots=True)
class KeyringRow:
    salt: bytes
    params: KdfParams
    wrapped_key: bytes | None
    key_id: int
    failures: int
    last_failure_at: float | None
    wiped: bool


def create_row(conn: Connection, pin: str, params: KdfParams) -> bytes:
    """Insert the keyring row for a new store; returns the fresh data key."""
    check_pin_strength(pin)
    data_key = new_key()
    salt = os.urandom(SALT_BYTES)
    wrapped = wrap_key(derive_wrapping_key(pin, salt, params), data_key, label=WRAP_LABEL)
    conn.execute(schema.keyring.insert().values(
        id=1, salt=salt, kdf_memory_kib=params.memory_kib, kdf_time_cost=params.time_cost,
        kdf_parallelism=params.parallelism, wrapped_key=wrapped, key_id=DATA_KEY_ID,
        failures=0, last_failure_at=None, wiped=0,
    ))
    return data_key


def load_row(conn: Connection) -> KeyringRow | None:
    row = conn.execute(select(schema.keyring).where(schema.keyring.c.id == 1)).mappings().first()
    if row is None:
        return None
    return KeyringRow(
        salt=row["salt"],
        params=KdfParams(row["kdf_memory_kib"], row["kdf_time_cost"], row["kdf_parallelism"]),
        wrapped_key=row["wrapped_key"], key_id=row["key_id"], failures=row["failures"],
        last_failure_at=row["last_failure_at"], wiped=bool(row["wiped"]),
    )


def remaining_delay(conn: Connection, row: KeyringRow, now: float) -> float:
    """Seconds still to wait before an attempt is allowed (0.0 if none)."""
    wait = required_wait(row.failures)
    if wait <= 0 or row.last_failure_at is None:
        return 0.0
    if now < row.last_failure_at:
        # The clock went backwards (or was set back to dodge the delay): restart the wait
        # from now rather than from a moment in the future.
        conn.execute(update(schema.keyring).where(schema.keyring.c.id == 1)
                     .values(last_failure_at=now))
        return wait
    return max(0.0, row.last_failure_at + wait - now)


def try_unwrap(row: KeyringRow, pin: str) -> bytes | None:
    """The data key, or None when the PIN is wrong."""
    if row.wrapped_key is None:
        return None
    try:
        return unwrap_key(derive_wrapping_key(pin, row.salt, row.params), row.wrapped_key,
                          label=WRAP_LABEL)
    except TamperedData:
        return None


def record_failure(conn: Connection, row: KeyringRow, now: float) -> int:
    failures = row.failures + 1
    conn.execute(update(schema.keyring).where(schema.keyring.c.id == 1)
                 .values(failures=failures, last_failure_at=now))
    return failures


def reset_failures(conn: Connection) -> None:
    conn.execute(update(schema.keyring).where(schema.keyring.c.id == 1)
                 .values(failures=0, last_failure_at=None))


def rewrap(conn: Connection, data_key: bytes, new_pin: str, params: KdfParams) -> None:
    """Protect the same data key under a new PIN (fresh salt); no data is re-encrypted."""
    check_pin_strength(new_pin)
    salt = os.urandom(SALT_BYTES)
    wrapped = wrap_key(derive_wrapping_key(new_pin, salt, params), data_key, label=WRAP_LABEL)
    conn.execute(update(schema.keyring).where(schema.keyring.c.id == 1).values(
        salt=salt, kdf_memory_kib=params.memory_kib, kdf_time_cost=params.time_cost,
        kdf_parallelism=params.parallelism, wrapped_key=wrapped, failures=0, last_failure_at=None,
    ))


def destroy(conn: Connection) -> None:
    """Forget the wrapped data key for good; with secure_delete the old bytes are zeroed."""
    conn.execute(update(schema.keyring).where(schema.keyring.c.id == 1)
                 .values(wrapped_key=None, wiped=1))
