"""The central server served by uvicorn in a background thread of this process.

Used by `canvass demo` (server and app in one process) and by tests that need a real server over
HTTP. ``stop()`` then ``start()`` serves again on the same port, so a device sees the server go
away and come back at the same address.
"""

from __future__ import annotations

import socket
import threading
import time

import requests


def wait_healthy(url: str, *, path: str = "/healthz", limit: float = 30.0, alive=lambda: True) -> None:
    """Return once ``url`` + ``path`` answers 200; raise when ``limit`` seconds pass first or
    ``alive()`` turns false (the process meant to serve it has exited)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"the server at {url} stopped before it answered")
        try:
            if requests.get(url + path, timeout=1).status_code == 200:
                return
        except requests.exceptions.RequestException:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the server at {url} did not become ready within {limit:.0f} s")


class ServerThread:
    def __init__(self, app, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app, self.host, self.port = app, host, port
        self._server = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, *, ready_within: float = 30.0) -> ServerThread:
        import uvicorn

        # Bind here, not in uvicorn, so port 0 picks a free port we know before serving.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port, self._sock = sock.getsockname()[1], sock
        state = getattr(self.app, "state", None)
        if state is not None and not getattr(state, "own_url", ""):
            state.own_url = self.url  # the staff app's API address: this socket, not a Host header
        # proxy_headers off: the app itself decides whom to believe (Settings.trusted_proxies).
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off",
                                proxy_headers=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name="canvass-server", daemon=True)
        self._thread.start()
        self.wait_ready(ready_within)
        return self

    def wait_ready(self, limit: float = 30.0) -> None:
        wait_healthy(self.url, limit=limit)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(30)
            self._sock.close()
            self._server = self._thread = self._sock = None
            # No lifespan here: stop the job worker a job may have started (jobs.py).
            svc = getattr(getattr(self.app, "state", None), "services", None)
            if getattr(svc, "jobs", None) is not None:
                svc.jobs.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
