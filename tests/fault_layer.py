"""A fault layer in the real request path of the sync client.

``FaultAdapter`` is a requests transport adapter that wraps the real ``HTTPAdapter``: requests
that pass it go to the real server over TCP on 127.0.0.1. It can be scripted (``plan`` a queue
of faults for the next matching requests) or random (seeded rates), and it counts what it did.

Faults and what the server sees:

- DROP_REQUEST: the request never leaves (ConnectionError); the server sees nothing.
- CUT_REQUEST: headers and half the body are written to a real socket, then it is closed;
  the server sees a broken request and must not act on it (ConnectionError on the client).
- DROP_RESPONSE: the request is really sent and the server commits, then the answer is thrown
  away (ConnectionError) -- the "did it arrive?" case idempotency exists for.
- READ_TIMEOUT: like DROP_RESPONSE but surfaces as requests' ReadTimeout.
- CONNECT_TIMEOUT: nothing is sent; ConnectTimeout.
- HTTP_500 / HTTP_503 / HTTP_429: a proxy answers instead of the server (the server sees
  nothing); 503 and 429 carry ``Retry-After: <retry_after>``.
- HTTP_502_AFTER: the server commits, then a proxy replaces the answer with 502.
- CUT_BODY: the server commits and answers; the response body is cut half-way
  (ChunkedEncodingError when requests reads it).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import random
import signal
import socket
import subprocess
import threading
from collections import Counter, deque
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from server_helpers import free_port, spawn_server, wait_healthy
from urllib3.exceptions import ProtocolError as Urllib3ProtocolError


class Fault(StrEnum):
    DROP_REQUEST = "drop_request"
    CUT_REQUEST = "cut_request"
    DROP_RESPONSE = "drop_response"
    READ_TIMEOUT = "read_timeout"
    CONNECT_TIMEOUT = "connect_timeout"
    HTTP_500 = "http_500"
    HTTP_503 = "http_503"
    HTTP_429 = "http_429"
    HTTP_502_AFTER = "http_502_after"
    CUT_BODY = "cut_body"


_SYNTHETIC = {Fault.HTTP_500: 500, Fault.HTTP_503: 503, Fault.HTTP_429: 429}


class _CutStream(io.RawIOBase):
    """A response body that delivers ``data`` and then breaks like a dropped connection."""

    def __init__(self, data: bytes) -> None:
        self._buf = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = self._buf.readinto(b)
        if n == 0:
            raise Urllib3ProtocolError("Connection broken: IncompleteRead (fault layer)")
        return n


class _CutRaw:
    """Enough of urllib3's HTTPResponse for requests' ``iter_content``."""

    def __init__(self, data: bytes) -> None:
        self._stream = _CutStream(data)

    def stream(self, chunk_size: int, decode_content: bool = True):
        while True:
            chunk = self._stream.read(chunk_size)
            if not chunk:
                return
            yield chunk

    def read(self, *args, **kwargs) -> bytes:
        return self._stream.read()

    def close(self) -> None:
        pass

    def release_conn(self) -> None:
        pass


class FaultAdapter(HTTPAdapter):
    """Wraps the real HTTPAdapter. ``match(request)`` selects which requests faults apply to
    (default: all). ``plan`` is consumed first; then each request independently gets
    DROP_REQUEST with ``drop_request_rate`` and, if sent, DROP_RESPONSE with ``drop_response_rate``.
    """

    def __init__(self, *, plan: list[Fault | None] | None = None, seed: int | None = None,
                 drop_request_rate: float = 0.0, drop_response_rate: float = 0.0,
                 retry_after: int = 7, match: Callable[[requests.PreparedRequest], bool] | None = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.plan: deque[Fault | None] = deque(plan or ())
        self.rng = random.Random(seed)
        self.drop_request_rate = drop_request_rate
        self.drop_response_rate = drop_response_rate
        self.retry_after = retry_after
        self.match = match
        self.counts: Counter[str] = Counter()  # fault name (or "passed") -> how often
        self.sent_to_server = 0  # requests the server really received in full
        self.enabled = True
        self._lock = threading.Lock()

    # scripted faults -----------------------------------------------------------------------

    def add(self, *faults: Fault | None) -> FaultAdapter:
        self.plan.extend(faults)
        return self

    def stop_faults(self) -> None:
        self.enabled = False
        self.plan.clear()

    def _choose(self, request: requests.PreparedRequest) -> tuple[Fault | None, bool]:
        """(fault before/instead of sending, drop the response after sending?)"""
        if not self.enabled or (self.match is not None and not self.match(request)):
            return None, False
        with self._lock:
            if self.plan:
                return self.plan.popleft(), False
            if self.drop_request_rate and self.rng.random() < self.drop_request_rate:
                return Fault.DROP_REQUEST, False
            drop_after = bool(self.drop_response_rate and self.rng.random() < self.drop_response_rate)
            return None, drop_after

    # the transport ---------------------------------------------------------------------------

    def send(self, request: requests.PreparedRequest, **kwargs) -> requests.Response:
        fault, drop_after = self._choose(request)
        if drop_after:
            fault = Fault.DROP_RESPONSE
        self.counts[str(fault) if fault else "passed"] += 1
        if fault is Fault.DROP_REQUEST:
            raise requests.exceptions.ConnectionError("fault layer: request dropped before sending")
        if fault is Fault.CONNECT_TIMEOUT:
            raise requests.exceptions.ConnectTimeout("fault layer: connect timed out")
        if fault is Fault.CUT_REQUEST:
            self._send_half(request)
            raise requests.exceptions.ConnectionError("fault layer: connection cut mid-request")
        if fault in _SYNTHETIC:
            return self._synthetic(request, _SYNTHETIC[fault])
        response = super().send(request, **kwargs)
        with self._lock:
            self.sent_to_server += 1
        if fault is None:
            return response
        body = response.content  # the server has answered: it committed whatever it did
        response.close()
        if fault is Fault.DROP_RESPONSE:
            raise requests.exceptions.ConnectionError("fault layer: response dropped after answer")
        if fault is Fault.READ_TIMEOUT:
            raise requests.exceptions.ReadTimeout("fault layer: read timed out after the server answered")
        if fault is Fault.HTTP_502_AFTER:
            return self._synthetic(request, 502)
        if fault is Fault.CUT_BODY:
            cut = requests.Response()
            cut.status_code = response.status_code
            cut.headers = CaseInsensitiveDict(response.headers)
            cut.raw = _CutRaw(body[: max(1, len(body) // 2)])
            cut.url = response.url
            cut.request = request
            cut.reason = response.reason
            cut.connection = self
            return cut
        raise AssertionError(f"unhandled fault {fault}")

    def _synthetic(self, request: requests.PreparedRequest, status: int) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        headers = {"Content-Type": "text/html"}
        if status in (429, 503):
            headers["Retry-After"] = str(self.retry_after)
        response.headers = CaseInsensitiveDict(headers)
        response._content = f"<html>{status} from a proxy</html>".encode()
        response.url = request.url
        response.request = request
        response.reason = "fault layer"
        response.connection = self
        return response

    @staticmethod
    def _send_half(request: requests.PreparedRequest) -> None:
        parts = urlsplit(request.url)
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        head = [f"{request.method} {path} HTTP/1.1", f"Host: {parts.netloc}"]
        for name, value in request.headers.items():
            if name.lower() not in {"host", "content-length"}:
                head.append(f"{name}: {value}")
        head.append(f"Content-Length: {len(body)}")
        data = ("\r\n".join(head) + "\r\n\r\n").encode() + body[: len(body) // 2]
        with socket.create_connection((parts.hostname, parts.port or 80), timeout=5) as sock:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_RDWR)


def faulty_session(adapter: FaultAdapter) -> requests.Session:
    session = requests.Session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def is_batch_post(request: requests.PreparedRequest) -> bool:
    return request.method == "POST" and urlsplit(request.url).path.endswith("/v1/entries/batch")


# ==============================================================================================
# The server under test: a real sync.server app on 127.0.0.1, in a thread or in a subprocess
# (so it can be SIGKILLed), on a SQLite file that survives restarts, always on the same port.

REPO_ROOT = Path(__file__).resolve().parent.parent


class ServerUnderTest:
    """A real server on a SQLite file. ``start()`` runs uvicorn in a thread; ``start_process()``
    runs it as a subprocess that ``kill()`` SIGKILLs. Either restarts on the same port."""

    def __init__(self, workdir: Path, *, port: int | None = None) -> None:
        from sync.server.admin import create_campaign
        from sync.server.config import RateLimits, Settings
        from sync.server.db import Database
        from sync.server.migrate import upgrade_head

        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.db_url = f"sqlite:///{self.workdir / 'server.db'}"
        generous = RateLimits(device_capacity=1e9, device_per_second=1e9,
                              login_capacity=1e9, login_per_second=1e9)
        self.settings = Settings.load(self.db_url, rate_limits=generous)
        upgrade_head(self.db_url)
        self.db = Database(self.db_url)
        self.campaign_id = create_campaign(self.db, self.settings.keys, name="Test drive", goal=10_000,
                                           deadline="2030-12-31")
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = None  # a ServerThread while serving in this process
        self._process: subprocess.Popen | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> ServerUnderTest:
        from sync.server.app import create_app
        from sync.server.threaded import ServerThread

        self._server = ServerThread(create_app(self.settings, staff_web=False), port=self.port).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._process is not None:
            self.kill()

    def restart(self) -> None:
        self.stop()
        self.start()

    def start_process(self) -> ServerUnderTest:
        self._process = spawn_server(self.db_url, self.port, self.settings.to_env(),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.wait_ready()
        return self

    def kill(self) -> None:
        """SIGKILL the server subprocess (no clean shutdown) and reap it."""
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._process.pid, signal.SIGKILL)
            self._process.wait(30)
            if self._process.stderr:
                self._process.stderr.close()
            self._process = None

    def wait_ready(self, limit: float = 30.0) -> None:
        try:
            wait_healthy(self.url, self._process, limit=limit)
        except RuntimeError:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError("server process exited: "
                                   + self._process.stderr.read().decode()[-2000:]) from None
            raise

    def close(self) -> None:
        self.stop()
        self.db.dispose()

    # -- admin and inspection (through the server's own database) -----------------------------

    def enroll_code(self, circulator: str = "Circulator One") -> str:
        from sync.server.admin import create_enroll_code

        return create_enroll_code(self.db, self.settings.keys, campaign_id=self.campaign_id,
                                  circulator=circulator).code

    def revoke(self, device_id: str) -> None:
        from sync.server.admin import revoke_device

        revoke_device(self.db, device_id)

    def entry_rows(self) -> list[tuple[str, str, int, str]]:
        """(entry_id, device_id, device_seq, status) of every entry the server holds."""
        from sqlalchemy import select

        from sync.server.models import Entry

        with self.db.read() as s:
            return [tuple(r) for r in s.execute(
                select(Entry.id, Entry.device_id, Entry.device_seq, Entry.status))]

    def entry_count(self) -> int:
        from sqlalchemy import func, select

        from sync.server.models import Entry

        with self.db.read() as s:
            return s.scalar(select(func.count()).select_from(Entry))


# ==============================================================================================
# Devices for sync tests: a real DeviceStore (cheap KDF) enrolled with a ServerUnderTest.

TEST_PIN = "246813"
_LETTERS = "bcdfghjklmnprstvwz"
_VOWELS = "aeiou"


def pronounceable(n: int, syllables: int = 4) -> str:
    """A distinct letters-only name for each n ("Bapeko..."): validation accepts it."""
    out = []
    for _ in range(syllables):
        n, c = divmod(n, len(_LETTERS))
        n, v = divmod(n, len(_VOWELS))
        out.append(_LETTERS[c] + _VOWELS[v])
    return "".join(out).capitalize()


def valid_entry(n: int, *, section: str, line: int, **changes):
    from sync.domain import SignerEntry

    values = dict(section=section, line=line, first_name=pronounceable(n * 7 + 3),
                  last_name=pronounceable(n * 13 + 5, 5), street=f"{100 + n} {pronounceable(n, 3)} St",
                  city="Los Angeles", zip="90012")
    values.update(changes)
    return SignerEntry(**values)


def new_device(workdir: Path, server: ServerUnderTest, *, name: str = "device",
               session: requests.Session | None = None):
    """A fresh store at workdir/<name>.db, enrolled with the server, one section open."""
    from canvass.store import DeviceStore, KdfParams
    from sync.enroll import enroll

    path = Path(workdir) / f"{name}.db"
    store = DeviceStore.create(path, TEST_PIN, kdf=KdfParams(memory_kib=64, time_cost=1, parallelism=1))
    enroll(server.url, server.enroll_code(), name, store, session=session)
    return store


def save_valid(store, count: int, *, start: int = 0, section: str | None = None) -> list:
    """Save ``count`` valid entries on successive lines of successive sections (at most 900
    lines per section). Returns the saved entries (device_seq assigned)."""
    saved = []
    device = store.get_setting("device_id").replace("-", "")  # uuid7: the tail is random
    for i in range(count):
        n = start + i
        serial = section or f"S{device[-6:]}-{n // 900}"
        if store.get_section(serial) is None:
            store.open_section(serial, "Circulator One")
        seed = int(hashlib.sha256(f"{device}:{n}".encode()).hexdigest()[:10], 16)
        saved.append(store.save_entry(valid_entry(seed, section=serial, line=store.next_line(serial))))
    return saved


@contextlib.contextmanager
def fast_dir(prefix: str = "canvass-test-"):
    """A scratch directory on tmpfs (/dev/shm) when there is one: real SQLite files whose
    fsyncs cost nothing, for the big fault tests. Removed afterwards."""
    import shutil
    import tempfile

    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
