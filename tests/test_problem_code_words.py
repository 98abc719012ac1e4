"""A refusal's problem code reaches a message only when it is a machine word: the device's
enrollment, its sync client and the office's intake client read it through the one
sync.client.problem_code_of, against a real HTTP server on 127.0.0.1 that answers anything."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from canvass.intake.state import IntakeClient, IntakeError
from canvass.store import DeviceStore, KdfParams
from sync.enroll import enroll
from sync.errors import EnrollmentFailed

# What a hostile or broken server might put where the code goes: a signer's name and ZIP.
SIGNER_TEXT = "Maria Garcia 90033"


class _Refuser(BaseHTTPRequestHandler):
    body: bytes = b""

    def _refuse(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.send_response(400)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    do_GET = do_POST = _refuse

    def log_message(self, *_args) -> None:  # the test's output, not the server's
        pass


@pytest.fixture
def refuser():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refuser)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def answering(body: object) -> str:
        server.body = json.dumps(body).encode()
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield answering
    server.shutdown()
    server.server_close()


def _problem(code: object) -> dict:
    return {"title": "Bad Request", "status": 400, "code": code}


def test_enrollment_keeps_a_code_word_and_drops_anything_else(refuser, tmp_path):
    store = DeviceStore.create(tmp_path / "device.db", "246813", kdf=KdfParams(64, 1, 1))
    try:
        with pytest.raises(EnrollmentFailed) as caught:
            enroll(refuser(_problem("invalid_enroll_code")), "code", "tablet", store)
        assert caught.value.code == "invalid_enroll_code"
        assert str(caught.value) == "enrollment refused (400, invalid_enroll_code)"

        with pytest.raises(EnrollmentFailed) as caught:
            enroll(refuser(_problem(SIGNER_TEXT)), "code", "tablet", store)
        assert caught.value.code is None and caught.value.status == 400
        assert str(caught.value) == "enrollment refused (400)"
    finally:
        store.close()


@pytest.mark.parametrize("body", [_problem(SIGNER_TEXT), _problem(7), [SIGNER_TEXT], SIGNER_TEXT])
def test_the_intake_client_says_status_alone_for_anything_but_a_code_word(refuser, body):
    with pytest.raises(IntakeError) as failed:
        IntakeClient(refuser(body), token="t").request("GET", "/v1/review/queue")
    assert str(failed.value) == "The server refused the request (400)."
    assert failed.value.status == 400


def test_the_intake_client_names_a_code_word(refuser):
    with pytest.raises(IntakeError) as failed:
        IntakeClient(refuser(_problem("not_found")), token="t").request("GET", "/v1/review/queue")
    assert str(failed.value) == "The server refused the request (400 not_found)."
