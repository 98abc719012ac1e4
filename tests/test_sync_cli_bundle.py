"""`canvass enroll/status/sync/export-pending` as subprocesses, the sealed bundle import into
the server's normal intake, and the background runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
from cli_helpers import canvass
from fault_layer import REPO_ROOT, TEST_PIN, fast_dir, new_device, save_valid

from sync.background import BackgroundSync
from sync.backoff import Backoff
from sync.client import SyncClient
from sync.sync_status import SyncState


@pytest.fixture
def workdir():
    with fast_dir() as path:
        yield path


def _open(profile):
    from canvass.store import DeviceStore
    from canvass.store.profile import store_path

    store = DeviceStore.open(store_path(profile))
    store.unlock(TEST_PIN)
    return store


def test_cli_enroll_sync_status_and_bundle_import(cli_server, workdir):
    from sync.server.bundle_import import import_bundle

    profile = workdir / "profile"
    # the PIN comes from stdin here (never an argument)
    done = canvass("enroll", "--server", cli_server.url, "--code", cli_server.enroll_code(), "--profile",
                   str(profile), "--device-name", "Tablet 7", pin=None, stdin=TEST_PIN + "\n")
    assert done.returncode == 0, done.stderr
    assert TEST_PIN not in done.stdout + done.stderr
    store = _open(profile)
    device_id = store.get_setting("device_id")
    saved = {e.entry_id for e in save_valid(store, 620)}
    store.close()

    status = canvass("status", "--profile", str(profile), "--json")
    assert status.returncode == 0 and json.loads(status.stdout)["pending"] == 620

    # Offline for weeks: export to a sealed file and import it at the office.
    bundle = workdir / "out" / "pending.cvb"
    exported = canvass("export-pending", "--profile", str(profile), "--out", str(bundle))
    assert exported.returncode == 0, exported.stderr
    assert b"Los Angeles" not in bundle.read_bytes()
    result = import_bundle(cli_server.settings, bundle)
    assert result.device_id == device_id and result.entries == 620 and result.batches == 2
    assert result.statuses["accepted"] == 620
    assert {r[0] for r in cli_server.entry_rows() if r[1] == device_id} == saved
    # importing twice stores nothing twice (the same batch ids: the first answer is replayed)
    again = subprocess.run([sys.executable, "-c", "import sys; from sync.server.cli import main; "
                            "sys.exit(main(sys.argv[1:]))", "import-bundle", "--db", cli_server.db_url,
                            str(bundle)], cwd=str(REPO_ROOT), capture_output=True, text=True, timeout=120,
                           env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert again.returncode == 0, again.stderr
    assert "620 entries" in again.stdout and "620 accepted" in again.stdout
    assert len([r for r in cli_server.entry_rows() if r[1] == device_id]) == 620

    # The device syncs later: the same entries, answered, no doubles.
    synced = canvass("sync", "--profile", str(profile))
    assert synced.returncode == 0, synced.stderr
    mine = [r[0] for r in cli_server.entry_rows() if r[1] == device_id]
    assert len(mine) == 620 and set(mine) == saved
    store = _open(profile)
    assert store.pending_count() == 0
    # The bundle import put each verdict in the device's outcomes feed: the device learns that
    # its signers counted, not just that the server already had them.
    assert {s.status for s in store.entries()} == {"accepted"}
    store.close()
    status = json.loads(canvass("status", "--profile", str(profile), "--json").stdout)
    assert status["state"] == "idle" and status["last_success"] and status["pending"] == 0


def test_cli_exit_codes(cli_server, workdir):
    profile = workdir / "p"
    assert canvass("enroll", "--server", cli_server.url, "--code", "WRONG-CODE", "--profile",
                   str(profile)).returncode == 6
    assert canvass("sync", "--profile", str(workdir / "missing")).returncode == 5
    assert canvass("enroll", "--server", cli_server.url, "--code", cli_server.enroll_code(), "--profile",
                   str(profile)).returncode == 0
    assert canvass("sync", "--profile", str(profile), pin="999999").returncode == 5  # wrong PIN
    store = _open(profile)
    save_valid(store, 2)
    store.set_setting("server_url", "http://127.0.0.1:9")
    store.close()
    offline = canvass("sync", "--profile", str(profile), "--attempts", "1")
    assert offline.returncode == 3 and "No connection - 2 signatures waiting" in offline.stderr


def test_bundle_from_another_device_token_is_refused(cli_server, workdir):
    from sync.bundle import seal_bundle
    from sync.errors import BundleError
    from sync.server.bundle_import import import_bundle

    store = new_device(workdir, cli_server)
    save_valid(store, 1)
    batch = store.next_batch().to_request()
    forged = workdir / "forged.cvb"
    forged.write_bytes(seal_bundle(batch.model_dump_json(), store.get_setting("server_public_key"),
                                   device_id=store.get_setting("device_id"), device_token="not-the-token"))
    with pytest.raises(BundleError):
        import_bundle(cli_server.settings, forged)
    assert not [r for r in cli_server.entry_rows() if r[1] == store.get_setting("device_id")]


def test_background_runner_syncs_and_stops(cli_server, workdir):
    store = new_device(workdir, cli_server)
    save_valid(store, 25)
    client = SyncClient(store)
    drained = threading.Event()
    client.status.subscribe(lambda s: drained.set() if s.state == SyncState.IDLE and s.pending == 0
                            and s.last_success else None)
    runner = BackgroundSync(client, interval=3600).start()
    try:
        assert drained.wait(60)
        assert store.pending_count() == 0 and runner.rounds >= 1
        drained.clear()
        save_valid(store, 3, start=25)
        runner.sync_now()  # wakes it long before the hour is up
        assert drained.wait(60) and store.pending_count() == 0
    finally:
        assert runner.stop(30) and not runner.running


def test_background_runner_goes_offline_and_skips_locked_store(cli_server, workdir):
    store = new_device(workdir, cli_server)
    save_valid(store, 14)
    store.set_setting("server_url", "http://127.0.0.1:9")
    client = SyncClient(store)
    offline = threading.Event()
    client.status.subscribe(lambda s: offline.set() if s.state == SyncState.OFFLINE else None)
    runner = BackgroundSync(client, interval=3600, offline_backoff=Backoff(base=0.01, cap=0.05)).start()
    try:
        assert offline.wait(60)
        assert client.status.last_error == "No connection - 14 signatures waiting"
        assert runner.rounds == 0  # the cheap reachability check kept it from a full round
    finally:
        assert runner.stop(30)
    assert store.pending_count() == 14
    locked_rounds = []
    store.lock()
    runner = BackgroundSync(client, interval=3600, is_unlocked=lambda: locked_rounds.append(1) or False)
    runner.start()
    runner.sync_now()
    assert runner.stop(30) and runner.rounds == 0
