"""Hostile input the other bad-input tests (test_server_bad_input.py, test_server_authz.py) do
not cover: deep JSON and undecodable bodies on every POST route, oversized bodies on the small
routes, SQL and script injection in every entry field, replayed and expired enrollment codes,
malformed tokens, and a device writing for another device or campaign. Each case has its exact
expected answer; refused requests store nothing."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fault_layer import pronounceable
from server_helpers import batch_body, device_headers, running_server, signer
from sqlalchemy import func, select, update

from sync.domain import utcnow
from sync.ids import new_uuid7
from sync.protocol import MAX_BATCH_BYTES
from sync.server import rotation
from sync.server.dedup import decrypt_fields
from sync.server.models import AuditLog, BatchRecord, Device, EnrollCode, Entry, StaffSession
from sync.server.tokens import new_token
from sync.validation import FIELD_LIMITS

POSTS = ["/v1/entries/batch", "/v1/devices/enroll", "/v1/auth/login", "/v1/devices/heartbeat"]
INJECTIONS = ["Robert'); DROP TABLE entries;--", "<script>alert(1)</script>",
              "1 OR 1=1; SELECT * FROM users"]
# field -> (status, reason_code) for each of INJECTIONS, as the validator decides.
EXPECTED = {
    "first_name": [("rejected", 106)] * 3,
    "middle_name": [("rejected", 106)] * 3,
    "last_name": [("rejected", 106)] * 3,
    "suffix": [("rejected", 104)] * 3,
    "street": [("rejected", 111), ("rejected", 111), ("accepted", None)],
    "unit": [("rejected", 104)] * 3,
    "city": [("rejected", 111)] * 3,
    "zip": [("rejected", 104)] * 3,
    "phone": [("rejected", 104)] * 3,
    "email": [("rejected", 109)] * 3,
    "notes": [("accepted", None)] * 3,
    "section": [("rejected", 108)] * 3,
}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    db = tmp_path_factory.mktemp("hostile") / "server.db"
    with running_server(f"sqlite:///{db}") as server:
        cid = server.create_campaign()
        yield server, cid, server.enroll_device(cid).device_token


def _counts(server) -> tuple[int, int, int]:
    with server.db.read() as s:
        return (s.scalar(select(func.count()).select_from(Entry)),
                s.scalar(select(func.count()).select_from(BatchRecord)),
                s.scalar(select(func.count()).select_from(Device)))


def _problem(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text[:300]
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == status and r.json()["code"] == code


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize("shape", ["arrays", "objects"])
def test_deeply_nested_json_is_400_everywhere(env, path, shape):
    server, _cid, token = env
    depth = 100_000
    body = b"[" * depth + b"]" * depth if shape == "arrays" else b'{"a":' * depth + b"1" + b"}" * depth
    before = _counts(server)
    r = httpx.post(f"{server.url}{path}", content=body, timeout=60,
                   headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                            "Idempotency-Key": "deep"})
    _problem(r, 400, "malformed_json")
    assert _counts(server) == before


@pytest.mark.parametrize("path", POSTS[1:])  # the batch route has its own case already
def test_invalid_utf8_is_400(env, path):
    server, _cid, token = env
    r = httpx.post(f"{server.url}{path}", content=b'{"code": "\xff\xfe\xfa", "device_name": "\xc3\x28"}',
                   headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    _problem(r, 400, "malformed_json")


@pytest.mark.parametrize("path", POSTS[1:])
def test_oversized_bodies_on_small_routes_are_413(env, path):
    server, _cid, token = env
    before = _counts(server)
    body = b'{"code": "' + b"A" * (MAX_BATCH_BYTES + 100_000) + b'", "device_name": "x"}'
    r = httpx.post(f"{server.url}{path}", content=body, timeout=60,
                   headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    _problem(r, 413, "body_too_large")
    assert _counts(server) == before


@pytest.mark.parametrize("field", sorted(EXPECTED))
def test_injection_strings_in_every_field(env, field):
    server, _cid, token = env
    wires, seed = [], sum(map(ord, field)) * 101
    for i, payload in enumerate(INJECTIONS):
        entry = signer(pronounceable(seed + i * 7, 4), pronounceable(seed + i * 13 + 3, 5),
                       f"{400 + seed % 500 + i} Hostile Avenue")
        wire = entry.to_wire().model_dump(mode="json")
        wire[field] = payload
        wires.append(wire)
    body = {"protocol_version": 1, "batch_id": new_uuid7(), "entries": wires}
    r = httpx.post(f"{server.url}/v1/entries/batch", json=body, headers=device_headers(token, body))
    assert r.status_code == 200
    results = r.json()["results"]
    assert [(x["status"], x["reason_code"]) for x in results] == EXPECTED[field]
    for result, (status, _code) in zip(results, EXPECTED[field], strict=True):
        assert result["field"] == (field if status == "rejected" else None)
    for payload in INJECTIONS:  # never echoed
        assert payload not in r.text
    # Stored as data, byte for byte (parameters, never SQL), and the tables are all there; an
    # invalid section serial is refused before anything is stored, and a rejected entry keeps
    # a field no longer than the accepted maximum (issue 16).
    cipher = rotation.data_cipher(server.db, server.keys)
    with server.db.read() as s:
        for wire, (status, _code) in zip(wires, EXPECTED[field], strict=True):
            row = s.get(Entry, wire["entry_id"])
            if field == "section":
                assert row is None
                continue
            kept = wire[field][:FIELD_LIMITS[field]] if status == "rejected" else wire[field]
            assert decrypt_fields(cipher, row)[field] == kept
        assert s.scalar(select(func.count()).select_from(Entry)) >= 3


def test_replayed_and_expired_enrollment_codes(env):
    server, cid, _token = env
    code = server.enroll_code(cid, "Replay Circulator")
    first = httpx.post(f"{server.url}/v1/devices/enroll", json={"code": code, "device_name": "one"})
    assert first.status_code == 200
    before = _counts(server)
    for variant in (code, code.lower(), f"{code[:5]}-{code[5:]}", f" {code} "):
        r = httpx.post(f"{server.url}/v1/devices/enroll", json={"code": variant, "device_name": "two"})
        _problem(r, 401, "invalid_enroll_code")
        assert r.json()["detail"] == "The enrollment code is unknown, used or expired."
    assert _counts(server) == before
    expired = server.enroll_code(cid, "Late Circulator")
    with server.db.write() as s:
        s.execute(update(EnrollCode).where(EnrollCode.used_at.is_(None))
                  .values(expires_at=utcnow() - timedelta(seconds=1)))
    r = httpx.post(f"{server.url}/v1/devices/enroll", json={"code": expired, "device_name": "late"})
    _problem(r, 401, "invalid_enroll_code")
    assert _counts(server) == before
    with server.db.read() as s:
        failures = s.scalar(select(func.count()).select_from(AuditLog)
                            .where(AuditLog.action == "device.enroll_failed"))
    assert failures >= 5


@pytest.mark.parametrize("header", [
    "Bearer",                      # no token
    "Basic dXNlcjpwYXNz",          # another scheme
    "Bearer " + "A" * 201,         # over the length cap
    "Bearer {token}x",             # a valid token with one more character
    "Bearer {token_prefix}",       # a valid token cut short
    "Bearer ' OR '1'='1",          # SQL in the token
    "Bearer " + new_token(),       # well-formed, never issued
])
def test_forged_device_tokens_are_401(env, header):
    server, _cid, token = env
    value = header.format(token=token, token_prefix=token[:-2])
    r = httpx.get(f"{server.url}/v1/outcomes", headers={"Authorization": value})
    _problem(r, 401, "unauthorized")
    assert r.headers["www-authenticate"] == "Bearer"


def test_expired_staff_session_cannot_use_a_device_route_or_review(env):
    server, _cid, _token = env
    server.add_user("hostile-admin", "pw-hostile-admin", role="admin")
    token = server.login("hostile-admin", "pw-hostile-admin")
    with server.db.write() as s:
        s.execute(update(StaffSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    r = httpx.get(f"{server.url}/v1/review/queue", headers={"Authorization": f"Bearer {token}"})
    _problem(r, 401, "unauthorized")
    r = httpx.get(f"{server.url}/v1/outcomes", headers={"Authorization": f"Bearer {token}"})
    _problem(r, 401, "unauthorized")


def test_a_device_cannot_write_for_another_device_or_campaign(env):
    server, cid, token_a = env
    token_b = server.enroll_device(cid, "device b").device_token
    other_cid = server.create_campaign(name="Other campaign")
    token_c = server.enroll_device(other_cid, "device c").device_token
    url = f"{server.url}/v1/entries/batch"

    mine = signer(pronounceable(90_001, 4), pronounceable(90_002, 5), "880 Owner Street")
    body_a = batch_body([mine])
    r = httpx.post(url, json=body_a, headers=device_headers(token_a, body_a))
    assert r.json()["results"][0]["status"] == "accepted"

    # B resends A's entry id with A's content: a conflict, never "already received".
    body = batch_body([mine])
    r = httpx.post(url, json=body, headers=device_headers(token_b, body))
    assert {k: r.json()["results"][0][k] for k in ("status", "reason_code")} == {
        "status": "conflict", "reason_code": 202}
    # B "corrects" A's entry: refused, A's entry keeps counting.
    fix = signer(pronounceable(90_003, 4), pronounceable(90_004, 5), "881 Owner Street",
                 supersedes=mine.entry_id)
    body = batch_body([fix])
    r = httpx.post(url, json=body, headers=device_headers(token_b, body))
    assert {k: r.json()["results"][0][k] for k in ("status", "reason_code", "field")} == {
        "status": "rejected", "reason_code": 203, "field": "supersedes"}
    # B replays A's batch id: 409, and A's stored answer is not disclosed.
    r = httpx.post(url, json=body_a, headers=device_headers(token_b, body_a))
    _problem(r, 409, "batch_id_conflict")
    assert mine.entry_id not in r.text
    # C (another campaign) names a campaign in the body: unknown field, refused whole.
    wire = signer(pronounceable(90_005, 4), pronounceable(90_006, 5)).to_wire().model_dump(mode="json")
    body = {"protocol_version": 1, "batch_id": new_uuid7(), "entries": [{**wire, "campaign_id": cid}]}
    r = httpx.post(url, json=body, headers=device_headers(token_c, body))
    _problem(r, 422, "invalid_request")
    # C sends A's entry id: a conflict too; C's own signers stay in C's campaign.
    body = batch_body([mine])
    r = httpx.post(url, json=body, headers=device_headers(token_c, body))
    assert r.json()["results"][0]["status"] == "conflict"
    with server.db.read() as s:
        row = s.get(Entry, mine.entry_id)
        assert (row.campaign_id, row.counted, row.superseded_by) == (cid, True, None)
        assert s.scalar(select(func.count()).select_from(Entry).where(Entry.id == fix.entry_id)) == 1
        assert s.get(Entry, fix.entry_id).status == "rejected"
    # Feeds are per device and per campaign: C sees none of A's outcomes or index keys.
    auth_c = {"Authorization": f"Bearer {token_c}"}
    assert httpx.get(f"{server.url}/v1/outcomes", headers=auth_c).json()["outcomes"] == []
    index_c = httpx.get(f"{server.url}/v1/doorstep-filter", headers=auth_c).json()
    index_a = httpx.get(f"{server.url}/v1/doorstep-filter",
                        headers={"Authorization": f"Bearer {token_a}"}).json()
    assert index_a["signers"] and index_c["signers"] == 0
    assert index_a["doorstep_key"] != index_c["doorstep_key"]
