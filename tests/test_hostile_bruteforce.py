"""Brute force: enrollment-code guessing and password guessing are slowed per client IP (and
per username); once the bucket is empty even a right guess is refused, so guessing cannot
go faster by mixing in good codes. (PIN guessing on the device: tests/test_store_pin.py.)"""

from __future__ import annotations

import httpx
import pytest
from server_helpers import running_server, serve_subprocess
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


def test_valid_enrollments_use_no_guessing_budget(tmp_path):
    """An office enrolls a box of tablets from one address: codes that work are no guesses,
    so they never use up the budget that stops guessing (the limit is in the database and
    shared: without the give-back the fourth tablet here was refused). Guesses still are."""
    with running_server(f"sqlite:///{tmp_path / 'office.db'}", rate_limits=SLOW) as server:
        cid = server.create_campaign()
        url = f"{server.url}/v1/devices/enroll"
        for i in range(8):  # more than the budget of 3
            r = httpx.post(url, json={"code": server.enroll_code(cid, f"Tablet {i}"),
                                      "device_name": f"tablet-{i}"})
            assert r.status_code == 200, (i, r.text)
        statuses = [httpx.post(url, json={"code": f"WRONG{i:05d}", "device_name": "guesser"}).status_code
                    for i in range(4)]
        assert statuses == [401, 401, 401, 429]


def test_right_passwords_use_no_guessing_budget(tmp_path):
    """A morning's logins from one office address: each right password gives its tokens
    back; wrong ones still run the budget down."""
    with running_server(f"sqlite:///{tmp_path / 'logins.db'}", rate_limits=SLOW) as server:
        cid = server.create_campaign()
        server.add_user("clerk", "correct horse battery staple", "intake", cid)
        url = f"{server.url}/v1/auth/login"
        for _ in range(6):  # twice the budget of 3
            r = httpx.post(url, json={"username": "clerk", "password": "correct horse battery staple"})
            assert r.status_code == 200, r.text
        statuses = [httpx.post(url, json={"username": "clerk", "password": f"wrong {i}"}).status_code
                    for i in range(4)]
        assert statuses == [401, 401, 401, 429]


def test_login_guesses_per_ip_are_limited_even_for_the_right_password(tmp_path):
    with running_server(f"sqlite:///{tmp_path / 'login.db'}", rate_limits=SLOW) as server:
        server.add_user("brute-admin", "right-password", role="admin")
        url = f"{server.url}/v1/auth/login"
        wrong = [httpx.post(url, json={"username": "brute-admin", "password": f"guess{i}"}).status_code
                 for i in range(3)]
        assert wrong == [401, 401, 401]
        r = httpx.post(url, json={"username": "brute-admin", "password": "right-password"})
        assert r.status_code == 429 and r.json()["code"] == "rate_limited" and "retry-after" in r.headers


def test_a_rotating_forwarded_for_buys_no_fresh_enrollment_guesses(tmp_path):
    """uvicorn believed X-Forwarded-For from 127.0.0.1 by default: 30 guesses, each naming
    another client address, were never limited. `canvass-server serve` (the real CLI) now
    believes it only from the proxies it is configured with: none here."""
    with serve_subprocess(f"sqlite:///{tmp_path / 'xff.db'}") as server:
        url = f"{server.url}/v1/devices/enroll"
        statuses = [httpx.post(url, json={"code": f"WRONG{i:05d}", "device_name": "guesser"},
                               headers={"X-Forwarded-For": f"198.51.100.{i + 1}"}).status_code
                    for i in range(30)]
    limit = int(RateLimits().login_capacity)
    assert statuses[:limit] == [401] * limit and set(statuses[limit + 1:]) == {429}


def test_a_trusted_proxy_names_the_client(tmp_path):
    """Behind a configured proxy the header is believed: two clients have two buckets, and
    a client cannot escape its own by writing its own header in front of the proxy's."""
    with running_server(f"sqlite:///{tmp_path / 'proxy.db'}", rate_limits=SLOW,
                        trusted_proxies="127.0.0.1") as server:
        url = f"{server.url}/v1/devices/enroll"

        def guess(forwarded: str) -> int:
            return httpx.post(url, json={"code": "WRONG00000", "device_name": "g"},
                              headers={"X-Forwarded-For": forwarded}).status_code

        assert [guess(f"6.6.6.{i}, 203.0.113.5") for i in range(4)] == [401, 401, 401, 429]
        assert guess("203.0.113.6") == 401  # another client behind the same proxy


def test_bad_staff_app_logins_lock_out_no_other_account(tmp_path):
    """Every login of the staff web app reaches the API from the server's own address: ten
    bad passwords for one account filled that address's bucket, and the right password of
    every other account was refused. The staff app's calls are limited per account."""
    from canvass.staff.login_state import LoginError, StaffLogin

    with running_server(f"sqlite:///{tmp_path / 'staffapp.db'}") as server:
        server.add_user("alice-admin", "alice-password", role="admin")
        server.add_user("mallory-admin", "mallory-password", role="admin")
        attempts = int(RateLimits().login_capacity) + 2
        for i in range(attempts):
            with pytest.raises(LoginError):
                StaffLogin(server.url).login("mallory-admin", f"guess{i}")
        alice = StaffLogin(server.url)
        alice.login("alice-admin", "alice-password")
        assert alice.role == "admin"
        # Mallory's own account stays limited, even for the right password.
        r = httpx.post(f"{server.url}/v1/auth/login",
                       json={"username": "mallory-admin", "password": "mallory-password"})
        assert r.status_code == 429
