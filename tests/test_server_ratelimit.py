"""Per-process token buckets: login attempts per IP/username, requests per device."""

from __future__ import annotations

import httpx
from server_helpers import running_server

from sync.server.config import RateLimits
from sync.server.ratelimit import TokenBuckets


def test_bucket_refills_with_time():
    now = [0.0]
    buckets = TokenBuckets(2, 1.0, clock=lambda: now[0])
    assert [buckets.take("k") for _ in range(3)] == [0.0, 0.0, 1.0]
    now[0] = 1.0
    assert buckets.take("k") == 0.0 and buckets.take("other") == 0.0


def test_login_and_device_limits_answer_429(tmp_path):
    limits = RateLimits(device_capacity=3, device_per_second=0.0001, login_capacity=2,
                        login_per_second=0.0001)
    with running_server(f"sqlite:///{tmp_path / 's.db'}", rate_limits=limits) as server:
        login = {"username": "u", "password": "p"}
        codes = [httpx.post(f"{server.url}/v1/auth/login", json=login).status_code for _ in range(3)]
        assert codes == [401, 401, 429]
    # Enrollment shares the per-IP bucket (now empty): the device bucket is checked on a
    # fresh server.
    with running_server(f"sqlite:///{tmp_path / 't.db'}", rate_limits=limits) as server:
        cid = server.create_campaign()
        dev = server.enroll_device(cid)
        auth = {"Authorization": f"Bearer {dev.device_token}"}
        statuses = [httpx.get(f"{server.url}/v1/outcomes", headers=auth).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        r = httpx.get(f"{server.url}/v1/outcomes", headers=auth)
        assert r.headers["content-type"].startswith("application/problem+json") and "retry-after" in r.headers
