"""Bad input gets a 4xx RFC 9457 problem, never a 500, echoes nothing, and stores nothing."""

from __future__ import annotations

import json

import httpx
import pytest
from server_helpers import batch_body, running_server, signer
from sqlalchemy import func, select

from sync.protocol import MAX_BATCH_BYTES, MAX_BATCH_ENTRIES
from sync.server.models import BatchRecord, Entry

SECRET_NAME = "Xylophonia"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    db = tmp_path_factory.mktemp("bad") / "server.db"
    with running_server(f"sqlite:///{db}") as server:
        cid = server.create_campaign()
        yield server, server.enroll_device(cid).device_token


def _valid(**changes) -> dict:
    return batch_body([signer(SECRET_NAME, "Tester", **changes)])


def _raw(body: dict) -> bytes:
    return json.dumps(body).encode()


def _cases() -> dict[str, tuple[bytes, int, str]]:
    too_many = batch_body([signer(SECRET_NAME, "Many") for _ in range(MAX_BATCH_ENTRIES + 1)])
    huge_field = _valid()
    huge_field["entries"][0]["notes"] = SECRET_NAME * 500  # over the wire cap of 2000 chars
    wrong_type = _valid()
    wrong_type["entries"][0]["line"] = "seven"
    unknown_field = _valid()
    unknown_field["entries"][0]["ssn"] = "123-45-6789"
    old_proto = _valid()
    old_proto["protocol_version"] = 99
    string_proto = _valid()
    string_proto["protocol_version"] = "1"
    sql = _valid()
    sql["batch_id"] = "x'; DROP TABLE entries; --"
    sql_entry = _valid()
    sql_entry["entries"][0]["entry_id"] = "1' OR '1'='1"
    big = _valid()
    big["entries"][0]["notes"] = ""
    padding = b" " * (MAX_BATCH_BYTES + 10)
    return {
        "malformed_json": (b'{"protocol_version": 1, "batch_id": ', 400, "malformed_json"),
        "not_an_object": (b"[1, 2, 3]", 422, "invalid_request"),
        "too_many_entries": (_raw(too_many), 422, "invalid_request"),
        "huge_field": (_raw(huge_field), 422, "invalid_request"),
        "wrong_type": (_raw(wrong_type), 422, "invalid_request"),
        "unknown_field": (_raw(unknown_field), 422, "invalid_request"),
        "unknown_protocol": (_raw(old_proto), 400, "unsupported_protocol"),
        "protocol_as_string": (_raw(string_proto), 400, "unsupported_protocol"),
        "body_over_1mb": (_raw(big)[:-1] + padding + b"}", 413, "body_too_large"),
        "sql_batch_id": (_raw(sql), 400, "idempotency_key_mismatch"),
        "not_utf8": (b'{"protocol_version": 1, "x": "\xff\xfe"}', 400, "malformed_json"),
        "sql_entry_id": (_raw(sql_entry), 200, ""),  # readable batch: entry rejected, not stored raw
    }


@pytest.mark.parametrize("case", sorted(_cases()))
def test_bad_batch_bodies(env, case):
    server, token = env
    raw, status, code = _cases()[case]
    try:
        key = json.loads(raw).get("batch_id", "none")
    except (ValueError, AttributeError):
        key = "none"
    if case == "sql_batch_id":
        key = "something-else"
    with server.db.read() as s:
        before = (s.scalar(select(func.count()).select_from(Entry)),
                  s.scalar(select(func.count()).select_from(BatchRecord)))
    r = httpx.post(f"{server.url}/v1/entries/batch", content=raw, timeout=60,
                   headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                            "Idempotency-Key": str(key)})
    assert r.status_code == status, r.text[:300]
    assert SECRET_NAME.lower() not in r.text.lower() and "123-45-6789" not in r.text
    with server.db.read() as s:
        after = (s.scalar(select(func.count()).select_from(Entry)),
                 s.scalar(select(func.count()).select_from(BatchRecord)))
    if status == 200:
        result = r.json()["results"][0]
        assert result["status"] == "rejected" and result["reason_code"] == 205
        return
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code and r.json()["status"] == status
    assert after == before, "a refused request stored something"


def test_chunked_body_over_limit_is_413(env):
    server, token = env
    body = _valid()

    def chunks():
        yield _raw(body)[:-1]
        for _ in range(MAX_BATCH_BYTES // 65536 + 2):
            yield b" " * 65536
        yield b"}"

    r = httpx.post(f"{server.url}/v1/entries/batch", content=chunks(), timeout=60,
                   headers={"Authorization": f"Bearer {token}", "Idempotency-Key": body["batch_id"]})
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"


def _padded(body: dict, size: int) -> bytes:
    """``body`` as JSON padded with spaces to exactly ``size`` bytes (still the same batch)."""
    raw = _raw(body)
    return raw[:-1] + b" " * (size - len(raw)) + b"}"


def test_the_batch_cap_is_exact_with_or_without_content_length(env):
    """The batch route's cap is MAX_BATCH_BYTES exactly (once its own check, now the one body
    limit's), below the other routes' slack: a body just over it is refused whether it
    declares its length or streams in chunks, with the answer naming the cap; a body of
    exactly the cap is read."""
    server, token = env
    body = _valid()
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": body["batch_id"],
               "Content-Type": "application/json"}
    over = _padded(body, MAX_BATCH_BYTES + 1000)

    def chunked(raw: bytes):  # no Content-Length: Transfer-Encoding: chunked
        for at in range(0, len(raw), 65536):
            yield raw[at:at + 65536]

    for content in (over, chunked(over)):
        r = httpx.post(f"{server.url}/v1/entries/batch", content=content, timeout=60, headers=headers)
        assert r.status_code == 413, r.text[:300]
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "body_too_large"
        assert r.json()["detail"] == f"The body exceeds {MAX_BATCH_BYTES} bytes."
    r = httpx.post(f"{server.url}/v1/entries/batch", content=chunked(_padded(body, MAX_BATCH_BYTES)),
                   timeout=60, headers=headers)
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "accepted"


def test_a_body_limit_for_a_path_no_route_answers_fails_the_build(monkeypatch):
    from sync.server import app as server_app
    from sync.server.bodylimit import BodyCap
    from sync.server.routes import entries

    assert server_app._body_limits()["/v1/entries/batch"].limit == MAX_BATCH_BYTES
    monkeypatch.setattr(entries, "BODY_LIMITS", {"/v1/entries/batches": BodyCap(10)})
    with pytest.raises(RuntimeError, match="batches"):
        server_app._body_limits()


@pytest.mark.parametrize("payload", [
    b"not json", b'{"code": 5, "device_name": "x"}', b'{"code": "", "device_name": "x"}',
    json.dumps({"code": "A" * 5000, "device_name": "x"}).encode(),
    json.dumps({"code": "' OR 1=1 --", "device_name": SECRET_NAME}).encode(),
])
def test_bad_enroll_bodies(env, payload):
    server, _ = env
    r = httpx.post(f"{server.url}/v1/devices/enroll", content=payload,
                   headers={"Content-Type": "application/json"})
    assert 400 <= r.status_code < 500
    assert r.headers["content-type"].startswith("application/problem+json")
    assert SECRET_NAME.lower() not in r.text.lower() and "OR 1=1" not in r.text


@pytest.mark.parametrize("path,payload", [
    ("/v1/auth/login", {"username": SECRET_NAME, "password": ["list"]}),
    ("/v1/auth/login", {"username": "x" * 10_000, "password": "p"}),
    ("/v1/devices/heartbeat", {"pending_count": -1, "last_device_seq": 0, "app_version": SECRET_NAME}),
    ("/v1/devices/heartbeat", {"pending_count": "many", "last_device_seq": 0, "app_version": "1"}),
    # Past a 64-bit column: refused on the wire, not overflowing the database (found by fuzzing).
    ("/v1/devices/heartbeat", {"pending_count": 2**70, "last_device_seq": 0, "app_version": "1"}),
    ("/v1/devices/heartbeat", {"pending_count": 0, "last_device_seq": 10**30, "app_version": "1"}),
])
def test_other_bad_bodies(env, path, payload):
    server, token = env
    r = httpx.post(f"{server.url}{path}", json=payload, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_request"
    assert SECRET_NAME.lower() not in r.text.lower()


def test_bad_cursor_and_unknown_route(env):
    server, token = env
    auth = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{server.url}/v1/outcomes?since=-5", headers=auth).status_code == 422
    assert httpx.get(f"{server.url}/v1/outcomes?since=abc", headers=auth).status_code == 422
    # The retired index feed answers 410 whatever its query (it reads none).
    assert httpx.get(f"{server.url}/v1/dedup-index?since=abc", headers=auth).status_code == 410
    r = httpx.get(f"{server.url}/v1/nothing-here")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
