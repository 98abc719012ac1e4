"""The problem catalogue (sync/problem_codes.py) is the one list of problem codes: each code and
number once, every problem the server raises taken from it (no code written inline), the wire
answering with the catalogue's code and status, and docs/PROBLEMS.md listing the same table.

    python tests/test_problem_catalogue.py     # rewrites the table in docs/PROBLEMS.md
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":  # run as a script: the repository on the path, as pytest has it
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


from sync import problem_codes  # noqa: E402
from sync.problem_codes import (  # noqa: E402
    BY_CODE,
    CATALOGUE,
    HTTP_ERROR,
    INDEX_FEED_RETIRED,
    INVALID_ENROLL_CODE,
    MALFORMED_JSON,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    NOTHING_TO_UNDO,
    UNAUTHORIZED,
    ProblemKind,
)

DOCS = ROOT / "docs" / "PROBLEMS.md"
BEGIN = "<!-- catalogue: generated from sync/problem_codes.py (python tests/test_problem_catalogue.py) -->"
END = "<!-- end of catalogue -->"
# The calls that answer with a problem: their first argument is a kind of the catalogue.
RAISERS = {"ProblemError", "problem_response", "UndoRefused"}
KIND_NAMES = {name for name, value in vars(problem_codes).items() if isinstance(value, ProblemKind)}


def _sources() -> list[Path]:
    return sorted(p for p in (ROOT / "sync").rglob("*.py") if p.name != "problem_codes.py")


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _raising_calls():
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Call) and _called_name(node) in RAISERS:
                yield path.relative_to(ROOT), node


# ---- the catalogue itself

def test_numbers_and_codes_are_unique_and_numbers_group_by_status():
    numbers = [kind.number for kind in CATALOGUE]
    codes = [kind.code for kind in CATALOGUE]
    assert len(set(numbers)) == len(numbers), "a number given out twice"
    assert len(set(codes)) == len(codes), "a code defined twice"
    assert len(CATALOGUE) == len(KIND_NAMES) == len(BY_CODE)
    for kind in CATALOGUE:
        if kind.status is None:
            assert kind.number < 100, kind
        else:
            assert 400 <= kind.status < 600 and kind.number % 100 >= 1, kind
    # Listed by status, then serial: a new problem goes at the end of its status's group.
    assert [k.number for k in CATALOGUE if k.status] == sorted(k.number for k in CATALOGUE if k.status)


def test_every_code_is_a_word_the_clients_read():
    # The clients keep a problem's code only when it is a short machine word (the device's
    # sync and enrollment and the office's intake client alike: sync/client.py::problem_code_of);
    # a code they would drop could not be acted on.
    for kind in CATALOGUE:
        assert re.fullmatch(r"[a-z][a-z0-9_]{0,63}", kind.code), kind
        assert not kind.detail or kind.detail.endswith("."), kind


def test_every_status_has_its_title():
    from sync.server.problems import _TITLES

    assert {kind.status for kind in CATALOGUE} - {None} <= set(_TITLES)


# ---- the source raises nothing outside it

def test_no_problem_is_raised_with_an_inline_code():
    calls = list(_raising_calls())
    assert len(calls) > 60, "the scan found too few problem sites to be looking at the server"
    inline = []
    for path, call in calls:
        first = call.args[0] if call.args else None
        literals = [a for a in [*call.args, *(k.value for k in call.keywords)]
                    if isinstance(a, ast.Constant) and (isinstance(a.value, int) or a.value in BY_CODE)]
        if first is None or isinstance(first, ast.Constant) or literals:
            inline.append(f"{path}:{call.lineno}")
        elif isinstance(first, ast.Name) and first.id.isupper() and first.id not in KIND_NAMES:
            inline.append(f"{path}:{call.lineno} ({first.id} is not in the catalogue)")
    assert not inline, inline


def test_no_problem_body_is_built_past_problem_response():
    # protocol.Problem(code=...) is built in one place, problem_response, from a catalogue kind.
    built = [path.relative_to(ROOT).as_posix() for path in _sources()
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Call) and _called_name(node) == "Problem"
             and any(k.arg == "code" for k in node.keywords)]
    assert built == ["sync/server/problems.py"], built


def test_every_kind_of_the_catalogue_is_raised_somewhere():
    # The catalogue is what the server can answer, no more: a kind no code uses is stale.
    used = set()
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Name) and node.id in KIND_NAMES:
                used.add(node.id)
            elif isinstance(node, ast.alias) and node.name in KIND_NAMES:
                used.add(node.name)
    assert KIND_NAMES - used == set()


def test_problem_error_takes_the_kinds_status_code_and_detail():
    from sync.server.problems import ProblemError, problem_response

    plain = ProblemError(UNAUTHORIZED)
    assert (plain.status, plain.code, plain.detail) == (401, "unauthorized", UNAUTHORIZED.detail)
    assert ProblemError(NOT_FOUND, "No such campaign.").detail == "No such campaign."
    assert ProblemError(UNAUTHORIZED, "").detail == ""  # a site may say nothing
    with pytest.raises(ValueError):
        ProblemError(HTTP_ERROR)  # it has no status of its own
    answer = problem_response(HTTP_ERROR, status=415)
    assert answer.status_code == 415
    assert json.loads(answer.body) == {"type": "about:blank", "title": "Unsupported Media Type",
                                       "status": 415, "detail": "", "code": "http_error"}
    with pytest.raises(ValueError):
        problem_response(NOT_FOUND, status=410)


# ---- the wire answers with the catalogue

def _assert_problem(r: httpx.Response, kind: ProblemKind, detail: str | None = None) -> None:
    assert r.status_code == kind.status, r.text[:300]
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert (body["status"], body["code"]) == (kind.status, kind.code)
    assert body["detail"] == (kind.detail if detail is None else detail)


def test_the_server_answers_with_the_catalogues_code_and_status(live_server):
    url = live_server.url
    cid = live_server.create_campaign()
    device = {"Authorization": f"Bearer {live_server.enroll_device(cid).device_token}"}
    intake = live_server.staff_headers(cid, roles=("intake",))["intake"]

    unauthorized = httpx.get(f"{url}/v1/outcomes")
    _assert_problem(unauthorized, UNAUTHORIZED)
    assert unauthorized.headers["www-authenticate"] == "Bearer"
    _assert_problem(httpx.post(f"{url}/v1/devices/enroll",
                               json={"code": "ZZZZ-9999", "device_name": "x"}), INVALID_ENROLL_CODE)
    _assert_problem(httpx.get(f"{url}/v1/dedup-index", headers=device), INDEX_FEED_RETIRED)
    _assert_problem(httpx.post(f"{url}/v1/review/undo", headers=intake), NOTHING_TO_UNDO)
    _assert_problem(httpx.post(f"{url}/v1/entries/batch", content=b"{not json", headers=device),
                    MALFORMED_JSON, "The body is not valid JSON.")
    _assert_problem(httpx.get(f"{url}/v1/nothing-here"), NOT_FOUND, "")
    _assert_problem(httpx.delete(f"{url}/healthz"), METHOD_NOT_ALLOWED, "")


# ---- the docs list the same catalogue

def catalogue_table() -> str:
    rows = ["| Number | Status | Code | Detail (when the site names none; -: the site's own) |",
            "|---|---|---|---|"]
    for kind in CATALOGUE:
        status = str(kind.status) if kind.status else "the HTTP error's"
        detail = kind.detail.replace("|", "\\|") if kind.detail else "-"
        rows.append(f"| {kind.number} | {status} | `{kind.code}` | {detail} |")
    return "\n".join([BEGIN, *rows, END])


def _documented() -> str:
    text = DOCS.read_text(encoding="utf-8")
    return text[text.index(BEGIN):text.index(END) + len(END)]


def test_the_docs_list_the_catalogue():
    assert _documented() == catalogue_table(), "run: python tests/test_problem_catalogue.py"


if __name__ == "__main__":
    text = DOCS.read_text(encoding="utf-8")
    DOCS.write_text(text.replace(_documented(), catalogue_table()), encoding="utf-8")
    print(f"{DOCS.relative_to(ROOT)}: {len(CATALOGUE)} problems")
