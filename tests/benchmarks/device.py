"""Device: one durable save with L local entries already stored, and the offline door-step
check (sync.doorstep_offline.offline_answer: the device's own lines, then a door-step filter of
K keys); median and p95, against an unencrypted SQLite insert of the same fields (one
transaction each, same journal settings) in the same run.

tests/benchmarks/bench_app.py times the same save through the capture form (state layer, with
app start); tests/benchmarks/bench_store.py is the store engineer's rough timing script.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from sync.synthetic import generate_drive

PIN = "246813"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(local_entries: int, index_keys: int, samples: int = 200, seed: int = 9) -> dict:
    from canvass.store import DeviceStore, KdfParams
    from sync.domain import SignerEntry
    from sync.doorstep_offline import offline_answer
    from sync.keyfilter import KeyFilter
    from sync.matching import doorstep_subkey, matching_keys

    index_key = os.urandom(32)
    drive = generate_drive(local_entries + samples, seed=seed)
    with tempfile.TemporaryDirectory(prefix="canvass-device-") as tmp:
        store = DeviceStore.create(Path(tmp) / "device.db", PIN, kdf=KdfParams(64, 1, 1))
        t0 = time.perf_counter()
        for i, entry in enumerate(drive.entries[:local_entries]):
            serial = f"L{i // 10:06d}"
            if i % 10 == 0:
                store.open_section(serial, "Bench")
            store.save_entry(SignerEntry(section=serial, line=i % 10 + 1, **entry.fields),
                             matching_keys(index_key, entry.fields))
        fill_s = time.perf_counter() - t0
        held = KeyFilter.build(os.urandom(16) for _ in range(index_keys))
        store.set_doorstep_filter(held.to_bytes(), key=doorstep_subkey(index_key), tag="bench",
                                  scope="campaign")
        saves, checks = [], []
        for i, entry in enumerate(drive.entries[local_entries:]):
            serial = f"M{i // 10:06d}"
            if i % 10 == 0:
                store.open_section(serial, "Bench")
            t = time.perf_counter()
            offline_answer(store, entry.fields, own_lines_key=index_key)
            checks.append(time.perf_counter() - t)
            t = time.perf_counter()
            store.save_entry(SignerEntry(section=serial, line=i % 10 + 1, **entry.fields),
                             matching_keys(index_key, entry.fields))
            saves.append(time.perf_counter() - t)
        store.close()
        # Baseline: the same fields, unencrypted, one durable transaction each.
        conn = sqlite3.connect(Path(tmp) / "plain.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE e (id INTEGER PRIMARY KEY, first TEXT, middle TEXT, last TEXT, "
                     "suffix TEXT, street TEXT, unit TEXT, city TEXT, zip TEXT)")
        plain = []
        for entry in drive.entries[local_entries:]:
            f = entry.fields
            t = time.perf_counter()
            conn.execute("BEGIN")
            conn.execute("INSERT INTO e (first, middle, last, suffix, street, unit, city, zip) "
                         "VALUES (?,?,?,?,?,?,?,?)",
                         (f["first_name"], f["middle_name"], f["last_name"], f["suffix"], f["street"],
                          f["unit"], f["city"], f["zip"]))
            conn.execute("COMMIT")
            plain.append(time.perf_counter() - t)
        conn.close()
    ms = 1000.0
    return {
        "local_entries": local_entries, "index_keys": index_keys, "samples": samples,
        "fill_seconds": round(fill_s, 1),
        "save_median_ms": round(ms * statistics.median(saves), 2),
        "save_p95_ms": round(ms * _pct(saves, .95), 2),
        "check_median_ms": round(ms * statistics.median(checks), 3),
        "check_p95_ms": round(ms * _pct(checks, .95), 3),
        "plain_insert_median_ms": round(ms * statistics.median(plain), 3),
        "plain_insert_p95_ms": round(ms * _pct(plain, .95), 3),
        "save_vs_plain": round(statistics.median(saves) / statistics.median(plain), 1),
    }
