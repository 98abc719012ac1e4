"""Benchmark of the registration check (not collected by pytest; run it directly):

    python tests/benchmarks/bench_voters.py --rows 1000000 [--db postgresql+psycopg://...]

Prints: import throughput (rows/s) and peak memory (VmHWM of the importing process, a
fresh child, so generation does not count), registration index size per million voters (on
disk and in memory), and device lookup latency (median and p99 over --probes checks, each a
full RegistrationCheck.check of one petition line: normalization + HMACs + binary searches).
``--rows 20000`` is a quick version; tests/test_voters_bench_tiny.py runs a tiny one.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {repo!r}); sys.path.insert(0, {tests!r})
import server_helpers
from sync.server import admin
from sync.server.db import Database
from sync.server.migrate import upgrade_head
from sync.server.voters.importer import import_voter_file
def hwm_kb():
    # VmHWM: this process's own peak (ru_maxrss would carry the parent's peak across exec).
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
url, path = {url!r}, {path!r}
upgrade_head(url)
keys = server_helpers.server_keys_for(url)
db = Database(url)
cid = admin.create_campaign(db, keys, name="bench", goal=1000, deadline="2030-01-01", actor="bench")
t0 = time.perf_counter()
r = import_voter_file(db, keys, cid, path, rematch=False, batch_rows=5000)
dt = time.perf_counter() - t0
idx = None
from sync.server.voters.index_feed import build_response
snap = build_response(db, cid, 0)
open({snap_path!r}, "w").write(json.dumps({{"snapshot": snap.snapshot, "version": snap.version,
    "bucket_bits": snap.bucket_bits, "key_count": snap.key_count, "reset": True}}))
from sync.server.models import Campaign
with db.read() as s:
    ik = admin.campaign_index_key(keys, s.get(Campaign, cid))
from sync.voters.keys import registration_subkey
print(json.dumps({{"seconds": dt, "rows": r.rows_loaded, "index_keys": r.index_keys,
    "index_bytes": r.index_bytes, "fpr": r.false_positive_rate, "reg_key": registration_subkey(ik).hex(),
    "maxrss_kb": hwm_kb()}}))
"""


def run(rows: int, probes: int, db_url: str | None, workdir: Path) -> dict:
    from canvass.state.registration_check import RegistrationCheck
    from sync.voters.synthetic import write_voter_file

    path = workdir / "county.csv"
    t0 = time.perf_counter()
    vf = write_voter_file(path, rows, seed=77, n_entries=min(probes, rows))
    gen_s = time.perf_counter() - t0
    url = db_url or f"sqlite:///{workdir / 'server.db'}"
    snap_path = workdir / "snap.json"
    code = _CHILD.format(repo=str(REPO), tests=str(REPO / "tests"), url=url, path=str(path),
                         snap_path=str(snap_path))
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    child = json.loads(out.stdout.strip().splitlines()[-1])
    check = RegistrationCheck(workdir / "device.regindex", bytes.fromhex(child["reg_key"]))
    t1 = time.perf_counter()
    check.apply_response(json.loads(snap_path.read_text()))
    apply_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    reloaded = RegistrationCheck(workdir / "device.regindex", bytes.fromhex(child["reg_key"]))
    load_s = time.perf_counter() - t2
    stats = reloaded.stats()
    lines = [e.fields for e in vf.entries]
    random.Random(1).shuffle(lines)
    times = []
    answers: dict[str, int] = {}
    for fields in lines[:probes]:
        s = time.perf_counter()
        a = reloaded.check(fields)
        times.append(time.perf_counter() - s)
        answers[a] = answers.get(a, 0) + 1
    times.sort()
    per_million = 1e6 / rows
    return {
        "rows": child["rows"], "generate_s": round(gen_s, 1),
        "import_s": round(child["seconds"], 1), "import_rows_per_s": round(child["rows"] / child["seconds"]),
        "import_peak_rss_mb": round(child["maxrss_kb"] / 1024, 1), "db": url.split(":")[0],
        "index_keys": child["index_keys"], "index_false_positive_rate": child["fpr"],
        "index_disk_mb": round(stats["bytes_on_disk"] / 1e6, 2),
        "index_memory_mb": round(stats["bytes_in_memory"] / 1e6, 2),
        "index_disk_mb_per_million_voters": round(stats["bytes_on_disk"] / 1e6 * per_million, 2),
        "index_memory_mb_per_million_voters": round(stats["bytes_in_memory"] / 1e6 * per_million, 2),
        "device_snapshot_apply_s": round(apply_s, 3), "device_index_load_s": round(load_s, 3),
        "lookups": len(times), "lookup_median_ms": round(statistics.median(times) * 1e3, 3),
        "lookup_p99_ms": round(times[int(0.99 * (len(times) - 1))] * 1e3, 3), "answers": answers,
        "bench_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--probes", type=int, default=10_000)
    p.add_argument("--db", default=None, help="SQLAlchemy URL (default: a SQLite file in a temp dir)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        result = run(args.rows, args.probes, args.db, Path(tmp))
    for k, v in result.items():
        print(f"{k:40s} {v}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
