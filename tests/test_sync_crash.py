"""Processes killed with SIGKILL in the middle of a sync: the device's sync process (at chosen
points: before send, after send, after results are applied, after outcomes) and the server.
Every entry the app reported saved arrives exactly once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest
from fault_layer import REPO_ROOT, TEST_PIN, ServerUnderTest, fast_dir, new_device, save_valid

from sync.client import SyncClient

pytestmark = pytest.mark.slow  # minutes on a busy 2-core machine (conftest: longer timeout)

# The sync process: what `canvass sync` does, with small batches so a round has several, and
# the kill point given on its command line (tests/crash_sync.py, through SyncClient.checkpoint).
SYNC_PROCESS = [sys.executable, str(REPO_ROOT / "tests" / "crash_sync.py")]


@pytest.fixture
def workdir():
    with fast_dir() as path:
        yield path


def _reopen(path):
    from canvass.store import DeviceStore

    store = DeviceStore.open(path)
    store.unlock(TEST_PIN)
    return store


def _device_ids(server, device_id):
    return [r[0] for r in server.entry_rows() if r[1] == device_id]


def test_sync_process_killed_at_random_points(workdir):
    server = ServerUnderTest(workdir / "server").start()
    try:
        store = new_device(workdir, server, name="store")
        device_id = store.get_setting("device_id")
        path = store.path
        store.close()
        rng = random.Random(20_240)
        saved: list[str] = []
        killed = 0
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        for _ in range(20):
            store = _reopen(path)
            saved += [e.entry_id for e in save_valid(store, rng.randint(1, 60), start=len(saved))]
            store.close()
            point = rng.choice(["before_send", "after_send", "after_apply", "after_outcomes"])
            nth = rng.randint(1, 3)
            proc = subprocess.run([*SYNC_PROCESS, str(path), TEST_PIN, "20", point, str(nth)],
                                  env=env, cwd=str(REPO_ROOT), capture_output=True, timeout=120)
            assert proc.returncode in (0, -signal.SIGKILL), proc.stderr.decode()[-2000:]
            killed += proc.returncode == -signal.SIGKILL
            on_server = _device_ids(server, device_id)
            assert len(on_server) == len(set(on_server)) and set(on_server) <= set(saved)
        assert killed >= 10  # the kill points were really reached
        proc = subprocess.run([*SYNC_PROCESS, str(path), TEST_PIN, "20"],
                              env=env, cwd=str(REPO_ROOT), capture_output=True, timeout=120)
        assert proc.returncode == 0, proc.stderr.decode()[-2000:]
        on_server = _device_ids(server, device_id)
        assert sorted(on_server) == sorted(saved)  # every saved entry exactly once
        store = _reopen(path)
        assert store.pending_count() == 0
        assert all(s.status != "pending" for s in store.entries())
        store.close()
    finally:
        server.close()


def test_server_killed_mid_batch_and_restarted(workdir):
    server = ServerUnderTest(workdir / "server").start_process()
    try:
        store = new_device(workdir, server)
        device_id = store.get_setting("device_id")
        saved: list[str] = []
        for _ in range(3):
            saved += [e.entry_id for e in save_valid(store, 300, start=len(saved))]
            client = SyncClient(store, sleep=lambda s: None, max_attempts=3, timeout=(2.0, 30.0))
            before = len(_device_ids(server, device_id))
            worker = threading.Thread(target=client.sync_once)
            worker.start()
            # Kill as soon as the server has stored part of the new entries (or the round ended).
            while worker.is_alive() and len(_device_ids(server, device_id)) == before:
                time.sleep(0.005)
            server.kill()
            worker.join(120)
            assert not worker.is_alive()
            on_server = _device_ids(server, device_id)
            assert len(on_server) == len(set(on_server)) and set(on_server) <= set(saved)
            server.start_process()
            for _ in range(5):
                if client.sync_once().ok:
                    break
            assert store.pending_count() == 0
            assert sorted(_device_ids(server, device_id)) == sorted(saved)
    finally:
        server.close()
