"""Shared helpers for the device-store tests: cheap KDF, entry factories."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

from canvass.store import DeviceStore, KdfParams
from sync.domain import SignerEntry

# Far below OWASP on purpose: tests create many stores. Production uses KdfParams().
CHEAP_KDF = KdfParams(memory_kib=64, time_cost=1, parallelism=1)
PIN = "246813"
SERIAL = "A-0001"

_counter = itertools.count(1)


def new_store(tmp_path: Path, *, name: str = "device.db", clock=None, section: str | None = SERIAL,
              pin: str = PIN) -> DeviceStore:
    kwargs = {"clock": clock} if clock is not None else {}
    store = DeviceStore.create(tmp_path / name, pin, kdf=CHEAP_KDF, **kwargs)
    if section is not None:
        store.open_section(section, "Circulator One")
    return store


def make_entry(line: int, *, section: str = SERIAL, **changes) -> SignerEntry:
    n = next(_counter)
    values = dict(section=section, line=line, first_name=f"Firstname{n}", last_name=f"Lastname{n}",
                  street=f"{100 + n} Test Street", city="Los Angeles", zip="90012")
    values.update(changes)
    return SignerEntry(**values)


def key_for(label: str) -> str:
    """A 32-hex-char matching key, as sync.matching produces."""
    return hashlib.sha256(label.encode()).hexdigest()[:32]


def save_lines(store: DeviceStore, count: int, *, section: str = SERIAL) -> list[SignerEntry]:
    return [store.save_entry(make_entry(store.next_line(section), section=section))
            for _ in range(count)]
