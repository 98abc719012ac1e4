"""Authorization matrix: every endpoint x every kind of credential, with the exact status."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from server_helpers import batch_body, running_server, signer

from sync.domain import utcnow
from sync.ids import new_uuid7
from sync.server.models import AuditLog, StaffSession
from sync.server.tokens import new_token, token_hash

CREDENTIALS = ["none", "forged", "revoked_device", "device", "expired_staff", "admin", "team_lead",
               "intake"]

# Expected status per endpoint, in CREDENTIALS order.
DEVICE_ONLY = [401, 401, 401, 200, 401, 403, 403, 403]
MATRIX = {
    "batch": DEVICE_ONLY,
    "outcomes": DEVICE_ONLY,
    "doorstep_filter": DEVICE_ONLY,
    "heartbeat": DEVICE_ONLY,
    "review_queue": [401, 401, 401, 403, 401, 200, 403, 200],
    "review_decision": [401, 401, 401, 403, 401, 404, 403, 404],  # unknown entry: 404 once allowed
    "healthz": [200] * 8,
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    db = tmp_path_factory.mktemp("authz") / "server.db"
    with running_server(f"sqlite:///{db}") as server:
        cid = server.create_campaign()
        tokens = {"none": None, "forged": new_token()}
        revoked = server.enroll_device(cid, "lost phone")
        server.revoke_device(revoked.device_id)
        tokens["revoked_device"] = revoked.device_token
        tokens["device"] = server.enroll_device(cid, "phone").device_token
        for role in ("admin", "team_lead", "intake"):
            server.add_user(f"authz-{role}", "passphrase-" + role, role=role,
                            campaign_id=None if role == "admin" else cid)
            tokens[role] = server.login(f"authz-{role}", "passphrase-" + role)
        expired = new_token()
        with server.db.write() as s:
            user_id = s.query(StaffSession).first().user_id
            s.add(StaffSession(token_hash=token_hash(expired), user_id=user_id,
                               created_at=utcnow() - timedelta(days=2),
                               expires_at=utcnow() - timedelta(days=1)))
        tokens["expired_staff"] = expired
        yield server, tokens


def _call(server, endpoint: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = server.url
    if endpoint == "batch":
        body = batch_body([signer("Auth", "Matrix")])
        return httpx.post(f"{url}/v1/entries/batch", json=body,
                          headers={**headers, "Idempotency-Key": body["batch_id"]})
    if endpoint == "outcomes":
        return httpx.get(f"{url}/v1/outcomes", headers=headers)
    if endpoint == "doorstep_filter":
        return httpx.get(f"{url}/v1/doorstep-filter", headers=headers)
    if endpoint == "heartbeat":
        return httpx.post(f"{url}/v1/devices/heartbeat", headers=headers,
                          json={"pending_count": 0, "last_device_seq": 0, "app_version": "t"})
    if endpoint == "review_queue":
        return httpx.get(f"{url}/v1/review/queue", headers=headers)
    if endpoint == "review_decision":
        return httpx.post(f"{url}/v1/review/{new_uuid7()}/decision", headers=headers,
                          json={"decision": "duplicate"})
    return httpx.get(f"{url}/healthz", headers=headers)


@pytest.mark.parametrize("endpoint", sorted(MATRIX))
@pytest.mark.parametrize("credential", CREDENTIALS)
def test_matrix(world, endpoint, credential):
    server, tokens = world
    expected = MATRIX[endpoint][CREDENTIALS.index(credential)]
    r = _call(server, endpoint, tokens[credential])
    assert r.status_code == expected, (endpoint, credential, r.text)
    if expected >= 400:
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        assert problem["status"] == expected and set(problem) == {"type", "title", "status", "detail",
                                                                  "code"}
    if expected == 401:
        assert problem["code"] == "unauthorized"


def test_enroll_and_login_are_audited_without_personal_data(world):
    server, _tokens = world
    with server.db.read() as s:
        actions = {row.action for row in s.query(AuditLog)}
    assert {"device.enroll", "device.revoke", "login", "campaign.create"} <= actions
