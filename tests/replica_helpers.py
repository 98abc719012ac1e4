"""Several `canvass-server serve` processes (replicas, not workers of one) on one PostgreSQL
database, behind a small round-robin reverse proxy on loopback.

    with Replicas(pg_url, workdir, count=2) as replicas:
        replicas.url            # the proxy: each request goes to the next live replica
        replicas.urls[0]        # one replica directly
        replicas.kill(0)        # SIGKILL replica 0 (the proxy then skips it)

The proxy is an HTTP/1.1 reverse proxy in a thread of the test process: it reads a request,
sends it to the next replica (one that refuses the connection is skipped, as a load balancer's
health check would), and relays the answer whole. It adds X-Forwarded-For like any reverse
proxy; the replicas trust 127.0.0.1 as their proxy (``CANVASS_TRUSTED_PROXIES``). A replica
that dies with a request in flight answers nothing: the proxy answers 502 for that request.

``Replicas`` offers what fault_layer.ServerUnderTest offers (url, enroll_code, entry_rows,
entry_count, campaign_id), so fault_layer.new_device and the sync tests' code run through it.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count as counter
from pathlib import Path

from fault_layer import ServerUnderTest
from server_helpers import free_port, server_keys_for, spawn_server, stop_process, wait_healthy

_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
        "proxy-connection", "content-length"}


class RoundRobinProxy:
    def __init__(self, backends: list[str]) -> None:
        self.backends = backends  # "127.0.0.1:port" each; replaced in place by Replicas
        self.served = [0] * len(backends)
        self._next = counter()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _relay(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                prior = self.headers.get("x-forwarded-for")
                client = self.client_address[0]
                headers["X-Forwarded-For"] = f"{prior}, {client}" if prior else client
                status, reason, answer, data = proxy.forward(self.command, self.path, headers, body)
                self.send_response(status, reason)
                for k, v in answer:
                    if k.lower() not in _HOP:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _relay

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="round-robin-proxy")

    def forward(self, method: str, path: str, headers: dict, body: bytes | None):
        for _ in range(len(self.backends)):
            with self._lock:
                index = next(self._next) % len(self.backends)
            host, port = self.backends[index].rsplit(":", 1)
            conn = http.client.HTTPConnection(host, int(port), timeout=300)
            try:
                try:
                    conn.request(method, path, body=body, headers=headers)
                except ConnectionRefusedError:
                    continue  # a dead replica: the next one
                try:
                    r = conn.getresponse()
                    data = r.read()
                except (OSError, http.client.HTTPException):
                    return 502, "Bad Gateway", [], b""  # died with the request in flight
                with self._lock:
                    self.served[index] += 1
                return r.status, r.reason, r.getheaders(), data
            finally:
                conn.close()
        return 502, "Bad Gateway", [], b""

    def start(self) -> RoundRobinProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Replicas:
    """``count`` serve processes on ``db_url`` (PostgreSQL), one campaign, and the proxy."""

    def __init__(self, db_url: str, workdir: Path, *, count: int = 2, lease: float = 3.0,
                 extra_env: dict | None = None) -> None:
        from sync.server.admin import create_campaign
        from sync.server.db import Database
        from sync.server.migrate import upgrade_head

        self.db_url, self.workdir = db_url, Path(workdir)
        upgrade_head(db_url)
        self.keys = server_keys_for(db_url)
        self.db = Database(db_url)
        self.campaign_id = create_campaign(self.db, self.keys, name="Replica drive", goal=10_000,
                                           deadline="2030-12-31")
        import base64

        self.env = {"CANVASS_SERVER_KEY": base64.b64encode(self.keys.server_key).decode(),
                    "CANVASS_BOX_KEY": base64.b64encode(self.keys.box_private_key).decode(),
                    "CANVASS_TRUSTED_PROXIES": "127.0.0.1", "CANVASS_JOB_LEASE_SECONDS": str(lease),
                    "CANVASS_ROLLUP_SECONDS": "1", **(extra_env or {})}
        self.ports = [free_port() for _ in range(count)]
        self.procs: list[subprocess.Popen | None] = [None] * count
        self.proxy = RoundRobinProxy([f"127.0.0.1:{p}" for p in self.ports])
        self.url = self.proxy.url

    def env_for_cli(self) -> dict[str, str]:
        """Environment for a `canvass-server` admin command on the same database and keys."""
        return {**os.environ, **self.env, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports]

    def start_replica(self, i: int) -> None:
        log = open(self.workdir / f"replica{i}.log", "ab")  # noqa: SIM115 - the child's stderr
        self.procs[i] = spawn_server(self.db_url, self.ports[i], self.env,
                                     stdout=subprocess.DEVNULL, stderr=log)
        log.close()
        try:
            wait_healthy(self.urls[i], self.procs[i])
        except RuntimeError as e:  # say why: the child's last words (start-up, no signer data)
            tail = (self.workdir / f"replica{i}.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{e}; its stderr ended with:\n{tail}") from None

    def __enter__(self) -> Replicas:
        for i in range(len(self.ports)):
            self.start_replica(i)
        self.proxy.start()
        return self

    def kill(self, i: int) -> None:
        proc = self.procs[i]
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(30)
            self.procs[i] = None

    def __exit__(self, *exc) -> None:
        self.proxy.stop()
        for proc in self.procs:
            if proc is not None:
                stop_process(proc)
        self.db.dispose()

    # -- what ServerUnderTest offers --------------------------------------------------------

    def enroll_code(self, circulator: str = "Circulator One") -> str:
        from sync.server.admin import create_enroll_code

        return create_enroll_code(self.db, self.keys, campaign_id=self.campaign_id,
                                  circulator=circulator).code

    entry_rows = ServerUnderTest.entry_rows  # both read self.db
    entry_count = ServerUnderTest.entry_count

    def campaign_entries(self) -> int:
        """Entries of this set's own campaign (the test module's database is shared)."""
        from sqlalchemy import func, select

        from sync.server.models import Entry

        with self.db.read() as s:
            return s.scalar(select(func.count()).select_from(Entry)
                            .where(Entry.campaign_id == self.campaign_id))

    def add_user(self, username: str, password: str, role: str = "admin") -> None:
        from sync.server.admin import add_user

        add_user(self.db, username=username, password=password, role=role,
                 campaign_id=None if role == "admin" else self.campaign_id)
