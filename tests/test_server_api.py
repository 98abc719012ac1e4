"""The HTTP API end to end over a real uvicorn server, on SQLite and on PostgreSQL:
enroll, batch, outcomes, dedup index, heartbeat, login, healthz, OpenAPI."""

from __future__ import annotations

import base64

import httpx
from server_helpers import batch_body, device_headers, signer
from sqlalchemy import select

from sync.keyfilter import KeyFilter
from sync.matching import doorstep_keys, doorstep_subkey
from sync.protocol import (
    BatchResponse,
    DoorstepFilterResponse,
    EntryStatus,
    HeartbeatResponse,
    LoginResponse,
    OutcomesResponse,
    Problem,
)
from sync.server.models import Device


def test_healthz_and_openapi(live_server):
    assert httpx.get(f"{live_server.url}/healthz").json() == {"status": "ok"}
    spec = httpx.get(f"{live_server.url}/openapi.json").json()
    for path in ("/v1/devices/enroll", "/v1/entries/batch", "/v1/outcomes", "/v1/dedup-index",
                 "/v1/devices/heartbeat", "/v1/auth/login"):
        assert path in spec["paths"]
    assert "BatchRequest" in spec["components"]["schemas"]


def test_enroll_returns_settings_and_keys_and_code_works_once(live_server):
    cid = live_server.create_campaign(name="Measure X", goal=1000, deadline="2022-07-06")
    code = live_server.enroll_code(cid, "Ann Circulator")
    r = httpx.post(f"{live_server.url}/v1/devices/enroll", json={"code": code.lower(), "device_name": "p1"})
    assert r.status_code == 200
    body = r.json()
    assert body["campaign"]["campaign_id"] == cid and body["campaign"]["goal"] == 1000
    assert body["circulator"] == "Ann Circulator"
    assert len(base64.b64decode(body["registration_key"])) == 32 and "index_key" not in body
    assert len(base64.b64decode(body["server_public_key"])) == 32
    with live_server.db.read() as s:
        device = s.get(Device, body["device_id"])
        assert device.token_hash != body["device_token"] and len(device.token_hash) == 64
    again = httpx.post(f"{live_server.url}/v1/devices/enroll", json={"code": code, "device_name": "p2"})
    assert again.status_code == 401
    assert Problem.model_validate(again.json()).code == "invalid_enroll_code"
    assert again.headers["content-type"].startswith("application/problem+json")


def test_expired_code_is_refused(live_server):
    cid = live_server.create_campaign()
    code = live_server.enroll_code(cid, "Ann", ttl_hours=1e-9)
    r = httpx.post(f"{live_server.url}/v1/devices/enroll", json={"code": code, "device_name": "p"})
    assert r.status_code == 401


def test_batch_dedup_index_outcomes_heartbeat(live_server):
    cid = live_server.create_campaign()
    dev = live_server.enroll_device(cid)
    index_key = live_server.index_key(cid)
    first = signer("Robert", "Quimby", "4410 West Sunset Boulevard", zip="90027")
    repeat = signer("Bob", "Quimby", "4410 W Sunset Blvd", zip="90027")
    outside = signer("Ana", "Perez", "10 Main Street", city="New York", zip="10001")
    body = batch_body([first, repeat, outside])
    r = httpx.post(f"{live_server.url}/v1/entries/batch", json=body,
                   headers=device_headers(dev.device_token, body))
    assert r.status_code == 200
    resp = BatchResponse.model_validate(r.json())
    assert [x.entry_id for x in resp.results] == [first.entry_id, repeat.entry_id, outside.entry_id]
    assert [x.status for x in resp.results] == [EntryStatus.ACCEPTED, EntryStatus.DUPLICATE,
                                                EntryStatus.REJECTED]
    assert resp.results[1].duplicate_of == first.entry_id
    assert resp.results[2].reason_code == 103 and resp.results[2].field == "zip"
    assert resp.results[2].reason == "The ZIP code is outside the campaign's jurisdiction."

    auth = device_headers(dev.device_token)
    idx = DoorstepFilterResponse.model_validate(
        httpx.get(f"{live_server.url}/v1/doorstep-filter", headers=auth).json())
    dkey = base64.b64decode(idx.doorstep_key)
    assert dkey == doorstep_subkey(index_key) and idx.signers == 1  # the repeat is not counted
    held = KeyFilter.from_bytes(base64.b64decode(idx.filter))
    assert len(held) == len(doorstep_keys(dkey, first.personal()))
    assert all(k in held for k in doorstep_keys(dkey, first.personal()))
    later = httpx.get(f"{live_server.url}/v1/doorstep-filter", params={"tag": idx.tag}, headers=auth)
    assert later.json()["unchanged"] is True and later.json()["filter"] is None
    # The filter holds no plaintext, and no registration key is sent again (no rotation).
    assert "quimby" not in later.text.lower() and b"quimby" not in base64.b64decode(idx.filter).lower()
    assert idx.registration_key is None and later.json()["registration_key"] is None

    out = OutcomesResponse.model_validate(httpx.get(f"{live_server.url}/v1/outcomes", headers=auth).json())
    assert out.outcomes == [] and out.cursor == 0

    hb = httpx.post(f"{live_server.url}/v1/devices/heartbeat", headers=auth,
                    json={"pending_count": 4, "last_device_seq": 17, "app_version": "0.1.0"})
    assert hb.status_code == 200 and HeartbeatResponse.model_validate(hb.json()).revoked is False
    with live_server.db.read() as s:
        device = s.scalar(select(Device).where(Device.id == dev.device_id))
        assert (device.pending_count, device.last_device_seq, device.app_version) == (4, 17, "0.1.0")
        assert device.last_seen_at is not None


def test_login(live_server):
    cid = live_server.create_campaign()
    live_server.add_user("intake-api", "correct horse battery", role="intake", campaign_id=cid)
    r = httpx.post(f"{live_server.url}/v1/auth/login",
                   json={"username": "intake-api", "password": "correct horse battery"})
    assert r.status_code == 200
    login = LoginResponse.model_validate(r.json())
    assert login.role == "intake" and len(login.token) >= 40
    bad = httpx.post(f"{live_server.url}/v1/auth/login",
                     json={"username": "intake-api", "password": "wrong"})
    assert bad.status_code == 401 and bad.json()["code"] == "invalid_credentials"
    unknown = httpx.post(f"{live_server.url}/v1/auth/login", json={"username": "nobody", "password": "x"})
    assert unknown.status_code == 401 and unknown.json() == bad.json()
    queue = httpx.get(f"{live_server.url}/v1/review/queue",
                      headers={"Authorization": f"Bearer {login.token}"})
    assert queue.status_code == 200 and queue.json() == {"items": []}
