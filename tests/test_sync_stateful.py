"""A hypothesis state machine of the sync model against a real server (uvicorn thread, SQLite).

Rules: capture entries, sync, sync through a dropped request or a dropped response, crash the
client (the store is closed without finishing and reopened), crash the server (restart), pull
outcomes. Invariants: the server never holds an entry twice and only entries the device
saved; once faults stop and a sync completes, the server holds exactly the saved set.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from fault_layer import (
    TEST_PIN,
    Fault,
    FaultAdapter,
    ServerUnderTest,
    fast_dir,
    faulty_session,
    is_batch_post,
    new_device,
    save_valid,
)
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from sync.client import SyncClient, SyncReport

pytestmark = pytest.mark.slow  # minutes on a busy 2-core machine (conftest: longer timeout)

_server: ServerUnderTest | None = None


@pytest.fixture(scope="module", autouse=True)
def shared_server():
    global _server
    with fast_dir("canvass-stateful-") as workdir:
        _server = ServerUnderTest(workdir).start()
        yield _server
        _server.close()
        _server = None


class SyncModel(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        self.dir = Path(tempfile.mkdtemp(prefix="canvass-sm-", dir=_server.workdir))
        self.adapter = FaultAdapter(match=is_batch_post)
        self.store = new_device(self.dir, _server)
        self.path = self.store.path
        self.device_id = self.store.get_setting("device_id")
        self.saved: set[str] = set()
        self.client = self._client()

    def _client(self) -> SyncClient:
        return SyncClient(self.store, session=faulty_session(self.adapter), sleep=lambda s: None,
                          max_attempts=1, max_entries=4)

    def _on_server(self) -> list[str]:
        return [r[0] for r in _server.entry_rows() if r[1] == self.device_id]

    @rule(count=st.integers(1, 6))
    def capture(self, count):
        self.saved |= {e.entry_id for e in save_valid(self.store, count, start=len(self.saved))}

    @rule()
    def sync(self):
        self.client.sync_once()

    @rule()
    def sync_dropping_request(self):
        self.adapter.add(Fault.DROP_REQUEST)
        self.client.sync_once()
        self.adapter.plan.clear()

    @rule()
    def sync_dropping_response(self):
        self.adapter.add(Fault.DROP_RESPONSE)
        self.client.sync_once()
        self.adapter.plan.clear()

    @rule()
    def crash_client(self):
        # The response is lost and the process dies before applying anything: reopen the store.
        self.adapter.add(Fault.DROP_RESPONSE)
        self.client.sync_once()
        self.adapter.plan.clear()
        self.store.close()
        from canvass.store import DeviceStore

        self.store = DeviceStore.open(self.path)
        self.store.unlock(TEST_PIN)
        self.client = self._client()

    @rule()
    def crash_server(self):
        _server.restart()

    @rule()
    def pull_outcomes(self):
        self.client._pull_outcomes(self.store.get_secret("device_token"), SyncReport())

    @invariant()
    def server_holds_each_saved_entry_at_most_once(self):
        if not hasattr(self, "store"):
            return
        on_server = self._on_server()
        assert len(on_server) == len(set(on_server))
        assert set(on_server) <= self.saved
        # the outbox holds exactly what the server has not answered
        assert self.store.pending_count() <= len(self.saved)

    def teardown(self):
        if not hasattr(self, "store"):
            return
        try:
            self.adapter.stop_faults()
            for _ in range(10):
                if self.client.sync_once().ok and self.store.pending_count() == 0:
                    break
            assert self.store.pending_count() == 0
            assert sorted(self._on_server()) == sorted(self.saved)
        finally:
            self.store.close()
            shutil.rmtree(self.dir, ignore_errors=True)


SyncModel.TestCase.settings = settings(max_examples=12, stateful_step_count=10, deadline=None,
                                       suppress_health_check=list(HealthCheck))
test_sync_state_machine = SyncModel.TestCase
