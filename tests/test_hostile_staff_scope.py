"""Every staff route x every role x own campaign / other campaign / other team (issue 16,
High 2 and Low 13), over HTTP on a real server (SQLite and PostgreSQL).

The world: campaign B is created first (so it is "the first campaign", the old dashboard's
default), campaign A second. A has a red-team device and a blue-team device, B one device;
each wrote one entry in a section of its own (R100, U100, B100) and one import job exists per
campaign. The attackers are A's staff: a campaign-scoped admin, an intake clerk and a red
team lead; an admin of every campaign is the control. A route answers a role that may not use
it with 403; a scoped caller naming campaign B (or B's object) gets 403/404; a request that
names no campaign reads the caller's own; a team lead never sees the blue team's section
lines, reconciliation or devices. No answer to A's staff mentions B's or (for the team lead)
the blue team's markers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import server_helpers
from sqlalchemy import update

from sync.server.intake.imports import create_job
from sync.server.models import Entry

PASSWORD = "correct horse battery staple"
CSV = ("Section,Line,First Name,Last Name,Street,City,ZIP\n"
       "I100,1,Perpetua,Gallant,88 North Spring Street,Los Angeles,90012\n")
ROLES = ("admin_all", "admin", "intake", "team_lead")
TARGETS = ("own", "other_campaign", "other_team")
WITHDRAWAL = {"signer": {"first_name": "Nemo", "last_name": "Outis", "street": "1 Nowhere Road",
                         "zip": "90012"},
              "received_at": "2026-01-05T12:00:00+00:00", "received_via": "mail"}


@dataclass
class World:
    url: str
    a: str
    b: str
    headers: dict[str, dict[str, str]]
    job: dict[str, str]  # campaign id -> an import job of it
    doubt: dict[str, str]  # campaign id -> an entry awaiting review (decided by the tests)
    queued: list[str]  # A's and B's entries that stay in the review queue
    withdrawal: dict[str, str]  # campaign id -> a withdrawal request (matching no one)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory) -> Iterator[World]:
    if request.param == "sqlite":
        db_url = f"sqlite:///{tmp_path_factory.mktemp('scope') / 'server.db'}"
    else:
        db_url = request.getfixturevalue("pg_url")
    with server_helpers.running_server(db_url) as server:
        b = server.create_campaign(name="Campaign B", deadline="2030-12-31")
        a = server.create_campaign(name="Campaign A", deadline="2030-12-31")
        tag = a[-6:]
        users = {"admin_all": ("admin", None, ""), "admin": ("admin", a, ""),
                 "intake": ("intake", a, ""), "team_lead": ("team_lead", a, "red")}
        headers = {}
        for name, (role, cid, team) in users.items():
            server.add_user(f"{name}-{tag}", PASSWORD, role, cid, team=team)
            headers[name] = {"Authorization": "Bearer " + server.login(f"{name}-{tag}", PASSWORD)}
        doubt, queued = {}, []
        for cid, device_name, team, section in ((a, "phone-red", "red", "R100"),
                                                (a, "phone-blue", "blue", "U100"),
                                                (b, "phone-bee", "", "B100")):
            enrolled = server.enroll_device(cid, device_name=device_name, team=team)
            entries = [server_helpers.signer(section=section, line=n, device_seq=n,
                                             first="Wilhelmina", last=f"Zed{section}{n}",
                                             street=f"{n} North Main Street") for n in (1, 2)]
            body = server_helpers.batch_body(entries)
            r = httpx.post(f"{server.url}/v1/entries/batch", json=body,
                           headers=server_helpers.device_headers(enrolled.device_token, body))
            assert r.status_code == 200, r.text
            if team != "blue":  # line 1 is decided by the tests, line 2 stays in the queue
                doubt[cid] = entries[0].entry_id
                queued.append(entries[1].entry_id)
        with server.db.write() as s:  # two entries of each campaign await review
            s.execute(update(Entry).where(Entry.id.in_([*doubt.values(), *queued]))
                      .values(status="possible_duplicate"))
        svc_db = server.db

        class _Svc:  # create_job needs only .db
            db = svc_db

        job = {cid: create_job(_Svc, cid, "test", "csv", 1) for cid in (a, b)}
        withdrawal = {}
        for cid in (a, b):
            r = httpx.post(f"{server.url}/v1/withdrawals", params={"campaign_id": cid},
                           headers=headers["admin_all"], json=WITHDRAWAL)
            assert r.status_code == 201, r.text
            withdrawal[cid] = r.json()["id"]
        yield World(server.url, a, b, headers, job, doubt, queued, withdrawal)


# Each route: method, path (with {serial}, {job}, {entry}), roles that may use it, body kind.
ROUTES = {
    "dashboard.devices": ("GET", "/v1/dashboard/devices", {"admin", "team_lead"}, None),
    "dashboard.progress": ("GET", "/v1/dashboard/progress", {"admin", "team_lead"}, None),
    "dashboard.simulation": ("GET", "/v1/dashboard/simulation", {"admin", "team_lead"}, None),
    "dashboard.quality": ("GET", "/v1/dashboard/quality", {"admin", "team_lead"}, None),
    "dashboard.export": ("GET", "/v1/dashboard/export.csv", {"admin", "team_lead"}, None),
    "intake.section": ("GET", "/v1/intake/sections/{serial}", {"admin", "intake", "team_lead"}, None),
    "intake.reconciliation": ("GET", "/v1/intake/reconciliation", {"admin", "intake", "team_lead"},
                              None),
    "intake.issue": ("POST", "/v1/intake/sections/issue", {"admin", "intake"}, "issue"),
    "intake.checkin": ("POST", "/v1/intake/sections/{serial}/checkin", {"admin", "intake"},
                       "checkin"),
    "intake.lines": ("POST", "/v1/intake/lines", {"admin", "intake"}, "line"),
    "intake.preview": ("POST", "/v1/intake/imports/preview", {"admin", "intake"}, "file"),
    "intake.import": ("POST", "/v1/intake/imports", {"admin", "intake"}, "file"),
    "intake.job": ("GET", "/v1/intake/imports/{job}", {"admin", "intake"}, None),
    "intake.rejections": ("GET", "/v1/intake/imports/{job}/rejections.csv", {"admin", "intake"},
                          None),
    "intake.filing": ("GET", "/v1/intake/export/filing.csv", {"admin"}, None),
    "intake.retention": ("GET", "/v1/intake/retention", {"admin"}, None),
    "intake.retention_set": ("PUT", "/v1/intake/retention", {"admin"}, "retention"),
    "intake.purge": ("POST", "/v1/intake/retention/purge", {"admin"}, None),
    "review.queue": ("GET", "/v1/review/queue", {"admin", "intake"}, None),
    "review.decision": ("POST", "/v1/review/{entry}/decision", {"admin", "intake"}, "decision"),
    "dashboard.filing": ("GET", "/v1/dashboard/filing", {"admin", "team_lead"}, None),
    "filing.check": ("GET", "/v1/filing/check", {"admin", "intake"}, None),
    "withdrawals.list": ("GET", "/v1/withdrawals", {"admin", "intake"}, None),
    "withdrawals.record": ("POST", "/v1/withdrawals", {"admin", "intake"}, "withdrawal"),
    "withdrawals.get": ("GET", "/v1/withdrawals/{withdrawal}", {"admin", "intake"}, None),
    "withdrawals.rematch": ("POST", "/v1/withdrawals/{withdrawal}/rematch", {"admin", "intake"},
                            None),
    "withdrawals.decision": ("POST", "/v1/withdrawals/{withdrawal}/decision", {"admin", "intake"},
                             "not_a_match"),
}
# Routes whose answer depends on a team (a team lead sees only their own).
TEAM_SCOPED = {"dashboard.devices", "dashboard.export", "dashboard.quality", "intake.section",
               "intake.reconciliation", "dashboard.filing"}
# Answers that are "allowed, but not now" (a running job, a purge not due, a decided entry).
OWN_REFUSALS = {"intake.rejections": {409}, "intake.purge": {409}, "review.decision": {200, 409},
                "withdrawals.rematch": {200, 409}, "withdrawals.decision": {200, 409}}


def _request(world: World, route: str, role: str, target: str) -> httpx.Response:
    method, path, _roles, kind = ROUTES[route]
    cid = world.b if target == "other_campaign" else world.a
    serial = {"own": "R100", "other_team": "U100", "other_campaign": "B100"}[target]
    path = path.format(serial=serial, job=world.job[cid], entry=world.doubt[cid],
                       withdrawal=world.withdrawal[cid])
    params = {}
    if target == "other_campaign" or role == "admin_all":
        params["campaign_id"] = cid  # scoped callers name no campaign for their own
    kw: dict = {}
    if kind == "issue":
        kw["json"] = {"serials": ["Z900"]}
    elif kind == "checkin":
        kw["json"] = {"returned_by": "Circulator", "signed_lines": 1}
    elif kind == "line":
        kw["json"] = {"section": "K100", "line": 1, "first_name": "Leopold", "last_name": "Quill",
                      "street": "5 East First Street", "city": "Los Angeles", "zip": "90012"}
    elif kind == "file":
        kw["files"] = {"file": ("rows.csv", CSV.encode(), "text/csv")}
        kw["data"] = {"wait": "true"}
    elif kind == "retention":
        kw["json"] = {"retention_days": 90}
    elif kind == "decision":
        kw["json"] = {"decision": "not_duplicate"}
    elif kind == "withdrawal":
        kw["json"] = WITHDRAWAL
    elif kind == "not_a_match":
        kw["json"] = {"decision": "not_a_match"}
    return httpx.request(method, f"{world.url}{path}", params=params,
                         headers=world.headers[role], timeout=60, **kw)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_staff_route_scope(world, route, role, target):
    r = _request(world, route, role, target)
    allowed = ROUTES[route][2]
    text = r.text
    if ("admin" if role == "admin_all" else role) not in allowed:
        assert r.status_code == 403, (r.status_code, text)
        return
    if target == "other_campaign" and role != "admin_all":
        assert r.status_code in (403, 404), (r.status_code, text)
    elif target == "other_team" and role == "team_lead" and route == "intake.section":
        assert r.status_code == 404, (r.status_code, text)
    elif route in OWN_REFUSALS:
        assert r.status_code in OWN_REFUSALS[route] | {200, 201, 202}, (r.status_code, text)
    else:
        assert r.status_code in (200, 201, 202), (r.status_code, text)
    if role != "admin_all":
        assert world.b not in text and "B100" not in text and "phone-bee" not in text, text
    if route == "review.queue" and r.status_code == 200:  # the queue is not empty by accident
        assert world.queued[1 if target == "other_campaign" else 0] in text, text
    if role == "team_lead" and route in TEAM_SCOPED:
        assert "U100" not in text and "phone-blue" not in text, text
    answer = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
    if r.status_code == 200 and isinstance(answer, dict) and "campaign" in answer:
        # A request that names no campaign reads the caller's own (not "the first one").
        assert answer["campaign"]["id"] == (world.b if target == "other_campaign" else world.a)
