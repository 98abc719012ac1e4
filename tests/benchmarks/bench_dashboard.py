"""Benchmark of the dashboard queries on PostgreSQL: 1,000,000 entries over 2,000 devices.

    python3 tests/benchmarks/bench_dashboard.py [--entries N] [--devices N] [--url URL]

Creates a scratch database on the machine's PostgreSQL (CANVASS_TEST_PG), fills it with
generate_series (no personal fields; arrivals spread over the last 2 hours, captures over 30
days; each device fills its own sections of 50 lines, as a circulator fills paper), then times:

* ``scan``: each query without the rollup (every entry read; the path before the first refresh);
* ``build``: the first ``refresh_rollup`` (folds every settled entry);
* ``steady``: each query right after a refresh, with the last 2 minutes' arrivals live;
* ``after arrivals``: 1,000 new entries (captured on random days), 50 corrections of settled
  entries and 50 review decisions (outcomes feed), then the refresh and each query again.

Each rollup figure is checked against the scan's (exact equality), then the database is
dropped. ``run(url, entries, devices)`` is also called by a tiny test.
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
from sync.server import dashboard as q
from sync.server.config import DEFAULT_TIMEZONE
from sync.server.db import Database
from sync.server.migrate import upgrade_head

FILL = """
INSERT INTO devices (id, campaign_id, circulator, name, token_hash, enrolled_at, pending_count,
                     last_device_seq, app_version, last_seen_at)
SELECT 'dev-' || g, :cid, 'Circulator ' || g, 'Tablet ' || g, md5('t' || g), now(), g % 7, 0, '',
       now() - make_interval(mins => g % 180)
FROM generate_series(1, :devices) g;
INSERT INTO entries (id, campaign_id, device_id, device_seq, batch_id, section, line, captured_at,
                     fingerprint, received_at, status, counted, reason_code)
SELECT 'e-' || g, :cid, 'dev-' || (g % :devices + 1), g / :devices + 1, 'b',
       'S' || (g % :devices + 1) || '-' || (g / :devices / 50), (g / :devices) % 50 + 1,
       now() - make_interval(secs => (g * 37) % (30 * 86400)), '0', now() - make_interval(secs => g % 7200),
       CASE WHEN g % 20 = 0 THEN 'duplicate' WHEN g % 33 = 0 THEN 'rejected' ELSE 'accepted' END,
       NOT (g % 20 = 0 OR g % 33 = 0), CASE WHEN g % 33 = 0 AND g % 20 <> 0 THEN 103 END
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


ARRIVALS = """
INSERT INTO entries (id, campaign_id, device_id, device_seq, batch_id, section, line, captured_at,
                     fingerprint, received_at, status, counted, reason_code, supersedes)
SELECT 'n-' || g, :cid, 'dev-' || (g % :devices + 1), 10000000 + g, 'b', 'N' || (g / 50), g % 50 + 1,
       now() - make_interval(secs => (g * 53) % (30 * 86400)), '0', now(),
       CASE WHEN g % 20 = 0 THEN 'duplicate' ELSE 'accepted' END, g % 20 <> 0, NULL,
       CASE WHEN g <= :fixes THEN 'e-' || (600 + (g * 97) % (:entries - 600)) END
FROM generate_series(1, :arrivals) g;
UPDATE entries t SET superseded_by = n.id, counted = false FROM entries n
WHERE n.campaign_id = :cid AND n.supersedes = t.id AND n.id LIKE 'n-%%';
UPDATE entries SET status = 'duplicate', counted = false
WHERE id IN (SELECT 'e-' || (601 + (g * 89) % (:entries - 601)) FROM generate_series(1, :reviews) g);
INSERT INTO outcomes (seq, device_id, entry_id, status, created_at)
SELECT (SELECT coalesce(max(seq), 0) FROM outcomes) + g, e.device_id, e.id, e.status, now()
FROM generate_series(1, :reviews) g JOIN entries e ON e.id = 'e-' || (601 + (g * 89) % (:entries - 601))
"""


def arrivals(db: Database, cid: str, entries: int, devices: int, n: int = 1000, fixes: int = 50,
             reviews: int = 50) -> None:
    """New entries (fresh arrivals captured on random days), corrections of settled entries
    and review decisions, the way ingest and review write them."""
    with db.write() as s:
        for stmt in ARRIVALS.strip().split(";\n"):
            s.execute(text(stmt), {"cid": cid, "devices": devices, "arrivals": n, "fixes": fixes,
                                   "reviews": reviews, "entries": entries})


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
            out(f"{name:36s} {times[name] * 1000:9.1f} ms")
            return result

        def queries(tag: str, use_rollup: bool, now):
            suffix = f" ({tag})" if tag else ""
            with db.read() as s:
                q.snapshot(s)
                stats = timed("device_stats" + suffix,
                              lambda: q.device_stats(s, info, refs, now, use_rollup=use_rollup))
                totals = timed("drive_totals" + suffix,
                               lambda: q.drive_totals(s, info, use_rollup=use_rollup))
                activity = timed("circulator_activity" + suffix, lambda: q.circulator_activity(
                    s, info, refs, use_rollup=use_rollup))
            return stats, totals, activity

        with db.read() as s:
            info = timed("campaign_info", lambda: q.campaign_info(s, cid, timezone=DEFAULT_TIMEZONE))
            refs = timed("devices_in_scope", lambda: q.devices_in_scope(s, info, None))
        scan = queries("scan", False, now)
        timed("refresh_rollup (build)", lambda: q.refresh_rollup(db, info, now))
        timed("refresh_rollup (nothing new)", lambda: q.refresh_rollup(db, info, now))
        stats, totals, activity = queries("", True, now)
        assert (stats, totals, activity) == scan, "rollup figures differ from the scan"
        arrivals(db, cid, entries, devices)
        later = utcnow()
        timed("refresh_rollup (after arrivals)", lambda: q.refresh_rollup(db, info, later))
        fresh = queries("after arrivals", True, later)
        assert fresh == queries("scan after arrivals", False, later), "rollup differs after arrivals"
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
        assert fresh[1].raw == entries + 1000 - 50  # 50 corrections supersede settled entries
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
