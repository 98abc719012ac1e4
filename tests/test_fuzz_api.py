"""Schemathesis against the published OpenAPI schema of the sync API (devices, entries, feeds,
login, review, health), on a real server over HTTP on 127.0.0.1: no 500, every answer (errors
included, as RFC 9457 problems) matches the schema, and no refused request stores anything.
Bounded: a few examples per operation, well under two minutes."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from server_helpers import running_server
from sqlalchemy import func, select

from sync.server.models import BatchRecord, Device, Entry, StaffSession

SYNC_API = r"^/(v1/(devices|entries|outcomes|dedup-index|doorstep-filter|auth|review)|healthz)"


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    db = tmp_path_factory.mktemp("fuzz") / "server.db"
    with running_server(f"sqlite:///{db}") as server:
        cid = server.create_campaign()
        server.device_token = server.enroll_device(cid).device_token
        yield server


@pytest.fixture(scope="module")
def api_schema(fuzz_server):
    return schemathesis.openapi.from_url(f"{fuzz_server.url}/openapi.json").include(path_regex=SYNC_API)


schema = schemathesis.pytest.from_fixture("api_schema")


def _stored(server) -> tuple[int, ...]:
    with server.db.read() as s:
        return tuple(s.scalar(select(func.count()).select_from(m))
                     for m in (Entry, BatchRecord, Device, StaffSession))


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_sync_api_fuzz(case, fuzz_server):
    before = _stored(fuzz_server)
    headers = dict(case.headers or {})
    headers.setdefault("Authorization", f"Bearer {fuzz_server.device_token}")
    response = case.call(headers=headers)
    case.validate_response(response, checks=[not_a_server_error, status_code_conformance,
                                             content_type_conformance, response_schema_conformance])
    assert response.status_code < 500
    if response.status_code >= 400:
        assert _stored(fuzz_server) == before, "a refused request stored something"
