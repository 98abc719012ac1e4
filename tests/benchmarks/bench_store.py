"""Rough timings of the device store (not collected by pytest): python3 tests/benchmarks/bench_store.py"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from canvass.store import DeviceStore, KdfParams  # noqa: E402
from sync.domain import SignerEntry  # noqa: E402


def timed(label, fn):
    start = time.perf_counter()
    result = fn()
    print(f"{label:<40} {time.perf_counter() - start:8.3f} s")
    return result


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        store = timed("create (default Argon2id)", lambda: DeviceStore.create(path, "246813"))
        store.lock()
        timed("unlock (default Argon2id)", lambda: store.unlock("246813"))
        store.close()
        # What an attacker with a copy of the store pays per PIN guess (one core).
        from canvass.store.keyring import OWASP_MINIMUM, derive_wrapping_key

        for label, params in (("default", KdfParams()), ("OWASP minimum", OWASP_MINIMUM)):
            start = time.perf_counter()
            for _ in range(3):
                derive_wrapping_key("246813", os.urandom(16), params)
            per_guess = (time.perf_counter() - start) / 3
            print(f"offline PIN guess ({label}) {per_guess * 1000:8.0f} ms: {1 / per_guess:.1f}/s, "
                  f"all 6-digit PINs {1e6 * per_guess / 3600:.0f} core-hours")
        store = DeviceStore.create(Path(tmp) / "b2.db", "246813", kdf=KdfParams(64, 1, 1))
        store.open_section("A", "Bench")

        def saves():
            for line in range(1, 201):
                store.save_entry(SignerEntry(section="A", line=line, first_name="F", last_name="L",
                                             street="1 Main St", city="LA", zip="90012"),
                                 [os.urandom(16).hex() for _ in range(4)])
        timed("200 save_entry (durable each)", saves)
        keys = [os.urandom(16).hex() for _ in range(1_000_000)]
        for start in range(0, len(keys), 100_000):
            chunk = keys[start:start + 100_000]
            timed(f"index delta {start // 100_000 + 1}/10 (100k keys)",
                  lambda chunk=chunk, v=start: store.apply_index_delta(chunk, v + 1))
        timed("index_contains_any x1000",
              lambda: [store.index_contains_any([os.urandom(16).hex()]) for _ in range(1000)])
        print("index size", store.index_size(), "db bytes", (Path(tmp) / "b2.db").stat().st_size)
        timed("next_batch (200 entries)", store.next_batch)
        store.close()


if __name__ == "__main__":
    main()
