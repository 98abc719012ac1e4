"""Faults in the real request path (tests/fault_layer.py) between a real store and a real server.

Each fault kind gets a focused test; then 5 devices x 2,000 entries through random drops; then
a device clock off by +/- 2 days.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from fault_layer import (
    Fault,
    FaultAdapter,
    fast_dir,
    faulty_session,
    is_batch_post,
    new_device,
    save_valid,
    valid_entry,
)

from sync.client import SyncClient
from sync.domain import utcnow
from sync.protocol import FINAL_STATUSES, EntryStatus
from sync.sync_status import SyncState


@pytest.fixture(scope="module")
def server(cli_server):
    """The module's server: conftest's (a fault_layer.ServerUnderTest on a fast directory)."""
    return cli_server


@pytest.fixture
def tmp_path():
    with fast_dir("canvass-device-") as workdir:
        yield workdir


def device_rows(server, store):
    device_id = store.get_setting("device_id")
    return [r for r in server.entry_rows() if r[1] == device_id]


# (fault, did the server process the batch?, state after one attempt)
FAULTS = [
    (Fault.DROP_REQUEST, False, SyncState.OFFLINE),
    (Fault.CONNECT_TIMEOUT, False, SyncState.OFFLINE),
    (Fault.CUT_REQUEST, False, SyncState.OFFLINE),
    (Fault.DROP_RESPONSE, True, SyncState.OFFLINE),
    (Fault.READ_TIMEOUT, True, SyncState.OFFLINE),
    (Fault.CUT_BODY, True, SyncState.OFFLINE),
    (Fault.HTTP_502_AFTER, True, SyncState.ERROR),
    (Fault.HTTP_500, False, SyncState.ERROR),
    (Fault.HTTP_503, False, SyncState.ERROR),
    (Fault.HTTP_429, False, SyncState.OFFLINE),
]


@pytest.mark.parametrize("fault, server_processed, state", FAULTS, ids=[f[0].value for f in FAULTS])
def test_one_fault_then_recovery(server, tmp_path, fault, server_processed, state):
    adapter = FaultAdapter(plan=[fault], match=is_batch_post)
    store = new_device(tmp_path, server, session=faulty_session(adapter))
    saved = save_valid(store, 5)
    client = SyncClient(store, session=faulty_session(adapter), sleep=lambda s: None, max_attempts=1)

    first = client.sync_once()
    assert not first.ok and first.state == state and client.status.state == state
    assert adapter.counts[fault.value] == 1
    # Only a server answer takes entries out of the outbox, whatever the server did.
    assert store.pending_count() == 5
    assert len(device_rows(server, store)) == (5 if server_processed else 0)
    assert "5 signatures waiting" in client.status.last_error

    second = client.sync_once()
    assert second.ok and store.pending_count() == 0
    rows = device_rows(server, store)
    assert sorted(r[0] for r in rows) == sorted(e.entry_id for e in saved)  # exactly once each
    # A replayed batch gets the first answer: accepted, not "already received" nor a duplicate.
    assert {store.get_entry(e.entry_id).status for e in saved} == {EntryStatus.ACCEPTED}


@pytest.mark.parametrize("fault", [Fault.HTTP_429, Fault.HTTP_503])
def test_retry_after_is_honoured_within_one_round(server, tmp_path, fault):
    adapter = FaultAdapter(plan=[fault, fault], retry_after=11, match=is_batch_post)
    store = new_device(tmp_path, server)
    save_valid(store, 3)
    slept: list[float] = []
    client = SyncClient(store, session=faulty_session(adapter), sleep=slept.append, max_attempts=5)
    report = client.sync_once()
    assert report.ok and store.pending_count() == 0 and len(device_rows(server, store)) == 3
    assert len(slept) == 2 and all(s >= 11 for s in slept)


def test_retries_are_bounded_and_entries_stay_queued(server, tmp_path):
    adapter = FaultAdapter(plan=[Fault.HTTP_503] * 4, retry_after=2, match=is_batch_post)
    store = new_device(tmp_path, server)
    save_valid(store, 14)
    slept: list[float] = []
    client = SyncClient(store, session=faulty_session(adapter), sleep=slept.append, max_attempts=4)
    report = client.sync_once()
    assert report.state == SyncState.ERROR and report.error_kind == "ServerUnavailable"
    assert adapter.counts["http_503"] == 4 and len(slept) == 3
    assert store.pending_count() == 14 and len(device_rows(server, store)) == 0
    assert report.error == ("The server is not answering right now - 14 signatures waiting. "
                            "Will try again.")
    assert client.sync_once().ok and len(device_rows(server, store)) == 14


def test_same_batch_id_and_bytes_on_every_retry(server, tmp_path):
    bodies: list[tuple[str, bytes]] = []

    class Recorder(FaultAdapter):
        def send(self, request, **kwargs):
            if is_batch_post(request):
                bodies.append((request.headers["Idempotency-Key"], request.body))
            return super().send(request, **kwargs)

    adapter = Recorder(plan=[Fault.DROP_RESPONSE, Fault.CUT_BODY, Fault.HTTP_500], match=is_batch_post)
    store = new_device(tmp_path, server)
    save_valid(store, 7)
    client = SyncClient(store, session=faulty_session(adapter), sleep=lambda s: None, max_attempts=2)
    assert not client.sync_once().ok
    assert client.sync_once().ok
    assert len(bodies) == 4 and len(set(bodies)) == 1
    assert all(body.startswith(b"{") and b"Authorization" not in body for _, body in bodies)
    assert len(device_rows(server, store)) == 7


def test_faults_on_feeds_and_heartbeat_are_retried(server, tmp_path):
    adapter = FaultAdapter(plan=[Fault.DROP_RESPONSE] * 3 + [Fault.CUT_BODY] * 2,
                           match=lambda r: not is_batch_post(r))
    store = new_device(tmp_path, server)
    save_valid(store, 2)
    client = SyncClient(store, session=faulty_session(adapter), sleep=lambda s: None, max_attempts=6)
    report = client.sync_once()
    assert report.ok and sum(adapter.counts[k] for k in ("drop_response", "cut_body")) == 5


def test_five_devices_two_thousand_entries_through_drops(server, tmp_path):
    devices = []
    for i in range(5):
        adapter = FaultAdapter(seed=1_000 + i, drop_request_rate=0.2, drop_response_rate=0.2)
        store = new_device(tmp_path, server, name=f"dev{i}")
        client = SyncClient(store, session=faulty_session(adapter), sleep=lambda s: None, max_attempts=5)
        devices.append((store, client, adapter, []))
    before = server.entry_count()

    def capture(store, saved):
        saved.extend(save_valid(store, 2_000))

    threads = [threading.Thread(target=capture, args=(store, saved)) for store, _, _, saved in devices]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    def drain(store, client):
        for _ in range(40):  # bounded: each round is bounded too
            report = client.sync_once()
            if report.ok and store.pending_count() == 0:
                return
        raise AssertionError("device did not drain")

    errors: list[BaseException] = []

    def guarded(store, client):
        try:
            drain(store, client)
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(store, client)) for store, client, _, _ in devices]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors

    saved_ids = {e.entry_id for _, _, _, saved in devices for e in saved}
    assert len(saved_ids) == 10_000
    rows = server.entry_rows()
    assert server.entry_count() - before == 10_000
    ours = [r for r in rows if r[0] in saved_ids]
    assert len(ours) == 10_000 and {r[0] for r in ours} == saved_ids  # none lost, none twice
    assert len({(r[1], r[2]) for r in ours}) == 10_000
    # Both kinds of drop happened (a device that drains in eight requests, now that the index
    # comes as one filter instead of pages, may see only one kind with its seed).
    drops = {kind: sum(adapter.counts[kind] for _, _, adapter, _ in devices)
             for kind in ("drop_request", "drop_response")}
    assert drops["drop_request"] >= 5 and drops["drop_response"] >= 5, drops
    for store, _, adapter, _ in devices:
        assert store.pending_count() == 0
        assert sum(adapter.counts[k] for k in drops) > 0, adapter.counts
        statuses = {s.status for s in store.entries()}
        assert statuses <= {s.value for s in FINAL_STATUSES}
        # the clean, distinct signers were all accepted; replays never turned into duplicates
        assert EntryStatus.DUPLICATE.value not in statuses


def test_device_clock_two_days_off_changes_neither_order_nor_dedup(server, tmp_path):
    ahead = new_device(tmp_path, server, name="ahead")
    behind = new_device(tmp_path, server, name="behind")
    ahead.open_section("K-1", "One")
    behind.open_section("K-2", "Two")
    plus, minus = utcnow() + timedelta(days=2), utcnow() - timedelta(days=2)

    # Signer X: first on the fast clock; signer Y: first on the slow clock.
    x_first = ahead.save_entry(valid_entry(31_337, section="K-1", line=1, captured_at=plus))
    y_first = behind.save_entry(valid_entry(42_424, section="K-2", line=1, captured_at=minus))
    assert SyncClient(ahead).sync_once().ok and SyncClient(behind).sync_once().ok
    x_again = behind.save_entry(valid_entry(31_337, section="K-2", line=2, captured_at=minus))
    y_again = ahead.save_entry(valid_entry(42_424, section="K-1", line=2, captured_at=plus))
    # The clock jumps back mid-queue: later saves carry earlier times.
    later = [ahead.save_entry(valid_entry(60_000 + i, section="K-1", line=3 + i,
                                          captured_at=plus - timedelta(days=4, minutes=i)))
             for i in range(3)]
    assert SyncClient(behind).sync_once().ok and SyncClient(ahead).sync_once().ok

    # Duplicate detection follows arrival at the server, not the device clocks.
    assert behind.get_entry(x_again.entry_id).status == EntryStatus.DUPLICATE
    assert behind.get_entry(x_again.entry_id).duplicate_of == x_first.entry_id
    assert ahead.get_entry(y_again.entry_id).status == EntryStatus.DUPLICATE
    assert ahead.get_entry(y_again.entry_id).duplicate_of == y_first.entry_id
    # Order is the device sequence, whatever the timestamps say.
    seqs = {r[0]: r[2] for r in device_rows(server, ahead)}
    ordered = [x_first, y_again, *later]
    assert [seqs[e.entry_id] for e in ordered] == [1, 2, 3, 4, 5]
    assert all(ahead.get_entry(e.entry_id).status == EntryStatus.ACCEPTED for e in later)
