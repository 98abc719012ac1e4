"""The staff app's API address comes from configuration, never from the request (issue 16,
Low 9). The attack: a proxy between the browser and the real server rewrites every request's
Host header to another loopback listener's address. The old app built its API address from
the page's URL (that Host) and posted the login, password included, to the other listener.
Now the login goes to the server that serves /app, and the other listener receives nothing."""

from __future__ import annotations

import socket
import threading
import uuid

import pytest
from browser_helpers import require_chromium, staff_page
from dashboard_helpers import dashboard_server

pytestmark = pytest.mark.browser


class Listener:
    """Another listener on loopback: records whatever reaches it, answers nothing useful."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    self.received.append(conn.recv(65536))
                    conn.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass


class HostRewritingProxy:
    """Forwards loopback connections to ``target_port``, replacing the Host header's value
    in what the browser sends (requests and the websocket upgrade) with ``host``."""

    def __init__(self, target_port: int, host: str) -> None:
        self.target_port, self.host = target_port, host.encode()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, rewrite: bool) -> None:
        own = f"127.0.0.1:{self.port}".encode()
        try:
            while data := src.recv(65536):
                if rewrite:  # websocket frames from a browser are masked: only headers match
                    data = data.replace(b"Host: " + own, b"Host: " + self.host)
                    data = data.replace(b"host: " + own, b"host: " + self.host)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def test_a_rewritten_host_header_does_not_redirect_the_staff_login(tmp_path):
    require_chromium()
    from playwright.sync_api import expect

    other = Listener()
    with dashboard_server(f"sqlite:///{tmp_path / 'server.db'}", staff_web=True) as server:
        port = int(server.url.rsplit(":", 1)[1])
        proxy = HostRewritingProxy(port, f"127.0.0.1:{other.port}")
        user = f"admin-{uuid.uuid4().hex[:6]}"
        server.add_user(user, "pw-admin-passphrase", role="admin")
        with staff_page(f"http://127.0.0.1:{proxy.port}/app/", user, "pw-admin-passphrase",
                        "failure-staff-host") as page:
            expect(page.get_by_text("Signed in as")).to_be_attached(timeout=60_000)
    received = b"".join(other.received)
    assert b"pw-admin-passphrase" not in received and received == b"", received[:200]
