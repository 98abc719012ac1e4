"""Replicas: entries/s with 1, 2 and 4 `canvass-server serve` processes (each one worker)
against one PostgreSQL database, beside PostgreSQL's own CPU per entry.

    python tests/benchmarks/replicas.py                       # 40 devices x 3 batches x 50
    python tests/benchmarks/replicas.py --devices 80 --counts 1,2,4

Each run: a fresh database, N server processes, devices provisioned straight in the database
(load_devices.provision_devices) and spread round-robin over the N servers (the client is the
load balancer: a proxy in Python would be the bottleneck), every device pushing its batches
concurrently. Afterwards every entry must be stored exactly once. PostgreSQL CPU is read from
/proc/<pid>/stat of the backends serving *this* database (pg_stat_activity), sampled while the
run goes, so other databases on a shared PostgreSQL do not count; its background writers
(WAL writer, checkpointer) are shared and left out.

The machine these figures come from matters: on a small shared one, N server processes
compete with PostgreSQL and with each other for the same cores, so the absolute figures are
low; read the ratios (entries/s vs 1 process, PostgreSQL CPU ms per entry).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import func, select, text

TESTS = Path(__file__).resolve().parent.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from server_helpers import free_port, server_keys_for, spawn_server, stop_process, wait_healthy  # noqa: E402

from benchmarks.load_devices import LoadResult, _device, provision_devices  # noqa: E402
from sync.server.models import Entry  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PG_BASE = os.environ.get("CANVASS_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")


def _proc_cpu(pid: int) -> float | None:
    """utime + stime of ``pid`` in seconds, from /proc/<pid>/stat (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # fields 14 and 15 of stat(5)


class BackendCpu:
    """CPU seconds of the PostgreSQL backends of one database, sampled every ``period``: a
    backend's first sample is its baseline, its last its end (pooled connections persist)."""

    def __init__(self, db, period: float = 0.25) -> None:
        self.db, self.period = db, period
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _pids(self) -> list[int]:
        with self.db.engine.connect() as conn:
            return list(conn.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()")).scalars())

    def sample(self) -> None:
        for pid in self._pids():
            cpu = _proc_cpu(pid)
            if cpu is not None:
                self.first.setdefault(pid, cpu)
                self.last[pid] = cpu

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            self.sample()

    def __enter__(self) -> BackendCpu:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    @property
    def seconds(self) -> float:
        return sum(self.last[p] - self.first[p] for p in self.last)


def _fresh_database() -> str:
    import psycopg

    name = f"canvass_bench_{uuid.uuid4().hex[:10]}"
    admin = PG_BASE.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def _drop_database(name: str) -> None:
    import psycopg

    admin = PG_BASE.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _push(urls: list[str], tokens: list[str], batches: int, per_batch: int,
                result: LoadResult, sent: set[str]) -> None:
    run = uuid.uuid4().hex[:3].upper()
    limits = httpx.Limits(max_connections=len(tokens), max_keepalive_connections=len(tokens))
    deadline = time.monotonic() + 900
    async with httpx.AsyncClient(timeout=httpx.Timeout(180.0), limits=limits) as client:
        await asyncio.gather(*[_device(client, urls[i % len(urls)], run, i, token, batches,
                                       per_batch, result, deadline, sent)
                               for i, token in enumerate(tokens)])


def measure(processes: int, devices: int, batches: int, per_batch: int) -> dict:
    from sync.server.admin import create_campaign
    from sync.server.db import Database
    from sync.server.migrate import upgrade_head

    name = _fresh_database()
    db_url = f"{PG_BASE}/{name}"
    procs = []
    try:
        upgrade_head(db_url)
        keys = server_keys_for(db_url)
        db = Database(db_url)
        cid = create_campaign(db, keys, name="Bench", goal=1_000_000, deadline="2030-12-31")
        env = {"CANVASS_SERVER_KEY": base64.b64encode(keys.server_key).decode(),
               "CANVASS_BOX_KEY": base64.b64encode(keys.box_private_key).decode()}
        ports = [free_port() for _ in range(processes)]
        for port in ports:
            procs.append(spawn_server(db_url, port, env, stderr=open(os.devnull, "wb")))  # noqa: SIM115
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        for url, proc in zip(urls, procs, strict=True):
            wait_healthy(url, proc)
        tokens = [t for _d, t in provision_devices(db, cid, devices)]
        result, sent = LoadResult(devices=devices), set()
        with BackendCpu(db) as cpu:
            started = time.perf_counter()
            asyncio.run(_push(urls, tokens, batches, per_batch, result, sent))
            elapsed = time.perf_counter() - started
        with db.read() as s:
            stored = s.scalar(select(func.count()).select_from(Entry).where(Entry.campaign_id == cid))
            distinct = s.scalar(select(func.count(func.distinct(Entry.id))).where(Entry.campaign_id == cid))
        db.dispose()
        if stored != len(sent) or distinct != stored or result.failures:
            raise SystemExit(f"{processes} processes: stored {stored} of {len(sent)} "
                             f"({distinct} distinct), failures {result.failures[:3]}")
        return {"processes": processes, "entries": stored, "seconds": elapsed,
                "rate": stored / elapsed, "pg_cpu_s": cpu.seconds,
                "pg_ms_per_entry": 1000 * cpu.seconds / stored,
                "pg_share": cpu.seconds / elapsed,
                "p95_ms": 1000 * result.percentile(95)}
    finally:
        for proc in procs:
            stop_process(proc)
        _drop_database(name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=40)
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--entries", type=int, default=50, help="entries per batch")
    parser.add_argument("--counts", default="1,2,4", help="server process counts to run")
    args = parser.parse_args(argv)
    rows = [measure(int(n), args.devices, args.batches, args.entries) for n in args.counts.split(",")]
    base = rows[0]["rate"]
    print(f"{os.cpu_count()} CPUs (shared); {args.devices} devices x {args.batches} batches x "
          f"{args.entries} entries per run, one fresh PostgreSQL database each")
    print("| server processes | entries | entries/s | vs 1 | p95 batch ms | PostgreSQL CPU ms/entry "
          "| PostgreSQL CPU cores busy |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['processes']} | {r['entries']:,} | {r['rate']:,.0f} | {r['rate'] / base:.2f}x "
              f"| {r['p95_ms']:,.0f} | {r['pg_ms_per_entry']:.3f} | {r['pg_share']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
