"""Brute force: enrollment-code guessing and password guessing are slowed per client IP (and
per username); once the bucket is empty even a right guess is refused, so guessing cannot
go faster by mixing in good codes. (PIN guessing on the device: tests/test_store_pin.py.)"""

from __future__ import annotations

import httpx
from server_helpers import running_server
from sqlalchemy import func, select

from sync.server.config import RateLimits
from sync.server.models import Device

SLOW = RateLimits(login_capacity=3, login_per_second=0.0001)


def test_enrollment_guesses_per_ip_are_limited(tmp_path):
    with running_server(f"sqlite:///{tmp_path / 'enroll.db'}", rate_limits=SLOW) as server:
        cid = server.create_campaign()
        good = server.enroll_code(cid, "Guess Circulator")
        url = f"{server.url}/v1/devices/enroll"
        statuses = [httpx.post(url, json={"code": f"WRONG{i:05d}", "device_name": "guesser"}).status_code
                    for i in range(3)]
        assert statuses == [401, 401, 401]
        r = httpx.post(url, json={"code": good, "device_name": "guesser"})
        assert r.status_code == 429 and r.json() == {
            "type": "about:blank", "title": "Too Many Requests", "status": 429,
            "detail": "Too many attempts; wait and retry.", "code": "rate_limited"}
        assert int(r.headers["retry-after"]) >= 1
        with server.db.read() as s:
            assert s.scalar(select(func.count()).select_from(Device)) == 0
        # The limit is on enrollment attempts, not on the device API or logins' own buckets.
        login = httpx.post(f"{server.url}/v1/auth/login", json={"username": "nobody", "password": "x"})
        assert login.status_code == 401


def test_login_guesses_per_ip_are_limited_even_for_the_right_password(tmp_path):
    with running_server(f"sqlite:///{tmp_path / 'login.db'}", rate_limits=SLOW) as server:
        server.add_user("brute-admin", "right-password", role="admin")
        url = f"{server.url}/v1/auth/login"
        wrong = [httpx.post(url, json={"username": "brute-admin", "password": f"guess{i}"}).status_code
                 for i in range(3)]
        assert wrong == [401, 401, 401]
        r = httpx.post(url, json={"username": "brute-admin", "password": "right-password"})
        assert r.status_code == 429 and r.json()["code"] == "rate_limited" and "retry-after" in r.headers
