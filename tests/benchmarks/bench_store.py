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
        from sync.doorstep_offline import offline_answer
        from sync.keyfilter import KeyFilter
        from sync.matching import doorstep_subkey

        held = timed("door-step filter build (1,000,000 keys)",
                     lambda: KeyFilter.build(os.urandom(16) for _ in range(1_000_000)))
        index_key = os.urandom(32)
        timed("set_doorstep_filter (seal + store)",
              lambda: store.set_doorstep_filter(held.to_bytes(), key=doorstep_subkey(index_key),
                                                tag="bench", scope="campaign"))
        fields = {"first_name": "F", "last_name": "L", "street": "1 Main St", "city": "LA",
                  "zip": "90012"}
        timed("offline_answer x1000",
              lambda: [offline_answer(store, fields, own_lines_key=index_key) for _ in range(1000)])
        print("db bytes", (Path(tmp) / "b2.db").stat().st_size)
        timed("next_batch (200 entries)", store.next_batch)
        store.close()


if __name__ == "__main__":
    main()
