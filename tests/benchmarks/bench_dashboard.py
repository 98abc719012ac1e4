"""Benchmark of the dashboard queries on PostgreSQL: 1,000,000 entries over 2,000 devices.

    python3 tests/benchmarks/bench_dashboard.py [--entries N] [--devices N] [--url URL]

Creates a scratch database on the machine's PostgreSQL (CANVASS_TEST_PG), fills it with
generate_series (no personal fields), runs each dashboard query and prints its time, then
drops the database. ``run(url, entries, devices)`` is also called by a tiny test.
"""

from __future__ import annotations

import argparse
import time
import uuid

from sqlalchemy import text

from sync.domain import utcnow
from sync.reports.devices import device_rows
from sync.reports.progress import compute_progress
from sync.reports.quality import quality_flags
from sync.reports.registrar import simulate
from sync.server import dashboard_queries as q
from sync.server.db import Database
from sync.server.migrate import upgrade_head

FILL = """
INSERT INTO devices (id, campaign_id, circulator, name, token_hash, enrolled_at, pending_count,
                     last_device_seq, app_version, last_seen_at)
SELECT 'dev-' || g, :cid, 'Circulator ' || g, 'Tablet ' || g, md5('t' || g), now(), g % 7, 0, '',
       now() - make_interval(mins => g % 180)
FROM generate_series(1, :devices) g;
INSERT INTO entries (id, campaign_id, device_id, device_seq, batch_id, section, line, captured_at,
                     fingerprint, received_at, status, counted, reason_code, first_result_json)
SELECT 'e-' || g, :cid, 'dev-' || (g % :devices + 1), g / :devices + 1, 'b', 'S' || (g / 50), g % 50 + 1,
       now() - make_interval(secs => (g * 37) % (30 * 86400)), '0', now() - make_interval(secs => g % 7200),
       CASE WHEN g % 20 = 0 THEN 'duplicate' WHEN g % 33 = 0 THEN 'rejected' ELSE 'accepted' END,
       NOT (g % 20 = 0 OR g % 33 = 0), CASE WHEN g % 33 = 0 AND g % 20 <> 0 THEN 103 END, '{}'
FROM generate_series(1, :entries) g;
ANALYZE;
"""


def seed(db: Database, entries: int, devices: int) -> str:
    cid = str(uuid.uuid4())
    with db.write() as s:
        s.execute(text("INSERT INTO campaigns (id, name, goal, deadline, jurisdiction, "
                       "jurisdiction_zips, validity_rate, settings_json, index_key_wrapped, "
                       "index_key_id, created_at) VALUES (:cid, 'Bench', 600000, '2030-01-01', "
                       "'los_angeles_county', '', 0.726, '{}', '\\x00', 1, now())"), {"cid": cid})
        for stmt in FILL.strip().split(";\n"):
            if stmt.strip() and not stmt.strip().startswith("ANALYZE"):
                s.execute(text(stmt), {"cid": cid, "entries": entries, "devices": devices})
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return cid


def run(url: str, entries: int, devices: int, out=print) -> dict[str, float]:
    upgrade_head(url)
    db = Database(url)
    try:
        t0 = time.perf_counter()
        cid = seed(db, entries, devices)
        out(f"seed {entries:,} entries / {devices:,} devices: {time.perf_counter() - t0:.1f} s")
        times: dict[str, float] = {}
        now = utcnow()

        def timed(name, fn):
            t = time.perf_counter()
            result = fn()
            times[name] = time.perf_counter() - t
            out(f"{name:28s} {times[name] * 1000:9.1f} ms")
            return result

        with db.read() as s:
            info = timed("campaign_info", lambda: q.campaign_info(s, cid))
            refs = timed("devices_in_scope", lambda: q.devices_in_scope(s, info, None))
            stats = timed("device_stats", lambda: q.device_stats(s, info, refs, now))
            totals = timed("drive_totals", lambda: q.drive_totals(s, info))
            activity = timed("circulator_activity", lambda: q.circulator_activity(s, info, refs))
        rows = device_rows(stats, now, info.stale_after_minutes)
        p = compute_progress(raw_entries=totals.raw, unique_signers=totals.unique,
                             rejected=totals.rejected, validity_rate=info.validity_rate,
                             goal=info.goal, deadline=info.deadline, today=now.date(),
                             days=totals.days)
        timed("quality_flags", lambda: quality_flags(activity))
        timed("simulate (1000 trials)", lambda: simulate(
            raw=p.raw_entries, unique=p.unique_signers, rejected=p.rejected,
            validity_rate=p.effective_validity_rate or info.validity_rate, required=info.goal))
        assert len(rows) == devices and totals.raw == entries
        return times
    finally:
        db.dispose()


def main() -> None:
    import os

    import psycopg

    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--devices", type=int, default=2_000)
    args = ap.parse_args()
    admin = os.environ.get("CANVASS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"canvass_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        run(f"{base}/{name}", args.entries, args.devices)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
