"""Staff sessions can be ended (issue 16, Medium 7), over HTTP on a real server (SQLite and
PostgreSQL): logout (the staff app's "Log out" calls it), ``canvass-server user disable`` and
``user sessions revoke``, an idle timeout, a minimum passphrase length, expired sessions
deleted.

The attack each test runs: keep using a token its owner believes ended (logged out, account
disabled, sessions revoked, left idle), or set a one-character passphrase.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import httpx
import pytest
import server_helpers
from sqlalchemy import func, select

from canvass.staff.login_state import StaffLogin
from sync.domain import utcnow
from sync.server.admin import AdminError
from sync.server.models import StaffSession
from sync.server.tokens import token_hash

PASSPHRASE = "a long staff passphrase"
MIN_PASSPHRASE = 12  # sync.server.admin.MIN_PASSPHRASE, as SECURITY.md states it


def _staff(server, name: str, role: str = "admin") -> tuple[str, str]:
    cid = server.create_campaign(deadline="2030-12-31")
    server.add_user(name, PASSPHRASE, role, cid)
    return cid, server.login(name, PASSPHRASE)


def _status(server, token: str) -> int:
    return httpx.get(f"{server.url}/v1/dashboard/progress",
                     headers={"Authorization": f"Bearer {token}"}).status_code


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sync.server.cli", *args], capture_output=True,
                          text=True, timeout=120, cwd=server_helpers.REPO)


def test_logout_ends_the_session_the_staff_app_held(live_server):
    _cid, token = _staff(live_server, "logout-admin")
    assert _status(live_server, token) == 200
    app_login = StaffLogin(live_server.url)
    app_login.login("logout-admin", PASSPHRASE)
    kept = app_login.token
    assert _status(live_server, kept) == 200
    app_login.logout()  # what the staff app's "Log out" button runs
    assert not app_login.logged_in
    assert _status(live_server, kept) == 401  # a copied token is worthless afterwards
    assert _status(live_server, token) == 200  # the user's other session is not touched
    r = httpx.post(f"{live_server.url}/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 204
    assert _status(live_server, token) == 401


def test_cli_revokes_sessions_and_disables_a_user(live_server):
    _cid, first = _staff(live_server, "cli-lead")
    second = live_server.login("cli-lead", PASSPHRASE)
    done = _cli("user", "sessions", "revoke", "--db", live_server.db_url, "--username", "cli-lead",
                "--json")
    assert done.returncode == 0, done.stderr
    assert '"ended_sessions": 2' in done.stdout
    assert _status(live_server, first) == 401 and _status(live_server, second) == 401
    third = live_server.login("cli-lead", PASSPHRASE)  # revoking sessions does not lock out
    assert _status(live_server, third) == 200
    done = _cli("user", "disable", "--db", live_server.db_url, "--username", "cli-lead")
    assert done.returncode == 0, done.stderr
    assert _status(live_server, third) == 401
    r = httpx.post(f"{live_server.url}/v1/auth/login",
                   json={"username": "cli-lead", "password": PASSPHRASE})
    assert r.status_code == 401
    assert _cli("user", "disable", "--db", live_server.db_url, "--username", "nobody").returncode == 2


class _Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now


def test_idle_session_ends_and_expired_rows_are_deleted(db_url, monkeypatch):
    clock = _Clock()
    for module in ("sync.server.auth", "sync.server.routes.people"):
        monkeypatch.setattr(f"{module}.utcnow", clock)
    with server_helpers.running_server(db_url, session_idle_minutes=30, session_hours=12) as server:
        _cid, token = _staff(server, "idle-intake")
        # In use every 20 minutes: the session lives on ...
        for _ in range(5):
            clock.now += timedelta(minutes=20)
            assert _status(server, token) == 200
        # ... left for 31 minutes: it is over.
        clock.now += timedelta(minutes=31)
        assert _status(server, token) == 401
        # Kept busy, it still ends 12 hours after login.
        busy = server.login("idle-intake", PASSPHRASE)
        for _ in range(12 * 3 - 1):
            clock.now += timedelta(minutes=20)
            assert _status(server, busy) == 200
        clock.now += timedelta(minutes=21)
        assert _status(server, busy) == 401
        # Expired rows are deleted (at each login), not kept.
        def stored(t: str) -> int:
            with server.db.read() as s:
                return s.scalar(select(func.count()).select_from(StaffSession).where(
                    StaffSession.token_hash == token_hash(t)))

        assert stored(token) == 0 and stored(busy) == 1  # the first went at the second login
        fresh = server.login("idle-intake", PASSPHRASE)
        assert stored(busy) == 0 and stored(fresh) == 1
        assert _status(server, fresh) == 200


def test_short_passphrases_are_refused(live_server):
    cid = live_server.create_campaign(deadline="2030-12-31")
    for short in ("x", "a" * (MIN_PASSPHRASE - 1)):
        with pytest.raises(AdminError, match="passphrase"):
            live_server.add_user("short-pass", short, "intake", cid)
    done = subprocess.run(
        [sys.executable, "-m", "sync.server.cli", "user", "add", "--db", live_server.db_url,
         "--username", "short-cli", "--role", "intake", "--campaign", cid],
        input="1\n", capture_output=True, text=True, timeout=120, cwd=server_helpers.REPO)
    assert done.returncode == 2 and "passphrase" in done.stderr
    live_server.add_user("long-pass", "a" * MIN_PASSPHRASE, "intake", cid)
