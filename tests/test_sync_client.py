"""SyncClient against a real server over HTTP on 127.0.0.1 and real SQLite store files."""

from __future__ import annotations

import base64

import pytest
from fault_layer import ServerUnderTest, new_device, save_valid, valid_entry

from sync.client import SyncClient
from sync.errors import EnrollmentFailed
from sync.protocol import CampaignSettings, EntryStatus, ReasonCode
from sync.sync_status import SyncState


def no_sleep(_seconds: float) -> None:
    pass


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = ServerUnderTest(tmp_path_factory.mktemp("server")).start()
    yield srv
    srv.close()


def test_enroll_stores_settings_and_secrets(server, tmp_path):
    store = new_device(tmp_path, server)
    assert store.get_setting("server_url") == server.url
    assert store.get_setting("device_id")
    assert store.get_setting("circulator") == "Circulator One"
    campaign = CampaignSettings.model_validate(store.get_setting("campaign"))
    assert campaign.campaign_id == server.campaign_id
    assert len(base64.b64decode(store.get_setting("server_public_key"))) == 32
    assert store.get_setting("index_key_id") == 1
    assert store.get_secret("device_token")
    assert len(base64.b64decode(store.get_secret("registration_key"))) == 32
    assert store.get_secret("index_key") is None  # the campaign's index key never reaches a device
    # a secret is not readable once the store is locked
    store.lock()
    assert store.get_setting("device_id")
    store.close()


def test_enroll_with_a_used_code_is_refused(server, tmp_path):
    from canvass.store import DeviceStore, KdfParams
    from sync.enroll import enroll

    code = server.enroll_code()
    a = DeviceStore.create(tmp_path / "a.db", "246813", kdf=KdfParams(64, 1, 1))
    enroll(server.url, code, "a", a)
    b = DeviceStore.create(tmp_path / "b.db", "246813", kdf=KdfParams(64, 1, 1))
    with pytest.raises(EnrollmentFailed) as caught:
        enroll(server.url, code, "b", b)
    assert caught.value.status == 401 and b.get_setting("device_id") is None


def test_sync_pushes_everything_and_reports_progress(server, tmp_path):
    store = new_device(tmp_path, server)
    save_valid(store, 1_203)
    seen = []
    client = SyncClient(store, sleep=no_sleep)
    statuses = []
    client.status.subscribe(lambda s: statuses.append((s.state, s.progress)))
    report = client.sync_once(progress=lambda sent, total: seen.append((sent, total)))
    assert report.ok and report.batches_sent == 3 and report.entries_sent == 1_203
    assert seen == [(500, 1_203), (1_000, 1_203), (1_203, 1_203)]
    assert (SyncState.SYNCING, (0, 1_203)) in statuses and statuses[-1] == (SyncState.IDLE, None)
    assert store.pending_count() == 0 and client.status.pending == 0
    assert client.status.last_success is not None and client.status.last_error is None
    device_id = store.get_setting("device_id")
    mine = [r for r in server.entry_rows() if r[1] == device_id]
    assert len(mine) == 1_203 and {r[2] for r in mine} == set(range(1, 1_204))
    assert all(s.status != "pending" for s in store.entries())
    # a second round has nothing to send and still succeeds
    again = client.sync_once()
    assert again.ok and again.entries_sent == 0


def test_heartbeat_reaches_the_server(server, tmp_path):
    from sync.server.models import Device

    store = new_device(tmp_path, server)
    save_valid(store, 3)
    assert SyncClient(store, sleep=no_sleep).sync_once().ok
    with server.db.read() as s:
        row = s.get(Device, store.get_setting("device_id"))
        assert row.last_device_seq == 3 and row.pending_count == 0 and row.last_seen_at is not None


def test_a_rejected_entry_is_final_and_does_not_block_the_rest(server, tmp_path):
    store = new_device(tmp_path, server)
    store.open_section("R-1", "Circulator One")
    good1 = store.save_entry(valid_entry(9_001, section="R-1", line=1))
    bad = store.save_entry(valid_entry(9_002, section="R-1", line=2, zip="10001"))  # New York
    good2 = store.save_entry(valid_entry(9_003, section="R-1", line=3))
    report = SyncClient(store, sleep=no_sleep).sync_once()
    assert report.ok and report.results["rejected"] == 1
    assert store.get_entry(bad.entry_id).status == EntryStatus.REJECTED
    assert store.get_entry(bad.entry_id).reason_code == ReasonCode.ZIP_OUTSIDE_JURISDICTION
    assert store.get_entry(good1.entry_id).status == EntryStatus.ACCEPTED
    assert store.get_entry(good2.entry_id).status == EntryStatus.ACCEPTED
    assert store.pending_count() == 0


def test_duplicate_signer_across_devices_and_doorstep_filter(server, tmp_path):
    from sync.matching import PROBABLY
    from sync.server.doorstep_filter import set_scope

    with server.db.write() as s:
        set_scope(s, server.campaign_id, "campaign")
    a = new_device(tmp_path, server, name="a")
    b = new_device(tmp_path, server, name="b")
    a.open_section("D-1", "One")
    b.open_section("D-2", "Two")
    first = a.save_entry(valid_entry(77_777, section="D-1", line=1))
    assert SyncClient(a, sleep=no_sleep).sync_once().ok
    client_b = SyncClient(b, sleep=no_sleep)
    # b pulled nothing yet; after a sync its door-step filter holds a's signer
    assert client_b.sync_once().ok
    assert b.doorstep_filter().answer(first.personal()) == PROBABLY
    second = b.save_entry(valid_entry(77_777, section="D-2", line=1))
    report = client_b.sync_once()
    assert report.ok and store_status(b, second) == EntryStatus.DUPLICATE
    assert b.get_entry(second.entry_id).duplicate_of == first.entry_id


def store_status(store, entry):
    return store.get_entry(entry.entry_id).status


def test_whole_batch_refusal_is_an_error_without_loop(server, tmp_path):
    store = new_device(tmp_path, server)
    store.open_section("B-1", "One")
    for line in range(1, 501):  # ~1.2 MB on the wire: over the server's body cap
        store.save_entry(valid_entry(50_000 + line, section="B-1", line=line, notes="x" * 2_000))
    client = SyncClient(store, sleep=no_sleep, max_bytes=10_000_000)
    report = client.sync_once()
    assert not report.ok and report.state == SyncState.ERROR
    assert report.error_kind == "ProtocolError" and "HTTP 413" in report.error
    assert "500 signatures waiting" in report.error
    assert report.attempts >= 1 and report.batches_sent == 0
    assert store.pending_count() == 500 and client.status.state == SyncState.ERROR
    assert "xxxx" not in report.error and "Los Angeles" not in report.error
    # the next round ends the same way: no silent loop, nothing lost
    assert client.sync_once().error_kind == "ProtocolError" and store.pending_count() == 500


def test_revoked_device_needs_reenroll(server, tmp_path):
    store = new_device(tmp_path, server)
    save_valid(store, 2)
    server.revoke(store.get_setting("device_id"))
    client = SyncClient(store, sleep=no_sleep)
    report = client.sync_once()
    assert report.state == SyncState.NEEDS_REENROLL and client.status.state == SyncState.NEEDS_REENROLL
    assert report.attempts == 1 and store.pending_count() == 2
    assert "2 signatures waiting" in client.status.last_error
    # stays stopped without touching the network until enrolled again
    again = client.sync_once()
    assert again.state == SyncState.NEEDS_REENROLL and again.attempts == 0
    from sync.enroll import enroll

    enroll(server.url, server.enroll_code(), "again", store)
    final = client.sync_once()
    assert final.ok and store.pending_count() == 0


def test_status_survives_a_restart(server, tmp_path):
    from canvass.store import DeviceStore

    store = new_device(tmp_path, server, name="persist")
    save_valid(store, 1)
    assert SyncClient(store, sleep=no_sleep).sync_once().ok
    store.close()
    reopened = DeviceStore.open(tmp_path / "persist.db")
    reopened.unlock("246813")
    status = SyncClient(reopened).status
    assert status.state == SyncState.IDLE and status.last_success is not None


def test_locked_store_reports_unlock_needed(server, tmp_path):
    store = new_device(tmp_path, server)
    save_valid(store, 1)
    store.lock()
    report = SyncClient(store, sleep=no_sleep).sync_once()
    assert not report.ok and report.error_kind == "StoreLocked" and report.attempts == 0
    assert "Unlock" in report.error


def test_unreachable_server_is_offline_with_plain_words(tmp_path, server):
    store = new_device(tmp_path, server)
    save_valid(store, 14)
    store.set_setting("server_url", "http://127.0.0.1:9")  # discard port: refused
    slept = []
    client = SyncClient(store, sleep=slept.append, max_attempts=4)
    report = client.sync_once()
    assert report.state == SyncState.OFFLINE and report.attempts == 4 and len(slept) == 3
    assert client.status.last_error == "No connection - 14 signatures waiting"
    assert store.pending_count() == 14
    assert not client.check_reachable()
