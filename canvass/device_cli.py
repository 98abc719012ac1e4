"""Device support commands: ``canvass enroll``, ``status``, ``sync``, ``export-pending``, ``wipe``.

The PIN is read from the environment variable CANVASS_PIN or from standard input (first line;
a hidden prompt on a terminal) -- never from an argument, which would show in ``ps`` and in
shell history. A profile directory holds the device store, the same file the app itself
writes (canvass.store.profile.STORE_FILE).

Exit codes: 0 success; 1 sync failed (refused batch, protocol error); 3 offline or server
unavailable (entries stay queued; try again later); 4 the device must be enrolled again;
5 the store could not be opened (wrong PIN, wait, missing profile); 6 enrollment refused;
7 a wipe was not confirmed.

``canvass wipe --profile DIR`` needs no PIN (staff take back a device whose circulator left):
it erases the store in place (data key, entries, keys, secrets; the file rebuilt, the WAL
truncated) and then deletes the profile's store files, so the app starts at enrollment.
Entries still waiting to be sent are lost with it, so it asks first (or --yes).
"""

from __future__ import annotations

import argparse
import functools
import getpass
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from canvass.store.profile import STORE_FILE, store_path

if TYPE_CHECKING:
    from canvass.store import DeviceStore

EXIT_OK = 0
EXIT_SYNC_FAILED = 1
EXIT_OFFLINE = 3
EXIT_REENROLL = 4
EXIT_STORE = 5
EXIT_ENROLL_REFUSED = 6
EXIT_NOT_CONFIRMED = 7

PIN_ENV = "CANVASS_PIN"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("enroll", help="enroll this device with the campaign's server")
    p.add_argument("--server", required=True, help="server URL, e.g. https://sync.example.org")
    p.add_argument("--code", required=True, help="one-time enrollment code from a team lead")
    p.add_argument("--profile", required=True, type=Path, help="profile directory (holds device.sqlite)")
    p.add_argument("--device-name", default=None, help="a name team leads will see")
    p.add_argument("--ca-bundle", default=None, help="PEM file of the campaign's own CA (pinned)")
    p.set_defaults(func=cmd_enroll)

    p = subparsers.add_parser("status", help="show enrollment and sync state of a profile")
    p.add_argument("--profile", required=True, type=Path)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_status)

    p = subparsers.add_parser("sync", help="send queued entries and fetch updates (exit 0 on full success)")
    p.add_argument("--profile", required=True, type=Path)
    p.add_argument("--attempts", type=int, default=5, help="tries per request before giving up")
    p.set_defaults(func=cmd_sync)

    p = subparsers.add_parser("wipe", help="erase a profile's store without its PIN (asks first)")
    p.add_argument("--profile", required=True, type=Path)
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=cmd_wipe)

    p = subparsers.add_parser("export-pending", help="write queued entries to a sealed file for the office")
    p.add_argument("--profile", required=True, type=Path)
    p.add_argument("--out", required=True, type=Path)
    p.set_defaults(func=cmd_export_pending)


# ------------------------------------------------------------------------------------ helpers


def _err(message: str) -> None:
    print(f"canvass: {message}", file=sys.stderr)


def read_pin(prompt: str = "PIN: ") -> str:
    pin = os.environ.get(PIN_ENV)
    if pin:
        return pin
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.rstrip("\r\n")


def open_store(profile: Path, *, create: bool = False):
    """Open and unlock the profile's store (creating it when asked). Returns (store, None) or
    (None, exit code) after printing a plain message."""
    from canvass.store import DeviceStore, StoreError

    path = store_path(profile)
    if not DeviceStore.exists(path):
        if not create:
            _err(f"no device store in {profile} (run `canvass enroll` first)")
            return None, EXIT_STORE
        profile.mkdir(parents=True, exist_ok=True)
        pin = read_pin("New PIN: ")
        try:
            return DeviceStore.create(path, pin), None
        except StoreError as exc:
            _err(str(exc))
            return None, EXIT_STORE
    store = DeviceStore.open(path)
    try:
        store.unlock(read_pin())
    except StoreError as exc:  # messages of store errors carry no personal data
        store.close()
        _err(str(exc))
        return None, EXIT_STORE
    return store, None


def on_unlocked_store(*, create: bool = False):
    """Run a command with the profile's store unlocked (created first when ``create``) and
    close the store after it, whatever the command returns or raises. A store that cannot be
    opened ends the command with open_store's exit code before it runs."""

    def wrap(command: Callable[[argparse.Namespace, DeviceStore], int]):
        @functools.wraps(command)
        def run(args: argparse.Namespace) -> int:
            store, code = open_store(args.profile, create=create)
            if store is None:
                return code
            try:
                return command(args, store)
            finally:
                store.close()

        return run

    return wrap


def _exit_for(report) -> int:
    from sync.sync_status import SyncState

    if report.ok:
        return EXIT_OK
    if report.state == SyncState.NEEDS_REENROLL:
        return EXIT_REENROLL
    if report.error_kind in {"Offline", "ServerUnavailable", "RateLimited"}:
        return EXIT_OFFLINE
    if report.error_kind in {"StoreLocked", "WrongPin", "PinDelay"}:
        return EXIT_STORE
    return EXIT_SYNC_FAILED


# ------------------------------------------------------------------------------------ commands


@on_unlocked_store(create=True)
def cmd_enroll(args: argparse.Namespace, store: DeviceStore) -> int:
    from sync.enroll import enroll
    from sync.errors import EnrollmentFailed, Offline, ServerUnavailable, SyncError

    name = args.device_name or os.uname().nodename or "device"
    try:
        answer = enroll(args.server, args.code, name[:100], store, ca_bundle=args.ca_bundle)
    except EnrollmentFailed as exc:
        _err(f"the server refused the enrollment code ({exc.code or exc.status}); ask for a new code")
        return EXIT_ENROLL_REFUSED
    except (Offline, ServerUnavailable):
        _err("could not reach the server; check the address and the connection, then try again")
        return EXIT_OFFLINE
    except SyncError as exc:
        _err(f"enrollment failed: {exc}")
        return EXIT_SYNC_FAILED
    print(f"Enrolled as device {answer.device_id} for campaign {answer.campaign.name}.")
    return EXIT_OK


@on_unlocked_store()
def cmd_status(args: argparse.Namespace, store: DeviceStore) -> int:
    from canvass.state.device_sync import device_sync_client

    client = device_sync_client(store)
    data = {
        **client.status.snapshot(),
        "enrolled": bool(store.get_setting("server_url") and store.get_setting("device_id")),
        "server_url": store.get_setting("server_url"),
        "device_id": store.get_setting("device_id"),
        "pending": store.pending_count(),  # the store's count, not the last round's
        "last_device_seq": store.last_device_seq(),
    }
    data.pop("progress", None)
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(f"Enrolled:      {'yes' if data['enrolled'] else 'no'}")
        if data["enrolled"]:
            print(f"Server:        {data['server_url']}")
            print(f"Device:        {data['device_id']}")
        print(f"Waiting:       {data['pending']}")
        print(f"Sync state:    {data['state']}")
        print(f"Last success:  {data['last_success'] or 'never'}")
        if data["last_error"]:
            print(f"Last problem:  {data['last_error']}")
    return EXIT_OK


@on_unlocked_store()
def cmd_sync(args: argparse.Namespace, store: DeviceStore) -> int:
    from canvass.state.device_sync import device_sync_client

    client = device_sync_client(store, max_attempts=max(1, args.attempts))

    def progress(sent: int, total: int) -> None:
        print(f"Sent {sent} of {total}", file=sys.stderr)

    report = client.sync_once(progress=progress)
    counts = ", ".join(f"{n} {status}" for status, n in sorted(report.results.items()))
    if report.ok:
        print(f"Sync complete: {report.entries_sent} sent ({counts or 'nothing new'}), "
              f"{report.pending} waiting.")
    else:
        _err(report.error or "sync failed")
    return _exit_for(report)


def cmd_wipe(args: argparse.Namespace) -> int:
    from canvass.store import DeviceStore, StoreError

    path = store_path(args.profile)
    files = sorted(args.profile.glob(STORE_FILE + "*"))  # the store, its WAL/SHM, its indexes
    if not files:
        _err(f"no device store in {args.profile}")
        return EXIT_STORE
    if not args.yes:
        print(f"This erases the device store in {args.profile} for good, entries not yet "
              "uploaded included.", file=sys.stderr)
        print('Type "wipe" to go on: ', end="", file=sys.stderr, flush=True)
        answer = sys.stdin.readline() if sys.stdin is not None else ""
        if answer.strip().lower() != "wipe":
            _err("not wiped")
            return EXIT_NOT_CONFIRMED
    if DeviceStore.exists(path):
        try:
            store = DeviceStore.open(path)
        except StoreError:
            store = None  # not readable as a store: deleting the files is all there is to do
        if store is not None:
            try:
                store.wipe()  # zeroes and rebuilds the file first: deleting alone leaves the bytes
            finally:
                store.close()
    for file in sorted(args.profile.glob(STORE_FILE + "*")):
        file.unlink(missing_ok=True)
    print(f"Wiped the device store in {args.profile}; the app will ask to enroll again.")
    return EXIT_OK


@on_unlocked_store()
def cmd_export_pending(args: argparse.Namespace, store: DeviceStore) -> int:
    from sync.bundle import seal_bundle
    from sync.ids import new_uuid7
    from sync.protocol import MAX_BATCH_ENTRIES, PROTOCOL_VERSION, BatchRequest

    public_key = store.get_setting("server_public_key")
    if not public_key:
        _err("this device is not enrolled, so there is no server key to seal the file to")
        return EXIT_STORE
    pending = [s.entry for s in store.entries() if s.status == "pending"]
    pending.sort(key=lambda e: e.device_seq)
    batches = [
        BatchRequest(protocol_version=PROTOCOL_VERSION, batch_id=new_uuid7(),
                     entries=[e.to_wire() for e in pending[i:i + MAX_BATCH_ENTRIES]])
        for i in range(0, len(pending), MAX_BATCH_ENTRIES)
    ]
    payload = json.dumps([b.model_dump(mode="json") for b in batches])
    sealed = seal_bundle(payload, public_key, device_id=store.get_setting("device_id") or "",
                         device_token=store.get_secret("device_token"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(sealed)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, args.out)
    print(f"Wrote {len(pending)} waiting entries to {args.out} (sealed; only the server can open it). "
          "They stay queued and will still sync.")
    return EXIT_OK
