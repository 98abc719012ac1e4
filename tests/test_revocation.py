"""Revoking a device stops its sync at once: the next request gets 401 and the device's
client goes to needs_reenroll, keeping its unsent entries."""

from __future__ import annotations

import httpx
from server_helpers import batch_body, device_headers, running_server, signer

from canvass.store import DeviceStore, KdfParams
from sync.client import SETTING_NEEDS_REENROLL, SyncClient
from sync.domain import SignerEntry
from sync.enroll import enroll
from sync.sync_status import SyncState


def test_revoked_device_gets_401_on_its_very_next_batch(db_url):
    with running_server(db_url) as server:
        cid = server.create_campaign()
        dev = server.enroll_device(cid)
        url, headers = f"{server.url}/v1/entries/batch", device_headers(dev.device_token)
        first = batch_body([signer("Revokefirst", "Revokelast")])
        r = httpx.post(url, json=first, headers={**headers, "Idempotency-Key": first["batch_id"]})
        assert r.status_code == 200
        server.revoke_device(dev.device_id)
        later = batch_body([signer("Revokeafter", "Revokelater")])
        r = httpx.post(url, json=later, headers={**headers, "Idempotency-Key": later["batch_id"]})
        assert r.status_code == 401 and r.json() == {
            "type": "about:blank", "title": "Unauthorized", "status": 401,
            "detail": "A valid bearer token is required.", "code": "unauthorized"}
        assert r.headers["www-authenticate"] == "Bearer"
        # Even a replay of the batch answered before the revocation is refused now.
        r = httpx.post(url, json=first, headers={**headers, "Idempotency-Key": first["batch_id"]})
        assert r.status_code == 401
        for path in ("/v1/outcomes", "/v1/dedup-index"):
            assert httpx.get(f"{server.url}{path}", headers=headers).status_code == 401


def test_client_stops_and_needs_reenroll_after_revocation(tmp_path):
    with running_server(f"sqlite:///{tmp_path / 'server.db'}") as server:
        cid = server.create_campaign()
        store = DeviceStore.create(tmp_path / "d.db", "246813", kdf=KdfParams(64, 1, 1))
        answer = enroll(server.url, server.enroll_code(cid), "tablet", store)
        store.open_section("RV-1", "Test Circulator")

        def save(first: str, last: str) -> None:
            store.save_entry(SignerEntry(section="RV-1", line=store.next_line("RV-1"), first_name=first,
                                         last_name=last, street="5 Revoke Road", city="Los Angeles",
                                         zip="90012"))

        save("Beforerevoke", "Tablet")
        client = SyncClient(store, sleep=lambda _s: None)
        assert client.sync_once().ok and store.pending_count() == 0
        server.revoke_device(answer.device_id)
        save("Afterrevoke", "Tablet")
        report = client.sync_once()
        assert (report.ok, report.state, report.error_kind) == (
            False, SyncState.NEEDS_REENROLL, "AuthRevoked")
        assert report.attempts == 1 and report.batches_sent == 0  # a 401 is never retried
        assert client.status.state == SyncState.NEEDS_REENROLL
        assert store.get_setting(SETTING_NEEDS_REENROLL) is True
        assert store.pending_count() == 1  # nothing is lost: it waits for a new enrollment
        # Later rounds do not even call the server.
        again = client.sync_once()
        assert again.state == SyncState.NEEDS_REENROLL and again.attempts == 0
        # A new code re-enrolls the same store; the waiting entry then goes out.
        enroll(server.url, server.enroll_code(cid), "tablet", store)
        final = client.sync_once()
        assert final.ok and dict(final.results) == {"accepted": 1} and store.pending_count() == 0
