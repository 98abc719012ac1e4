"""Circulator app benchmark (issue 5). Run: python3 tests/benchmarks/bench_app.py [--entries N]

1. App start to a ready capture form: CirculatorApp on an existing profile, unlock with the
   production KDF, open the workspace, start a section -> the form is ready (state layer; the
   Flet web client's own load is not included).
2. One save as the capture form does it (matching keys + the offline door-step check of own
   lines and filter + encrypt + durable write), with 50,000 entries in the store and a
   door-step filter of 1,000,000 keys,
   against a plain unencrypted SQLAlchemy insert of the same row shape in the same run.
Prints median and p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine  # noqa: E402

from canvass.state.app_state import CirculatorApp  # noqa: E402
from canvass.state.capture import CaptureForm  # noqa: E402
from canvass.state.session import store_path  # noqa: E402
from canvass.store import DeviceStore  # noqa: E402
from sync.domain import SignerEntry  # noqa: E402
from sync.keyfilter import KeyFilter  # noqa: E402
from sync.matching import doorstep_subkey, matching_keys  # noqa: E402

PIN = "246813"
INDEX_KEY = bytes(range(32))
CAMPAIGN = {"campaign_id": "c", "name": "Bench", "goal": 1, "deadline": "2030-01-01",
            "jurisdiction": "los_angeles_county", "jurisdiction_zips": [], "idle_lock_seconds": 120}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def report(name: str, seconds: list[float]) -> None:
    ms = [s * 1000 for s in seconds]
    print(f"{name:<58} n={len(ms):<5} median={statistics.median(ms):8.2f} ms  p95={pct(ms, 95):8.2f} ms")


def alpha(i: int) -> str:
    """A letters-only name part for number i (names with digits fail validation)."""
    out = ""
    while True:
        i, r = divmod(i, 26)
        out = chr(97 + r) + out
        if i == 0:
            return out.title()


def signer(i: int, section: str, line: int) -> SignerEntry:
    return SignerEntry(section=section, line=line, first_name=f"Firstname{i}", last_name=f"Lastname{i}",
                       street=f"{100 + i % 9000} Test Street", city="Los Angeles", zip="90012")


def build_profile(profile: Path, entries: int, index_keys: int) -> None:
    profile.mkdir(parents=True)
    store = DeviceStore.create(store_path(profile), PIN)  # production KDF
    store.set_setting("campaign", CAMPAIGN)
    store.set_setting("circulator", "Bench")
    store.set_secret("index_key", base64.b64encode(INDEX_KEY).decode())
    t0 = time.perf_counter()
    per_section = 999
    for i in range(entries):
        section = f"S-{i // per_section:05d}"
        if i % per_section == 0:
            store.open_section(section, "Bench")
        entry = signer(i, section, i % per_section + 1)
        store.save_entry(entry, matching_keys(INDEX_KEY, entry.personal()))
    print(f"filled {entries} entries in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    held = KeyFilter.build(hashlib.sha256(f"k{n}".encode()).digest()[:16] for n in range(index_keys))
    store.set_doorstep_filter(held.to_bytes(), key=doorstep_subkey(INDEX_KEY), tag="bench",
                              scope="campaign")
    print(f"filled a door-step filter of {len(held)} keys in {time.perf_counter() - t0:.1f} s")
    store.close()


def bench_start(profile: Path, runs: int) -> None:
    times = []
    for run in range(runs):
        t0 = time.perf_counter()
        app = CirculatorApp(profile, sync_factory=lambda store: None)
        assert app.session.unlock(PIN)
        assert app.start_section(f"BENCH-{run}")
        assert app.capture is not None and app.capture.focus == "first_name"
        times.append(time.perf_counter() - t0)
        app.shutdown()
    report("app start -> ready capture form (unlock, KDF included)", times)


def bench_save(profile: Path, saves: int) -> None:
    store = DeviceStore.open(store_path(profile))
    store.unlock(PIN)
    store.open_section("SAVE-1", "Bench")
    form = CaptureForm.for_store(store)
    form.start("SAVE-1")
    times = []
    for i in range(saves):
        values = {"first_name": f"New{alpha(i).lower()}", "last_name": "Benchmark",
                  "street": f"{i + 1} Save St", "zip": "90012", "city": "Los Angeles"}
        t0 = time.perf_counter()
        for name, value in values.items():  # the duplicate check runs as fields come in
            form.values = {**form.values, name: value}
        form.run_checks()  # the check before the save (duplicate, jurisdiction, registration)
        assert form.save(), (form.errors, form.error)
        times.append(time.perf_counter() - t0)
    store.close()
    report("one save: keys + dup check + encrypt + durable write", times)


def bench_plain(tmp: Path, saves: int) -> None:
    engine = create_engine(f"sqlite:///{tmp / 'plain.db'}")
    meta = MetaData()
    names = ("entry_id", "section", "first_name", "last_name", "street", "city", "zip")
    table = Table("entries", meta, Column("id", Integer, primary_key=True),
                  *[Column(n, String) for n in names], Column("line", Integer))
    meta.create_all(engine)
    times = []
    for i in range(saves):
        row = dict(entry_id=f"id{i}", section="P", line=i + 1, first_name=f"N{i}", last_name="B",
                   street=f"{i} St", city="Los Angeles", zip="90012")
        t0 = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(table.insert().values(**row))
        times.append(time.perf_counter() - t0)
    report("baseline: plain unencrypted SQLAlchemy insert", times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--index-keys", type=int, default=1_000_000)
    parser.add_argument("--saves", type=int, default=200)
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        build_profile(tmp / "profile", args.entries, args.index_keys)
        bench_start(tmp / "profile", args.starts)
        bench_save(tmp / "profile", args.saves)
        bench_plain(tmp, args.saves)


if __name__ == "__main__":
    main()
