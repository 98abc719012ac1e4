"""One command for the benchmarks and the quality harness.

    python -m tests.benchmarks.run [all|quality|ingest|device] [--size tiny|small|full] [--out DIR]
    python -m tests.benchmarks.run ingest --backend postgresql --stored 1000000 --entries 5000

Prints tables, writes ``bench-<part>-<size>.json`` with every figure and ``ingest-cost.png``
(cost per entry against store size) into --out (default: bench-results/).

Sizes:
- tiny: a few seconds per part (the test suite's smoke run).
- small: quality on 10,000 entries; ingest with 1,000 / 10,000 stored; device 5,000 / 100,000.
- full: the issue's figures: quality on 10,000 and 100,000; ingest with 10,000 / 100,000 /
  1,000,000 stored; device 50,000 local entries and a 1,000,000-key index.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

SIZES = {
    "tiny": {"quality": [300], "ingest_stored": [0, 300], "ingest_measured": 500,
             "device": (60, 5_000, 20), "peers": True},
    "small": {"quality": [10_000], "ingest_stored": [1_000, 10_000], "ingest_measured": 1_000,
              "device": (5_000, 100_000, 200), "peers": True},
    "full": {"quality": [10_000, 100_000], "ingest_stored": [10_000, 100_000, 1_000_000],
             "ingest_measured": 5_000, "device": (50_000, 1_000_000, 500), "peers": True},
}


def _cell(value) -> str:
    return "—" if value is None else str(value)  # None: not measured for this row


def _table(rows: list[dict], cols: list[str]) -> str:
    widths = [max(len(c), *(len(_cell(r.get(c, ""))) for r in rows)) for c in cols]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append("  ".join(_cell(r.get(c, "")).ljust(w) for c, w in zip(cols, widths, strict=True)))
    return "\n".join(lines)


def run_quality(sizes: list[int], peers: bool = True, seed: int = 20240601) -> list[dict]:
    from sync.synthetic import generate_drive

    from . import peers as peer_tools
    from . import quality

    rows = []
    for n in sizes:
        drive = generate_drive(n, dup_rate=0.06, seed=seed)
        scores = quality.run_canvass(drive)
        if peers:
            scores += peer_tools.run_splink(drive)
            scores += peer_tools.run_recordlinkage(drive)
        for s in scores:
            rows.append({"entries": n, **s.row()})
        print(f"\nQuality on {n} entries ({drive.true_duplicates()} true repeats, 6%):")
        print(_table([{**r, "seconds": round(r["seconds"], 1)} for r in rows if r["entries"] == n],
                     ["system", "decision", "flagged", "correct", "precision", "recall", "f1",
                      "seconds", "note"]))
    return rows


def run_ingest(stored_sizes: list[int], measured: int, backends: list[str] | None = None,
               fleets: list[tuple[int, int]] | None = None) -> list[dict]:
    """Each (devices, workers) of ``fleets``: that many devices pushing at once to a server
    with that many uvicorn workers (default: one device, one worker)."""
    from . import ingest

    backends = backends or ["sqlite"] + (["postgresql"] if ingest.pg_available() else [])
    rows = []
    for backend in backends:
        for stored in stored_sizes:
            for devices, workers in fleets or [(1, 1)]:
                result = ingest.measure(backend, stored, measured, devices=devices, workers=workers)
                rows.append(result.row())
                print(f"ingest {backend} stored={result.stored} devices={devices} workers={workers}: "
                      f"{result.entries_per_s} entries/s, p95 batch {result.p95_batch_ms} ms", flush=True)
    print("\nIngest over HTTP (batches of 500, real DeviceStore + SyncClient per device), dedup on:")
    print(_table(rows, ["backend", "stored", "entries", "devices", "workers", "entries_per_s",
                        "server_entries_per_s", "p50_batch_ms", "p95_batch_ms", "server_peak_rss_mb",
                        "plain_entries_per_s", "cost_ratio", "ms_per_entry", "server_cpu_ms_per_entry",
                        "postgres_cpu_ms_per_entry", "device_cpu_ms_per_entry", "index_pull_seconds"]))
    return rows


def run_device(local: int, index: int, samples: int) -> list[dict]:
    from . import device

    row = device.measure(local, index, samples)
    print("\nDevice (DeviceStore, encrypted SQLite):")
    print(_table([row], list(row)))
    return [row]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.run")
    parser.add_argument("part", nargs="?", default="all", choices=["all", "quality", "ingest", "device"])
    parser.add_argument("--size", default="small", choices=list(SIZES))
    parser.add_argument("--out", default="bench-results")
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--stored", type=int, action="append",
                        help="ingest: entries stored before the push (repeatable; replaces the size's)")
    parser.add_argument("--entries", type=int, help="ingest: entries pushed (replaces the size's)")
    parser.add_argument("--fleet", action="append", metavar="DEVICES:WORKERS",
                        help="ingest: devices pushing at once and server workers (repeatable; "
                             "default 1:1)")
    args = parser.parse_args(argv)
    size = SIZES[args.size]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    figures: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "size": args.size,
                     "machine": {"python": sys.version.split()[0], "platform": platform.platform()}}
    if args.part in ("all", "quality"):
        figures["quality"] = run_quality(size["quality"], peers=size["peers"] and not args.no_peers)
    if args.part in ("all", "ingest"):
        fleets = [tuple(int(x) for x in f.split(":")) for f in args.fleet] if args.fleet else None
        figures["ingest"] = run_ingest(args.stored or size["ingest_stored"],
                                       args.entries or size["ingest_measured"], args.backend, fleets)
        from .chart import cost_chart

        png = cost_chart(figures["ingest"], out / "ingest-cost.png")
        if png:
            print(f"chart: {png}")
    if args.part in ("all", "device"):
        figures["device"] = run_device(*size["device"])
    path = out / f"bench-{args.part}-{args.size}.json"
    path.write_text(json.dumps(figures, indent=2, default=str))
    print(f"figures: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
