"""A pre-filled PostgreSQL store kept between runs, for profiling the intake at 1,000,000 stored.

Filling 1,000,000 entries (``ingest.prefill``) takes minutes; profiling a change to the intake
wants many pushes against the same store. ``build`` fills a named database once and keeps the
server keys beside it (bench-results/, never committed); ``push`` serves it, pushes M entries
of the same drive with D devices at once (the real DeviceStore + SyncClient, as ingest.py),
prints the figures, then deletes what the push wrote so the next push sees the same store.

    python -m tests.benchmarks.kept_store build --stored 1000000
    python -m tests.benchmarks.kept_store push --entries 5000 [--devices 4] [--workers 2]
    python -m tests.benchmarks.kept_store drop

The official figures come from ``python -m tests.benchmarks.run`` (a fresh database per run).
"""

from __future__ import annotations

import argparse
import base64
import json
import tempfile
import time
from pathlib import Path

from . import ingest

STATE = Path("bench-results/kept-store.json")


def _admin():
    import psycopg

    return psycopg.connect(ingest.PG_ADMIN, autocommit=True, connect_timeout=5)


def _url(name: str) -> str:
    base = ingest.PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def build(stored: int, name: str, seed: int) -> None:
    from sync.synthetic import generate_drive

    helpers = ingest._server_helpers()
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _url(name)
    t0 = time.perf_counter()
    drive = generate_drive(int((stored + 100_000) / 0.94) + 10, seed=seed)
    print(f"drive generated in {time.perf_counter() - t0:.0f} s", flush=True)
    with helpers.serve_subprocess(url) as server:
        campaign_id = server.create_campaign(name="Bench", goal=2_000_000, deadline="2030-01-01")
        written, seconds = ingest.prefill(server.db, server.keys, campaign_id, drive, stored)
        keys = server.keys
    STATE.parent.mkdir(parents=True, exist_ok=True)
    STATE.write_text(json.dumps({
        "name": name, "stored": written, "seed": seed, "campaign_id": campaign_id,
        "server_key": base64.b64encode(keys.server_key).decode(),
        "box_key": base64.b64encode(keys.box_private_key).decode()}))
    print(f"prefilled {written} entries in {seconds:.0f} s into {name}")


def _pushed_entries(state: dict, count: int, devices: int) -> list[list]:
    from sync.synthetic import generate_drive

    drive = generate_drive(int((state["stored"] + 100_000) / 0.94) + 10, seed=state["seed"])
    rest = ingest.entries_after(drive, state["stored"])[:count]
    return [rest[d::devices] for d in range(devices)]


def _cleanup(db, campaign_id: str, baseline: dict) -> None:
    """Delete every row the push wrote (devices enrolled after the build and their rows)."""
    from sqlalchemy import text

    with db.engine.begin() as conn:
        conn.execute(text("CREATE TEMP TABLE pushed AS SELECT id FROM entries WHERE device_id IN "
                          "(SELECT id FROM devices WHERE enrolled_at > :t)"), {"t": baseline["t"]})
        for table in ("signer_keys", "block_keys"):
            conn.execute(text(f"DELETE FROM {table} WHERE entry_id IN (SELECT id FROM pushed)"))
        conn.execute(text("DELETE FROM dedup_index WHERE campaign_id = :c AND version > :v"),
                     {"c": campaign_id, "v": baseline["version"]})
        conn.execute(text("UPDATE counters SET value = :v WHERE name = :n"),
                     {"v": baseline["version"], "n": f"index:{campaign_id}"})
        conn.execute(text("DELETE FROM batches WHERE device_id IN "
                          "(SELECT id FROM devices WHERE enrolled_at > :t)"), {"t": baseline["t"]})
        for table in ("outcomes", "entry_registrations"):
            conn.execute(text(f"DELETE FROM {table} WHERE entry_id IN (SELECT id FROM pushed)"))
        conn.execute(text("UPDATE entries SET superseded_by = NULL WHERE superseded_by IN "
                          "(SELECT id FROM pushed)"))
        conn.execute(text("DELETE FROM entries WHERE id IN (SELECT id FROM pushed)"))


def push(entries: int, devices: int, workers: int) -> dict:
    import os
    import signal
    import statistics
    import subprocess
    from datetime import UTC, datetime

    import psutil
    from sqlalchemy import text

    from sync.server.keys import ServerKeys

    state = json.loads(STATE.read_text())
    helpers = ingest._server_helpers()
    url = _url(state["name"])
    keys = ServerKeys(base64.b64decode(state["server_key"]), base64.b64decode(state["box_key"]))
    helpers._PG_KEYS[url] = keys
    parts = _pushed_entries(state, entries, devices)
    with helpers.serve_subprocess(url, workers=workers) as server:
        with server.db.engine.connect() as conn:
            version = conn.execute(text("SELECT value FROM counters WHERE name = :n"),
                                   {"n": f"index:{state['campaign_id']}"}).scalar()
        baseline = {"t": datetime.now(UTC), "version": version}
        spies: list = []
        try:
            with tempfile.TemporaryDirectory(prefix="canvass-kept-") as tmp, \
                    ingest.PeakRss(f"--port {server.url.rsplit(':', 1)[1]}") as rss:

                def profile() -> None:  # CANVASS_PYSPY=prefix: py-spy of the timed push only
                    if os.environ.get("CANVASS_PYSPY"):
                        spies.extend(subprocess.Popen(
                            ["py-spy", "record", "-p", str(p.pid), "-r", "200", "-f", "raw",
                             "-o", f"{os.environ['CANVASS_PYSPY']}-{p.pid}.raw", "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                            for p in [*rss.procs, psutil.Process()])

                fleet = ingest.push_fleet(server, state["campaign_id"], parts, Path(tmp), rss,
                                          on_start=profile)
                for spy in spies:
                    spy.send_signal(signal.SIGINT)
                    spy.wait(timeout=30)
            pushed = sum(len(p) for p in parts)
            lat = fleet.latencies
            figures = {
                "stored": state["stored"], "entries": pushed, "devices": devices, "workers": workers,
                "entries_per_s": round(pushed / fleet.seconds, 1),
                "server_entries_per_s": round(pushed / sum(lat), 1) if devices == 1 else None,
                "p50_batch_ms": round(1000 * statistics.median(lat), 1),
                "p95_batch_ms": round(1000 * ingest._pct(lat, 0.95), 1),
                "server_cpu_ms_per_entry": round(1000 * fleet.server_cpu_seconds / pushed, 3),
                "postgres_cpu_ms_per_entry": round(1000 * fleet.postgres_cpu_seconds / pushed, 3),
                "device_cpu_ms_per_entry": round(1000 * fleet.device_cpu_seconds / pushed, 3),
                "server_peak_rss_mb": round(rss.peak, 1), "push_s": round(fleet.seconds, 2),
                "statuses": fleet.statuses, "load": round(os.getloadavg()[0], 2),
            }
            print(json.dumps(figures, indent=1))
            return figures
        finally:
            _cleanup(server.db, state["campaign_id"], baseline)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.kept_store")
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--stored", type=int, default=1_000_000)
    b.add_argument("--name", default="canvass_bench_kept")
    b.add_argument("--seed", type=int, default=7)
    p = sub.add_parser("push")
    p.add_argument("--entries", type=int, default=5000)
    p.add_argument("--devices", type=int, default=1)
    p.add_argument("--workers", type=int, default=1)
    sub.add_parser("drop")
    args = parser.parse_args(argv)
    if args.cmd == "build":
        build(args.stored, args.name, args.seed)
    elif args.cmd == "push":
        push(args.entries, args.devices, args.workers)
    else:
        state = json.loads(STATE.read_text())
        with _admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{state["name"]}"')
        STATE.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
