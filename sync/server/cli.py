"""``canvass-server``: administer and run the central server.

Every command accepts ``--json`` for machine-readable output. Secrets: the server key comes
from ``--key-file``, CANVASS_SERVER_KEY, or (SQLite only) a key file kept next to the
database; passwords are read from stdin, never from the command line.

Why one module over 400 lines: it is the command line's one parser (every subcommand, its
flags and help, kept together so the help reads as one page); what a command does lives in
the module it names (admin.py, purge.py, reseal.py, rotation.py, voters_cli.py, ...).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sync.server import admin
from sync.server.config import Settings, SettingsError
from sync.server.db import Database
from sync.server.keys import ServerKeyError, load_keys, write_key_file
from sync.server.migrate import upgrade_head
from sync.server.ratelimit import parse_networks
from sync.server.threaded import wait_healthy


def _out(args, data: dict, text: str) -> None:
    print(json.dumps(data) if args.json else text)


@contextmanager
def _database(args) -> Iterator[Database]:
    """The database of ``--db``, disposed of when the command is done with it."""
    db = Database(args.db)
    try:
        yield db
    finally:
        db.dispose()


def _db_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", required=True, help="SQLAlchemy URL, e.g. sqlite:///canvass.db")
    p.add_argument("--key-file", default=None, help="server key file (else CANVASS_SERVER_KEY)")
    p.add_argument("--json", action="store_true", help="print JSON")


def cmd_init(args) -> int:
    keys = load_keys(args.db, args.key_file)
    upgrade_head(args.db, keys)  # migration 0900 re-keys stored fingerprints with it
    _out(args, {"ok": True, "server_public_key": keys.box_public_b64}, "database ready")
    return 0


def cmd_campaign_create(args) -> int:
    keys = load_keys(args.db, args.key_file)
    with _database(args) as db:
        cid = admin.create_campaign(db, keys, name=args.name, goal=args.goal, deadline=args.deadline,
                                    jurisdiction=args.jurisdiction, validity_rate=args.validity_rate)
    _out(args, {"campaign_id": cid}, cid)
    return 0


def _read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("Password: ")
    return sys.stdin.readline().rstrip("\r\n")


def cmd_user_add(args) -> int:
    with _database(args) as db:
        uid = admin.add_user(db, username=args.username, password=_read_password(), role=args.role,
                             campaign_id=args.campaign, team=args.team)
    _out(args, {"user_id": uid}, uid)
    return 0


def cmd_user_disable(args) -> int:
    with _database(args) as db:
        admin.disable_user(db, args.username)
    _out(args, {"disabled": args.username}, f"disabled {args.username}; sessions ended")
    return 0


def cmd_user_sessions_revoke(args) -> int:
    with _database(args) as db:
        ended = admin.revoke_sessions(db, args.username)
    _out(args, {"ended_sessions": ended}, f"{ended} sessions ended")
    return 0


def cmd_enroll_code(args) -> int:
    keys = load_keys(args.db, args.key_file)
    with _database(args) as db:
        issued = admin.create_enroll_code(db, keys, campaign_id=args.campaign,
                                          circulator=args.circulator, ttl_hours=args.ttl_hours,
                                          team=args.team)
    _out(args, {"code": issued.code, "expires_at": issued.expires_at.isoformat()}, issued.code)
    return 0


def cmd_device_revoke(args) -> int:
    with _database(args) as db:
        admin.revoke_device(db, args.device)
        rotated = None
        if args.rotate_index:
            # A lost device's door-step key stops matching anyone counted after this.
            from sync.server.models import Device
            from sync.server.rotation import rotate_index

            with db.read() as s:
                campaign_id = s.get(Device, args.device).campaign_id
            rotated = rotate_index(db, load_keys(args.db, args.key_file), campaign_id).key_id
    data = {"revoked": args.device, **({"index_key_id": rotated} if rotated else {})}
    _out(args, data, f"revoked {args.device}" + (f"; index key {rotated} in use" if rotated else ""))
    return 0


def cmd_campaign_doorstep(args) -> int:
    from sync.server.doorstep_filter import set_scope

    with _database(args) as db, db.write() as s:
        try:
            set_scope(s, args.campaign, args.scope, args.region_days)
        except (ValueError, LookupError) as exc:
            raise admin.AdminError(str(exc)) from exc
    _out(args, {"campaign_id": args.campaign, "doorstep_scope": args.scope},
         f"door-step scope of {args.campaign}: {args.scope}")
    return 0


def cmd_team_zips(args) -> int:
    from sync.server.doorstep_filter import set_team_zips, team_zips

    with _database(args) as db, db.write() as s:
        try:
            zips = (set_team_zips(s, args.campaign, args.team, args.set.split(",") if args.set else [])
                    if args.set is not None else team_zips(s, args.campaign, args.team))
        except (ValueError, LookupError) as exc:
            raise admin.AdminError(str(exc)) from exc
    _out(args, {"campaign_id": args.campaign, "team": args.team, "zips": zips},
         f"team {args.team}: {', '.join(zips) or 'no ZIPs'}")
    return 0


def cmd_keys_rotate_data(args) -> int:
    from sync.server.rotation import rotate_data

    keys = load_keys(args.db, args.key_file)
    with _database(args) as db:
        report = rotate_data(db, keys, batch_size=args.batch_size, grace_seconds=args.grace_seconds)
    _out(args, {"key_id": report.key_id, "reencrypted": report.reencrypted, "passes": report.passes,
                "retired": report.retired},
         f"data key {report.key_id} in use; {report.reencrypted} fields re-encrypted")
    return 0


def cmd_keys_rotate_index(args) -> int:
    from sync.server.rotation import rotate_index

    keys = load_keys(args.db, args.key_file)
    with _database(args) as db:
        report = rotate_index(db, keys, args.campaign)
    _out(args, {"campaign_id": report.campaign_id, "index_key_id": report.key_id,
                "entries": report.entries, "index_keys": report.index_keys},
         f"index key {report.key_id} in use; {report.entries} entries re-keyed")
    return 0


_PURGE_STEPS = {"rollup": "bringing the per-day figures up to date",
                "purge": "erasing signer data (one transaction)",
                "compact": "rebuilding the database file"}


def cmd_purge(args) -> int:
    """Purge a campaign's signer data (sync/server/purge.py). It cannot be undone, so it asks
    for the campaign id again unless --yes is given. Unlike the admin action it does not wait
    for the retention period (an operator may end a campaign early): the id typed is the check."""
    from sync.server.purge import PurgeError, purge_campaign

    timezone = Settings.load(args.db, with_keys=False).timezone  # the days its counts keep
    if not args.yes:
        prompt = (f"This erases every signer's data of campaign {args.campaign} for good; "
                  "counts per section and day stay.\nType the campaign id to go on: ")
        print(prompt, end="", file=sys.stderr, flush=True)
        answer = (sys.stdin.readline() if sys.stdin is not None else "").strip()
        if answer != args.campaign:
            print("canvass-server: not purged (the id typed did not match)", file=sys.stderr)
            return 1
    with _database(args) as db:
        try:
            report = purge_campaign(db, args.campaign, timezone=timezone, progress=lambda step: print(
                f"purge: {_PURGE_STEPS[step]}", file=sys.stderr, flush=True))
        except PurgeError as exc:
            raise admin.AdminError(str(exc)) from None
    _out(args, {"campaign_id": report.campaign_id, "purged_entries": report.entries,
                "voter_records": report.voter_records, "import_jobs": report.import_jobs,
                "compacted": report.compacted},
         f"campaign {report.campaign_id} purged: {report.entries} entries, "
         f"{report.voter_records} voter records")
    return 0


def cmd_keys_new(args) -> int:
    """A new server key file (created 0600, never overwriting one), for --key-file."""
    try:
        keys = write_key_file(Path(args.out))
    except FileExistsError:
        raise ServerKeyError(f"{args.out} exists already: a key file is never overwritten") from None
    except OSError as exc:
        raise ServerKeyError(f"cannot create the key file {args.out}: {exc.strerror}") from None
    _out(args, {"key_file": args.out, "server_public_key": keys.box_public_b64},
         f"new server key in {args.out} (mode 0600): pass it as --key-file, and keep a copy "
         "offline; without it the stored personal data cannot be read")
    return 0


def _own_url(host: str, port: int) -> str:
    """The address this process serves on, as seen from itself (loopback for a wildcard)."""
    local = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    return f"http://{local}:{port}"


def _announce_when_up(host: str, port: int, workers: int) -> None:
    """Print one line once the server answers its health check (from a thread: uvicorn's run
    blocks). The address only; keys stay out of the output."""
    url = _own_url(host, port)

    def announce() -> None:
        try:
            wait_healthy(url, limit=300)
        except RuntimeError:
            return  # uvicorn reports its own failure to start
        print(f"canvass-server: serving on http://{host}:{port} ({workers} "
              f"worker{'s' if workers > 1 else ''}); health check {url}/healthz", flush=True)

    threading.Thread(target=announce, name="announce", daemon=True).start()


def serve_settings(args) -> Settings:
    """The settings ``serve`` runs with: the environment's, its flags over them."""
    flags = {"own_url": _own_url(args.host, args.port)}
    if args.trusted_proxy is not None:
        flags["trusted_proxies"] = args.trusted_proxy
    return Settings.load(args.db, args.key_file, **flags)


def cmd_serve(args) -> int:
    import uvicorn

    from sync.server.runtime import tune_gc

    settings = serve_settings(args)
    parse_networks(settings.trusted_proxies)  # a bad address fails here, before serving
    upgrade_head(args.db, settings.keys)
    # uvicorn believes X-Forwarded-For/-Proto from 127.0.0.1 unless told otherwise: only from
    # the configured proxies (none by default).
    proxy = {"proxy_headers": bool(settings.trusted_proxies),
             "forwarded_allow_ips": settings.trusted_proxies or ""}
    if args.workers > 1:
        # Each worker process builds its own app from the environment (keys included, never
        # on the command line where other users could read them with ps): every setting, so
        # a worker's Settings.load gives these same settings.
        os.environ.update(settings.to_env())
        _announce_when_up(args.host, args.port, args.workers)
        uvicorn.run("sync.server.app:app_from_env", factory=True, host=args.host, port=args.port,
                    workers=args.workers, log_level=args.log_level, **proxy)
    else:
        from sync.server.app import create_app

        app = create_app(settings)
        tune_gc(settings.gc)
        _announce_when_up(args.host, args.port, args.workers)
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, **proxy)
    return 0


def cmd_import_bundle(args) -> int:
    from sync.server.bundle_import import main_import_bundle

    return main_import_bundle(args)


# `reseal`: the stored match records of an older normalizer (sync/server/reseal.py).
def cmd_reseal(args) -> int:
    from sync.server.models import Campaign
    from sync.server.reseal import reseal
    from sync.server.rotation import ServerCipher

    keys = load_keys(args.db, args.key_file)
    with _database(args) as db:
        if args.campaign is not None:
            with db.read() as s:
                if s.get(Campaign, args.campaign) is None:
                    raise admin.AdminError("unknown campaign")
        cipher = ServerCipher(db, keys)  # the data keys as they change (a rotation meanwhile)
        try:
            report = reseal(db, cipher, campaign_id=args.campaign, batch_size=args.batch_size,
                            progress=lambda done, total, resealed: print(
                                f"reseal: {done}/{total} entries examined, {resealed} resealed",
                                file=sys.stderr, flush=True))
        except ValueError as exc:
            raise admin.AdminError(str(exc)) from None
        finally:
            cipher.dispose()
    _out(args, {"examined": report.examined, "resealed": report.resealed,
                "normalizer_version": report.version},
         f"{report.examined} match records examined, {report.resealed} resealed "
         f"(normalizer version {report.version})")
    return 0


def _add_reseal(sub) -> None:
    p = sub.add_parser("reseal", help="re-seal stored match records an older normalizer made "
                       "(after an upgrade; while the server serves)")
    _db_args(p)
    p.add_argument("--campaign", default=None, help="only this campaign's entries (default: all)")
    p.add_argument("--batch-size", type=int, default=500)
    p.set_defaults(func=cmd_reseal)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="canvass-server", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="create or upgrade the database schema")
    _db_args(p)
    p.set_defaults(func=cmd_init)

    camp = sub.add_parser("campaign").add_subparsers(dest="sub", required=True)
    p = camp.add_parser("create", help="create a campaign; prints its id")
    _db_args(p)
    p.add_argument("--name", required=True)
    p.add_argument("--goal", type=int, required=True)
    p.add_argument("--deadline", required=True, help="YYYY-MM-DD")
    p.add_argument("--jurisdiction", default="los_angeles_county")
    p.add_argument("--validity-rate", type=float, default=0.726)
    p.set_defaults(func=cmd_campaign_create)
    p = camp.add_parser("doorstep", help="what devices hold for the offline door-step check")
    _db_args(p)
    p.add_argument("--campaign", required=True)
    p.add_argument("--scope", required=True, choices=("none", "region", "campaign"))
    p.add_argument("--region-days", type=int, default=None,
                   help="region scope: ZIPs the team worked in during this many days (default 14)")
    p.set_defaults(func=cmd_campaign_doorstep)

    team = sub.add_parser("team").add_subparsers(dest="sub", required=True)
    p = team.add_parser("zips", help="show or set (--set 90012,90033; --set '' clears) a team's ZIPs")
    _db_args(p)
    p.add_argument("--campaign", required=True)
    p.add_argument("--team", required=True)
    p.add_argument("--set", default=None, metavar="ZIPS")
    p.set_defaults(func=cmd_team_zips)

    user = sub.add_parser("user").add_subparsers(dest="sub", required=True)
    p = user.add_parser("add", help="add a staff account (password on stdin)")
    _db_args(p)
    p.add_argument("--username", required=True)
    p.add_argument("--role", required=True, choices=admin.ROLES)
    p.add_argument("--campaign", default=None)
    p.add_argument("--team", default="")
    p.set_defaults(func=cmd_user_add)
    p = user.add_parser("disable", help="refuse a staff account's logins; end its sessions")
    _db_args(p)
    p.add_argument("--username", required=True)
    p.set_defaults(func=cmd_user_disable)
    sessions = user.add_parser("sessions").add_subparsers(dest="sessions_sub", required=True)
    p = sessions.add_parser("revoke", help="end every session of a staff account now")
    _db_args(p)
    p.add_argument("--username", required=True)
    p.set_defaults(func=cmd_user_sessions_revoke)

    p = sub.add_parser("enroll-code", help="issue a one-time device enrollment code")
    _db_args(p)
    p.add_argument("--campaign", required=True)
    p.add_argument("--circulator", required=True)
    p.add_argument("--team", default="", help="the team of the device enrolled with the code")
    p.add_argument("--ttl-hours", type=float, default=72)
    p.set_defaults(func=cmd_enroll_code)

    dev = sub.add_parser("device").add_subparsers(dest="sub", required=True)
    p = dev.add_parser("revoke", help="revoke a device's token")
    _db_args(p)
    p.add_argument("--device", required=True)
    p.add_argument("--rotate-index", action="store_true",
                   help="also rotate the campaign's index key (a lost or stolen device)")
    p.set_defaults(func=cmd_device_revoke)

    keys = sub.add_parser(
        "keys", help="make a key file; rotate keys while the server keeps serving").add_subparsers(
        dest="sub", required=True)
    p = keys.add_parser("new", help="make a new server key file (mode 0600) for --key-file")
    p.add_argument("--out", required=True, metavar="FILE", help="path of the new key file")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_keys_new)
    p = keys.add_parser("rotate-data", help="new field data key; re-encrypt every sealed field")
    _db_args(p)
    p.add_argument("--batch-size", type=int, default=200)
    p.add_argument("--grace-seconds", type=float, default=3.0,
                   help="wait for serving processes to pick up the new key before re-encrypting")
    p.set_defaults(func=cmd_keys_rotate_data)
    p = keys.add_parser("rotate-index", help="new matching-index key for a campaign")
    _db_args(p)
    p.add_argument("--campaign", required=True)
    p.set_defaults(func=cmd_keys_rotate_index)

    p = sub.add_parser("purge", help="erase a campaign's signer data for good (keeps its counts)")
    _db_args(p)
    p.add_argument("--campaign", required=True)
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=cmd_purge)

    p = sub.add_parser("serve", help="run the HTTP API (migrates the schema first)")
    _db_args(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes; several replicas on several hosts share one PostgreSQL "
                   "database the same way (README, Production)")
    p.add_argument("--log-level", default="warning")
    p.add_argument("--trusted-proxy", default=None,
                   metavar="ADDRS", help="reverse proxies (addresses/CIDRs, comma-separated) whose "
                   "X-Forwarded-For is believed (over CANVASS_TRUSTED_PROXIES; default: none)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("import-bundle", help="import a sealed offline export bundle")
    _db_args(p)
    p.add_argument("file")
    p.add_argument("--allow-revoked", action="store_true")
    p.set_defaults(func=cmd_import_bundle)

    _add_reseal(sub)
    from sync.server import voters_cli  # `voters import|status`: the campaign's voter file

    voters_cli.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (admin.AdminError, ServerKeyError, SettingsError) as exc:
        if getattr(args, "json", False):
            print(json.dumps({"error": str(exc)}))
        print(f"canvass-server: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
