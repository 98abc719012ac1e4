"""A real Canvass server for tests: uvicorn on 127.0.0.1, a free port, a given database.

Usage (any test module; ``tests/`` is on sys.path under pytest)::

    def test_something(live_server):          # the fixture (tests/conftest.py): SQLite and PostgreSQL
        cid = live_server.create_campaign()
        code = live_server.enroll_code(cid, "Ann")
        requests.post(f"{live_server.url}/v1/devices/enroll", json={...})

    with running_server(db_url) as server:    # in a thread, in this process
        ...
    with serve_subprocess(db_url, workers=2) as server:   # `canvass-server serve` as a process
        ...

The handle's admin methods work straight on the database (like the CLI does), so tests can
set up campaigns, codes and users without any HTTP endpoint for it.
"""

from __future__ import annotations

import base64
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from sync.crypto import new_key
from sync.protocol import EnrollResponse
from sync.server import admin, threaded
from sync.server.app import create_app
from sync.server.config import Settings
from sync.server.db import Database
from sync.server.keys import ServerKeys, default_key_path, load_keys
from sync.server.migrate import upgrade_head
from sync.server.models import Campaign

REPO = Path(__file__).resolve().parent.parent


def server_keys_for(db_url: str) -> ServerKeys:
    """SQLite: the key file kept next to the database (created on first use). PostgreSQL: a
    fresh random key pair, remembered per URL so a restart within a test sees the same keys."""
    if default_key_path(db_url) is not None:
        return load_keys(db_url)
    if db_url not in _PG_KEYS:
        _PG_KEYS[db_url] = ServerKeys(new_key(), new_key())
    return _PG_KEYS[db_url]


_PG_KEYS: dict[str, ServerKeys] = {}


@dataclass
class ServerHandle:
    url: str
    db_url: str
    keys: ServerKeys
    db: Database = field(repr=False)

    # ---- administration, straight on the database (as the CLI does) ----
    def create_campaign(self, name: str = "Test campaign", goal: int = 566_857,
                        deadline: str = "2022-07-06", jurisdiction: str = "los_angeles_county",
                        validity_rate: float = 0.726, jurisdiction_zips: list[str] | None = None) -> str:
        return admin.create_campaign(self.db, self.keys, name=name, goal=goal, deadline=deadline,
                                     jurisdiction=jurisdiction, validity_rate=validity_rate,
                                     jurisdiction_zips=jurisdiction_zips, actor="test")

    def enroll_code(self, campaign_id: str, circulator: str = "Test Circulator",
                    ttl_hours: float = 72, team: str = "") -> str:
        return admin.create_enroll_code(self.db, self.keys, campaign_id=campaign_id,
                                        circulator=circulator, ttl_hours=ttl_hours, team=team,
                                        actor="test").code

    def add_user(self, username: str, password: str, role: str = "admin",
                 campaign_id: str | None = None, team: str = "") -> str:
        return admin.add_user(self.db, username=username, password=password, role=role,
                              campaign_id=campaign_id, team=team, actor="test")

    def revoke_device(self, device_id: str) -> None:
        admin.revoke_device(self.db, device_id, actor="test")

    def index_key(self, campaign_id: str) -> bytes:
        """The campaign's index key, as the server holds it (devices never get it)."""
        with self.db.read() as s:
            return admin.campaign_index_key(self.keys, s.get(Campaign, campaign_id))

    # ---- conveniences over HTTP ----
    def enroll_device(self, campaign_id: str, device_name: str = "test phone",
                      circulator: str = "Test Circulator", team: str = "") -> EnrollResponse:
        code = self.enroll_code(campaign_id, circulator, team=team)
        r = httpx.post(f"{self.url}/v1/devices/enroll", json={"code": code, "device_name": device_name})
        r.raise_for_status()
        return EnrollResponse.model_validate(r.json())

    def login(self, username: str, password: str) -> str:
        r = httpx.post(f"{self.url}/v1/auth/login", json={"username": username, "password": password})
        r.raise_for_status()
        return r.json()["token"]

    def staff_headers(self, campaign_id: str, roles=("admin", "intake", "team_lead"),
                      password: str = "correct horse battery staple") -> dict[str, dict[str, str]]:
        """role -> the Authorization header of a new account of that role in the campaign."""
        heads = {}
        for role in roles:
            name = f"{role}-{campaign_id[-8:]}-{len(heads)}"
            self.add_user(name, password, role, campaign_id)
            heads[role] = {"Authorization": "Bearer " + self.login(name, password)}
        return heads

    @property
    def env(self) -> dict[str, str]:
        """Environment for a `canvass-server` subprocess on the same database and keys."""
        return {"CANVASS_SERVER_KEY": base64.b64encode(self.keys.server_key).decode(),
                "CANVASS_BOX_KEY": base64.b64encode(self.keys.box_private_key).decode()}


# Ports for the servers the tests start come from below the kernel's ephemeral range: a port
# picked from that range (bind to port 0) is free when picked, but any outgoing connection of
# this machine (a PostgreSQL client, an HTTP call) may take it before the server binds it, and
# the server then exits with "address already in use" (seen once in CI: a replica that "stopped
# before it answered"). No outgoing connection takes a port below the range; ports already
# handed out in this run are not handed out again.
_PORTS_HANDED_OUT: set[int] = set()


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A port no server of this run has had, free now, outside the ephemeral range."""
    low = _ephemeral_range()[0]
    start = 20000 if low > 21000 else 1024
    candidates = list(range(start, low))
    random.shuffle(candidates)
    for port in candidates:
        if port not in _PORTS_HANDED_OUT and _bindable(port):
            _PORTS_HANDED_OUT.add(port)
            return port
    raise RuntimeError("no free port below the ephemeral range")


def wait_healthy(url: str, proc: subprocess.Popen | None = None, *, path: str = "/healthz",
                 limit: float = 60.0) -> None:
    """Until ``url`` + ``path`` answers 200; fails at once when ``proc`` (the process meant to
    serve it) has exited."""
    alive = (lambda: proc.poll() is None) if proc is not None else (lambda: True)
    threaded.wait_healthy(url, path=path, limit=limit, alive=alive)


def stop_process(proc: subprocess.Popen, *, group: bool = False, timeout: float = 30) -> None:
    """SIGTERM ``proc`` (its whole process group with ``group``: a shell and what it started),
    SIGKILL when it has not exited within ``timeout``, and reap it."""
    def send(sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(proc.pid, sig)
            else:
                proc.send_signal(sig)

    send(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        proc.wait()


@contextmanager
def running_server(db_url: str, *, staff_web: bool = False, build_app=create_app,
                   **settings_kw) -> Iterator[ServerHandle]:
    """Migrate ``db_url`` and serve it with uvicorn in a background thread of this process;
    ``build_app(settings, staff_web=...)`` makes the app (create_app unless told)."""
    upgrade_head(db_url)
    keys = server_keys_for(db_url)
    settings = Settings(db_url=db_url, keys=keys, **settings_kw)
    app = build_app(settings, staff_web=staff_web)
    try:
        with serve_app(app, db_url, keys) as server:
            yield server
    finally:
        app.state.services.db.dispose()


@contextmanager
def serve_app(app, db_url: str, keys: ServerKeys) -> Iterator[ServerHandle]:
    """Serve an app already built on ``db_url`` (or an ASGI wrapper around one) with uvicorn
    in a background thread; the caller disposes the app's own database engine."""
    db = Database(db_url)
    try:
        with threaded.ServerThread(app) as server:
            yield ServerHandle(url=server.url, db_url=db_url, keys=keys, db=db)
    finally:
        db.dispose()


def server_command() -> list[str]:
    """`canvass-server` if installed, else the same CLI through the module."""
    return [sys.executable, "-m", "sync.server.cli"]


def spawn_server(db_url: str, port: int, env: dict[str, str], *, workers: int = 1,
                 **popen) -> subprocess.Popen:
    """`canvass-server serve` on 127.0.0.1:``port`` as a child process; ``env`` carries the keys
    (never the command line). The one way the tests start a server process."""
    return subprocess.Popen(
        [*server_command(), "serve", "--db", db_url, "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers)], env={**os.environ, **env, "PYTHONPATH": str(REPO)}, cwd=REPO,
        **popen)


@contextmanager
def serve_subprocess(db_url: str, workers: int = 1, *, env: dict[str, str] | None = None,
                     output: Path | None = None) -> Iterator[ServerHandle]:
    """`canvass-server serve` as a child process (several uvicorn workers when asked), with
    more environment (settings) when given, its stdout and stderr into ``output`` if given."""
    upgrade_head(db_url)
    keys = server_keys_for(db_url)
    port = free_port()
    db = Database(db_url)
    handle = ServerHandle(url=f"http://127.0.0.1:{port}", db_url=db_url, keys=keys, db=db)
    popen = {}
    if output is not None:
        popen = {"stdout": open(output, "wb"), "stderr": subprocess.STDOUT}  # noqa: SIM115
    proc = spawn_server(db_url, port, {**handle.env, **(env or {})}, workers=workers, **popen)
    try:
        wait_healthy(handle.url, proc)
        yield handle
    finally:
        stop_process(proc)
        db.dispose()
        if popen:
            popen["stdout"].close()


# ---- building requests -------------------------------------------------------------------

_SEQ = {"n": 0}


def signer(first: str = "Maria", last: str = "Lopez", street: str = "123 North Main Street",
           city: str = "Los Angeles", zip: str = "90012", **kw):
    """A valid SignerEntry in Los Angeles County. Section/line/device_seq default to unique
    values (a counter) so entries never collide on a section line by accident."""
    from sync.domain import SignerEntry

    _SEQ["n"] += 1
    n = _SEQ["n"]
    kw.setdefault("section", f"T{n // 500 + 1:04d}")
    kw.setdefault("line", n % 500 + 1)
    kw.setdefault("device_seq", n)
    return SignerEntry(first_name=first, last_name=last, street=street, city=city, zip=zip, **kw)


def batch_body(entries, batch_id: str | None = None) -> dict:
    from sync.ids import new_uuid7
    from sync.protocol import PROTOCOL_VERSION

    return {"protocol_version": PROTOCOL_VERSION, "batch_id": batch_id or new_uuid7(),
            "entries": [e.to_wire().model_dump(mode="json") for e in entries]}


def device_headers(token: str, batch: dict | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if batch is not None:
        headers["Idempotency-Key"] = batch["batch_id"]
    return headers
