"""The offline door-step check (issue 15): door-step keys in a binary fuse filter, on generated
drives. (The "old exact" rows of docs/BENCHMARKS.md, the campaign's exact keys as rows of the
device store, were measured before that index left the store.)

    python -m tests.benchmarks.doorstep_offline [--sizes 10000,100000] [--million] [--seed N]

A drive (sync/synthetic.py: households, repeats typed by another circulator with the
generator's errors) is cut in two waves at its middle. Wave 1 reaches the server: its first
line of each signer is counted, and a device holds the keys of those signers, the whole
campaign (the widest scope; a region holds a subset and catches the same share of repeats
of its own signers). Each wave-2 line is then checked on the device before it is saved:

- a *true repeat* is a wave-2 line whose signer is counted in wave 1;
- ``probably``: the check answers "probably signed";
- ``any warning``: "probably signed" or "maybe";
- recall = true repeats warned / true repeats; precision = warned true repeats / warned.

Sizes are measured on disk: the filter's blob, and the bytes a real DeviceStore file grew by
once it is sealed in (per signer). Check latency: normalizing, keying and looking up one typed
line (doorstep_probes + the filter), median and p95 over the wave-2 lines. FPR: random
keys probed against the filter. ``--million`` also builds a filter of random keys for
1,000,000 signers (6.3 keys each, about 2 minutes and 1 GB of memory) and times checks on it.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import tempfile
import time
from pathlib import Path

from sync.doorstep_offline import DoorstepFilter
from sync.keyfilter import KeyFilter
from sync.matching import MAYBE, PROBABLY, doorstep_keys, doorstep_subkey
from sync.normalize import normalized_record
from sync.synthetic import generate_drive

PIN = "246813"


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def _store(tmp: Path, name: str):
    from canvass.store import DeviceStore, KdfParams

    return DeviceStore.create(tmp / name, PIN, kdf=KdfParams(memory_kib=64, time_cost=1, parallelism=1))


def _file_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def _scores(truth: list[bool], warned: list[bool]) -> tuple[float, float]:
    flagged = sum(warned)
    correct = sum(w and t for w, t in zip(warned, truth, strict=True))
    return (correct / sum(truth) if sum(truth) else 1.0), (correct / flagged if flagged else 1.0)


def run_drive(n: int, seed: int, tmp: Path) -> list[dict]:
    drive = generate_drive(n, seed=seed)
    half = len(drive.entries) // 2
    wave1 = [e for e in drive.entries[:half] if not e.is_repeat]
    counted = {e.person_id for e in wave1}
    wave2 = drive.entries[half:]
    truth = [e.person_id in counted for e in wave2]
    index_key = hashlib.sha256(f"doorstep bench {seed}".encode()).digest()  # reproducible
    dkey = doorstep_subkey(index_key)
    records1 = [normalized_record(e.fields) for e in wave1]

    # Door-step keys in a binary fuse filter, sealed in the store as one blob.
    t = time.perf_counter()
    new_keys = [k for r in records1 for k in doorstep_keys(dkey, r)]
    built = KeyFilter.build(new_keys)
    build_s = time.perf_counter() - t
    blob = built.to_bytes()
    new = _store(tmp, f"new-{n}.db")
    before = _file_bytes(new.path)
    new.set_doorstep_filter(blob, key=dkey, tag="bench", scope="campaign")
    held: DoorstepFilter = new.doorstep_filter()
    answers, new_ms = [], []
    for e in wave2:
        t = time.perf_counter()
        answers.append(held.answer(e.fields))
        new_ms.append((time.perf_counter() - t) * 1000)
    new.close()  # the WAL is checkpointed into the file: its size is what the device keeps
    new_store_bytes = _file_bytes(new.path) - before
    probes = 200_000
    fpr = sum(os.urandom(16) in held.filter for _ in range(probes)) / probes

    signers = len(wave1)
    rows = []
    common = {"entries": n, "signers held": signers, "true repeats": sum(truth)}
    for label, accepted in (("probably", {PROBABLY}), ("any warning", {PROBABLY, MAYBE})):
        r, p = _scores(truth, [a in accepted for a in answers])
        rows.append({**common, "keys": "door-step", "answer": label, "recall": r, "precision": p,
                     "keys/signer": len(built) / signers, "B/signer": new_store_bytes / signers,
                     "blob B/signer": len(blob) / signers, "median ms": statistics.median(new_ms),
                     "p95 ms": _pct(new_ms, 95), "FPR": fpr, "build s": build_s})
    return rows


def run_million(keys_per_signer: float, seed: int) -> dict:
    """Check latency on a filter of 1,000,000 signers' worth of random keys."""
    signers = 1_000_000
    t = time.perf_counter()
    built = KeyFilter.build(os.urandom(16) for _ in range(round(signers * keys_per_signer)))
    build_s = time.perf_counter() - t
    held = DoorstepFilter(doorstep_subkey(os.urandom(32)), built.to_bytes())
    drive = generate_drive(2_000, seed=seed)
    ms = []
    for e in drive.entries:
        t = time.perf_counter()
        held.answer(e.fields)
        ms.append((time.perf_counter() - t) * 1000)
    return {"entries": "—", "signers held": signers, "keys": "door-step (random keys)",
            "answer": "—", "keys/signer": keys_per_signer, "blob B/signer": built.nbytes / signers,
            "median ms": statistics.median(ms), "p95 ms": _pct(ms, 95), "build s": build_s}


COLUMNS = ["entries", "signers held", "true repeats", "keys", "answer", "recall", "precision",
           "keys/signer", "B/signer", "blob B/signer", "median ms", "p95 ms", "FPR", "build s"]


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3g}" if value < 0.001 and value else f"{value:.3f}"
    return str(value)


def print_table(rows: list[dict]) -> None:
    cells = [[_fmt(r.get(c)) for c in COLUMNS] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(COLUMNS)]
    print(" | ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)))
    print("-|-".join("-" * w for w in widths))
    for row in cells:
        print(" | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,100000")
    p.add_argument("--seed", type=int, default=20240601)
    p.add_argument("--million", action="store_true", help="also time checks at 1,000,000 signers")
    args = p.parse_args(argv)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="canvass-doorstep-") as tmp:
        for n in (int(s) for s in args.sizes.split(",") if s):
            rows.extend(run_drive(n, args.seed, Path(tmp)))
            print(f"drive of {n:,} entries done", flush=True)
    if args.million:
        per = max((r["keys/signer"] for r in rows if r["keys"] == "door-step"), default=6.3)
        rows.append(run_million(round(per, 2), args.seed))
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
