"""``canvass-server voters ...``: import a county voter file, show its status.

    canvass-server voters import FILE --campaign ID --db URL [--preset county|simple]
                   [--map field=Column[+Column],...] [--encoding utf-8-sig] [--no-rematch]
    canvass-server voters status --campaign ID --db URL
    canvass-server voters import FILE --campaign ID --db URL --queue   # a job for the replicas
    canvass-server voters job JOB_ID --db URL

Progress goes to stderr as counts and percentages only. See sync/voters/columns.py for the
presets and the --map syntax, and sync/server/voters/store.py for what is stored.
"""

from __future__ import annotations

import json
import sys
import time

from sync.server.db import Database
from sync.server.keys import load_keys
from sync.voters.columns import DEFAULT_PRESET, PRESETS, ColumnMapping, MappingError


def _db_args(p) -> None:
    p.add_argument("--db", required=True, help="SQLAlchemy URL, e.g. sqlite:///canvass.db")
    p.add_argument("--key-file", default=None, help="server key file (else CANVASS_SERVER_KEY)")
    p.add_argument("--json", action="store_true", help="print JSON")


def _progress(quiet: bool):
    start = time.monotonic()

    def report(rows: int, done: int, total: int) -> None:
        if quiet:
            return
        pct = 100.0 * done / total if total else 100.0
        rate = rows / max(time.monotonic() - start, 1e-9)
        print(f"voters: {rows:,} rows read ({pct:.1f}%), {rate:,.0f} rows/s", file=sys.stderr, flush=True)
    return report


def cmd_import(args) -> int:
    from sync.server.voters.importer import import_voter_file
    from sync.server.voters.store import VoterImportError

    try:
        mapping = ColumnMapping.build(None if args.preset == "none" else args.preset, args.map or None)
    except MappingError as exc:
        print(f"canvass-server: {exc}", file=sys.stderr)
        return 2
    keys = load_keys(args.db, args.key_file)
    if args.queue:
        return _queue(args, keys)
    db = Database(args.db)
    try:
        result = import_voter_file(db, keys, args.campaign, args.file, mapping=mapping,
                                   encoding=args.encoding, progress=_progress(args.quiet),
                                   batch_rows=args.batch_rows, rematch=not args.no_rematch)
    except (VoterImportError, MappingError, UnicodeDecodeError, OSError) as exc:
        msg = type(exc).__name__ if isinstance(exc, UnicodeDecodeError) else str(exc)
        if isinstance(exc, OSError):
            msg = "cannot read the voter file"
        if args.json:
            print(json.dumps({"error": msg}))
        print(f"canvass-server: {msg}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    data = result.as_dict()
    text = (f"voter file {result.file_id} active: {result.rows_loaded:,} voters "
            f"({result.rows_read - result.rows_loaded:,} rows skipped); index v{result.index_version}, "
            f"{result.index_keys:,} keys, {result.index_bytes / 1e6:.1f} MB, "
            f"false-positive rate {result.false_positive_rate:.2e} per key")
    print(json.dumps(data) if args.json else text)
    return 0


def _queue(args, keys) -> int:
    """Queue the load as a durable job for the serving replicas (sync/server/voter_jobs.py)."""
    import os

    from sync.server.config import Settings
    from sync.server.services import Services
    from sync.server.voter_jobs import queue_voter_file

    svc = Services.build(Settings(db_url=args.db, keys=keys))
    try:
        job_id = queue_voter_file(svc, args.campaign, os.path.abspath(args.file),
                                  preset=None if args.preset == "none" else args.preset,
                                  maps=args.map, encoding=args.encoding,
                                  batch_rows=args.batch_rows, rematch=not args.no_rematch)
    finally:
        svc.db.dispose()
    print(json.dumps({"job_id": job_id}) if args.json else
          f"voter file load queued as job {job_id}: `canvass-server voters job {job_id}`")
    return 0


def cmd_job(args) -> int:
    from sync.server.jobs import job_state

    db = Database(args.db)
    try:
        state = job_state(db, args.job_id)
    finally:
        db.dispose()
    if state is None:
        print(f"canvass-server: no job {args.job_id}", file=sys.stderr)
        return 2
    print(json.dumps(state) if args.json else
          f"job {state['job_id']}: {state['state']} (attempts {state['attempts']})"
          + (f", {state['error']}" if state["error"] else ""))
    return 0


def cmd_status(args) -> int:
    from sync.server.voters.registrations import registration_summary

    db = Database(args.db)
    try:
        with db.read() as s:
            summary = registration_summary(s, args.campaign)
    finally:
        db.dispose()
    print(json.dumps(summary) if args.json else
          f"projected valid {summary['projected_valid']:,} of {summary['counted']:,} counted; "
          + ", ".join(f"{k} {v:,}" for k, v in summary["by_match"].items()))
    return 0


def register(subparsers) -> None:
    """Add ``voters import`` and ``voters status`` to canvass-server's subcommands."""
    voters = subparsers.add_parser("voters", help="county voter file: import, status")
    sub = voters.add_subparsers(dest="sub", required=True)
    p = sub.add_parser("import", help="import a voter file (replaces the campaign's current one)")
    _db_args(p)
    p.add_argument("file")
    p.add_argument("--campaign", required=True)
    p.add_argument("--preset", default=DEFAULT_PRESET, choices=[*PRESETS, "none"],
                   help="column layout (default: county); 'none' = only --map")
    p.add_argument("--map", action="append", default=[],
                   help="field=Column[+Column],... overrides (repeatable)")
    p.add_argument("--encoding", default="utf-8-sig")
    p.add_argument("--batch-rows", type=int, default=2000)
    p.add_argument("--no-rematch", action="store_true", help="do not re-match existing entries")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--queue", action="store_true",
                   help="queue the load for the serving replicas (the file at the same path there)")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser("job", help="the state of a queued voter-file load")
    _db_args(p)
    p.add_argument("job_id")
    p.set_defaults(func=cmd_job)
    p = sub.add_parser("status", help="entries by registration match; projected valid count")
    _db_args(p)
    p.add_argument("--campaign", required=True)
    p.set_defaults(func=cmd_status)
