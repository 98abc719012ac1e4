"""Every JSON route declares its answer (issue 17), and the declared models keep every field.

With a ``response_model`` FastAPI validates each answer and drops the keys the model does not
declare, in silence: a field added to an as_dict and not to its model would vanish from the
answer the staff client reads. So each route's own function is called on a real database (the
dashboard drive of dashboard_helpers, SQLite and PostgreSQL), and what it returns must come out
of its route's model unchanged, JSON text for JSON text (a dropped key, an int turned float, a
time written another way all fail); the same route over HTTP answers the same keys.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from types import SimpleNamespace

import httpx
import pytest
from dashboard_helpers import _entry, build_app, seed_drive
from fastapi.routing import APIRoute
from server_helpers import running_server

from sync.crypto import new_key
from sync.domain import utcnow
from sync.server.app import create_app
from sync.server.auth import staff_of_session
from sync.server.config import Settings
from sync.server.intake.imports import preview_upload
from sync.server.keys import ServerKeys
from sync.server.routes import dashboard, downloads, health, imports, intake
from sync.server.schemas import CheckInRequest
from sync.server.tokens import token_hash

PASSWORD = "correct horse battery staple"


def _routes(*modules) -> dict[tuple[str, str], APIRoute]:
    """(method, path) -> the route, of these modules' routers (paths with their prefix)."""
    return {(method, route.path): route for module in modules for route in module.router.routes
            if isinstance(route, APIRoute) for method in route.methods}


def _components_ref(schema: dict, components: dict) -> dict | None:
    """The component a response schema points to (directly or as a list's items)."""
    if schema.get("type") == "array":
        schema = schema.get("items", {})
    ref = schema.get("$ref", "")
    return components.get(ref.rsplit("/", 1)[-1]) if ref.startswith("#/components/schemas/") else None


def test_every_json_route_documents_its_answer(tmp_path):
    """A route answering JSON says its shape in the OpenAPI document: a model with fields, not
    ``{}`` (no model) nor a bare object (``-> dict``); files say their media type."""
    keys = ServerKeys(new_key(), new_key())
    app = create_app(Settings(db_url=f"sqlite:///{tmp_path / 'server.db'}", keys=keys),
                     staff_web=False)
    spec = app.openapi()
    components = spec["components"]["schemas"]
    seen, bad = 0, []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if not status.startswith("2"):
                    continue
                content = answer.get("content")
                if content is None:
                    assert status == "204", f"{method} {path}: {status} without a body type"
                    continue
                if "application/json" not in content:
                    assert set(content) == {"text/csv"}, f"{method} {path}: {set(content)}"
                    continue
                seen += 1
                model = _components_ref(content["application/json"]["schema"], components)
                if model is None or not model.get("properties"):
                    bad.append(f"{method.upper()} {path}")
    assert not bad, f"JSON answers without a response model: {bad}"
    assert seen >= 35  # every route of the API was looked at, not a few


@pytest.fixture
def scenario(db_url):
    apps = []

    def build(settings, *, staff_web=False):
        apps.append(build_app(settings, staff_web=staff_web))
        return apps[-1]

    with running_server(db_url, build_app=build) as server:
        drive = seed_drive(server)
        now = utcnow()
        with server.db.write() as s:
            # A burst (15 entries at once): the quality answer has a flag row.
            s.add_all(_entry(drive.campaign_id, drive.devices["Ben"], 10 + i, "B2", i + 1,
                             now - timedelta(minutes=2), now - timedelta(minutes=1))
                      for i in range(15))
        tag = uuid.uuid4().hex[:8]  # one PostgreSQL database per module: names unique per test
        tokens = {}
        for role in ("admin", "intake"):
            server.add_user(f"{role}-{tag}", PASSWORD, role, drive.campaign_id)
            tokens[role] = server.login(f"{role}-{tag}", PASSWORD)
        yield server, drive, apps[0], tokens


def test_answers_keep_every_field(scenario):
    server, drive, app, tokens = scenario
    svc, cid = app.state.services, drive.campaign_id
    admin, clerk = (staff_of_session(svc, token_hash(tokens[r])) for r in ("admin", "intake"))
    data = (b"Section #,Line #,First Name,Last Name,Residence Address,City,ZIP,Date Signed\n"
            b"C1,1,Maria,Lopez,12 Main St,Los Angeles,90012,3/14/2026\n"
            b"C1,2,Ana,Ruiz,14 Main St,Los Angeles,9001,3/14/2026\n")
    checkin = CheckInRequest(returned_by="Ana", signed_lines=9, skipped_lines="5",
                             declaration=["signature"])
    answers = {  # (method, path) -> (what the route's own code returns, the same over HTTP)
        ("GET", "/v1/dashboard/devices"): (
            dashboard.devices(admin, svc, campaign_id=cid, team=None, sort="team",
                              descending=False, stale_only=False), "/v1/dashboard/devices"),
        ("GET", "/v1/dashboard/progress"): (
            dashboard.progress(admin, svc, campaign_id=cid), "/v1/dashboard/progress"),
        ("GET", "/v1/dashboard/simulation"): (
            dashboard.simulation(admin, svc, campaign_id=cid, trials=50),
            "/v1/dashboard/simulation?trials=50"),
        ("GET", "/v1/dashboard/quality"): (
            dashboard.quality(admin, svc, campaign_id=cid), "/v1/dashboard/quality"),
        ("POST", "/v1/intake/sections/{serial}/checkin"): (
            intake.check_in(checkin, clerk, svc, serial="A2", campaign_id=None), None),
        ("GET", "/v1/intake/sections/{serial}"): (
            intake.get_section(clerk, svc, serial="A2", campaign_id=None),
            "/v1/intake/sections/A2"),
        ("GET", "/v1/intake/reconciliation"): (
            intake.reconciliation(clerk, svc, campaign_id=None), "/v1/intake/reconciliation"),
        ("POST", "/v1/intake/imports/preview"): (
            preview_upload(svc, cid, data, "people.csv", "", ""), None),
        ("POST", "/v1/downloads"): (
            downloads.new_link(downloads.LinkRequest(export="dashboard", campaign_id=cid),
                               admin, svc), None),
        ("GET", "/healthz"): (health.healthz(svc), "/healthz"),
        ("GET", "/readyz"): (health.readyz(SimpleNamespace(app=app), svc), "/readyz"),
    }
    # The nested rows are there, so their models are checked too.
    assert answers["GET", "/v1/dashboard/quality"][0]["flags"]
    section = answers["GET", "/v1/intake/sections/{serial}"][0]
    assert section["history"] and section["returned_at"] and section["declaration_missing"]
    assert answers["POST", "/v1/intake/imports/preview"][0]["rows"][1]["errors"]

    routes = _routes(dashboard, intake, imports, downloads, health)
    head = {"Authorization": f"Bearer {tokens['admin']}"}
    for (method, path), (raw, url) in answers.items():
        model = routes[method, path].response_model
        assert model is not None, f"{method} {path} declares no response model"
        wire = json.dumps(raw, sort_keys=True)
        kept = json.dumps(model.model_validate(raw).model_dump(mode="json"), sort_keys=True)
        assert kept == wire, f"{method} {path}: the model changes the answer"
        if url is not None:
            r = httpx.get(f"{server.url}{url}", headers=head, timeout=60)
            assert r.status_code == 200, (url, r.text)
            assert _keys(r.json()) == _keys(raw), f"{method} {path} over HTTP"
    # The POST routes over HTTP too (they write: another section, another link).
    r = httpx.post(f"{server.url}/v1/intake/sections/B1/checkin", headers=head, timeout=60,
                   json=checkin.model_dump(mode="json"))
    assert r.status_code == 201 and _keys(r.json()) == _keys(section), r.text
    r = httpx.post(f"{server.url}/v1/intake/imports/preview", headers=head, timeout=60,
                   files={"file": ("people.csv", data, "text/csv")})
    assert r.status_code == 200
    assert _keys(r.json()) == _keys(answers["POST", "/v1/intake/imports/preview"][0])
    r = httpx.post(f"{server.url}/v1/downloads", headers=head, timeout=60,
                   json={"export": "dashboard", "campaign_id": cid})
    assert r.status_code == 201 and set(r.json()) == {"url", "expires_in", "export"}


def _keys(value):
    """The key structure of a JSON answer: dicts' keys and their values', the distinct shapes
    of a list's rows (a list of numbers or strings has none)."""
    if isinstance(value, dict):
        return {k: _keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted({json.dumps(_keys(v), sort_keys=True) for v in value if isinstance(v, dict)})
    return None
