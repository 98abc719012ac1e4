"""The online door-step check (issue 15): POST /v1/doorstep/check on a real server process
(`canvass-server serve`, spawn_server), on SQLite and PostgreSQL.

It answers one of three words and nothing else, stores nothing about the checked person (every
row of every table is the same before and after, but the device's check counter), is refused
past a circulator's pace, is counted per device and shows in the dashboard's quality flags, and
never calls a household pair (father / son, twins, neighbours in one building) "probably signed".
"""

from __future__ import annotations

from pathlib import Path

import httpx
import server_helpers
from rapidfuzz.distance import OSA
from scoring_pairs import DIFFERENT
from sqlalchemy import inspect, select, text

from sync.protocol import MATCHED_FIELDS, PATH_DOORSTEP, PROTOCOL_VERSION, DoorstepAnswer
from sync.server.config import ENV_DOORSTEP_RATE
from sync.server.db import Database
from sync.server.models import Counter
from sync.synthetic import la_zips

WORDS = {a.value for a in DoorstepAnswer}


def served(db_url: str, log_path: Path, rate: str | None = None):
    """`canvass-server serve` as a child process (spawn_server), its output in ``log_path``."""
    return server_helpers.serve_subprocess(db_url, env={ENV_DOORSTEP_RATE: rate} if rate else None,
                                           output=log_path)


def person(first="Maria", last="Lopez", street="123 North Main Street", zip_code="90012", **kw) -> dict:
    return {"first_name": first, "last_name": last, "street": street, "city": "Los Angeles",
            "zip": zip_code, **kw}


def ask(server, token: str, fields: dict, *, exactly: bool = False) -> httpx.Response:
    """POST a check of ``fields`` (the matched ones, as the device sends; all with ``exactly``)."""
    if not exactly:
        fields = {k: v for k, v in fields.items() if k in MATCHED_FIELDS}
    return httpx.post(f"{server.url}{PATH_DOORSTEP}", json={"protocol_version": PROTOCOL_VERSION, **fields},
                      headers={"Authorization": f"Bearer {token}"}, timeout=30)


def answer(server, token: str, fields: dict) -> str:
    r = ask(server, token, fields)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"answer"}  # never who, which device, an id or a score
    assert body["answer"] in WORDS
    return body["answer"]


def store(server, token: str, *entries) -> list[str]:
    body = server_helpers.batch_body(list(entries))
    r = httpx.post(f"{server.url}/v1/entries/batch", json=body,
                   headers=server_helpers.device_headers(token, body), timeout=60)
    r.raise_for_status()
    return [res["status"] for res in r.json()["results"]]


def snapshot(db_url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    db = Database(db_url)
    try:
        with db.engine.connect() as conn:
            tables = sorted(inspect(conn).get_table_names())
            out = {}
            for table in tables:
                rows = conn.execute(text(f'SELECT * FROM "{table}"')).all()
                out[table] = sorted(tuple(repr(v) for v in row) for row in rows)
            return out
    finally:
        db.dispose()


def checks_counted(server, device_id: str) -> int:
    with server.db.read() as s:
        return int(s.scalar(select(Counter.value).where(Counter.name == f"doorstep:{device_id}")) or 0)


def test_answers_three_words_and_stores_nothing(db_url, tmp_path):
    log_path = tmp_path / "server.log"
    with served(db_url, log_path, rate="100/60") as server:
        cid = server.create_campaign()
        dev = server.enroll_device(cid)
        token = dev.device_token
        assert store(server, token, server_helpers.signer("Robert", "Okonkwo", "4410 W Sunset Blvd",
                                                          zip="90027")) == ["accepted"]
        before = snapshot(db_url)
        # The same signer, a nickname and a typo in the street; a stranger; a near miss.
        seen = answer(server, token, person("Bob", "Okonkwo", "4410 West Sunset Boulevard", "90027"))
        stranger = answer(server, token, person("Zelda", "Quibble", "88 Ocean Ave", "90291"))
        moved = answer(server, token, person("Robert", "Okonkwo", "4401 W Sunset Blvd", "90027"))
        after = snapshot(db_url)
    assert seen == "probably_signed"
    assert stranger == "no"
    assert moved == "maybe"  # a one-edit house number: the intake would send it to review
    changed = {t for t in before if before[t] != after[t]} | (set(after) - set(before))
    # Besides the check counter, only the rate limiter's bucket of the device (a keyed hash of
    # its id and a token count: sync/server/ratelimit.py).
    assert changed <= {"counters", "rate_buckets"} and "counters" in changed
    extra = set(after["counters"]) - set(before["counters"])
    assert len(extra) == 1 and f"'doorstep:{dev.device_id}'" in next(iter(extra))
    assert checks_counted(server, dev.device_id) == 3
    # Nothing of the checked people in the server's output either (its log lines).
    output = log_path.read_text("utf-8", "replace")
    for word in ("Okonkwo", "Zelda", "Quibble", "Ocean"):
        assert word not in output


def test_refused_past_a_circulators_pace(db_url, tmp_path):
    with served(db_url, tmp_path / "server.log") as server:  # the default rate: a burst of 10
        cid = server.create_campaign()
        first = server.enroll_device(cid, "tablet 1").device_token
        second = server.enroll_device(cid, "tablet 2").device_token
        for _ in range(10):
            answer(server, first, person())
        refused = ask(server, first, person())
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) >= 1
        assert "Lopez" not in refused.text
        # The budget is the device's own: another tablet of the team still gets answers, and
        # the refused device still syncs (its batch budget is not the check's).
        assert answer(server, second, person()) == "no"
        assert store(server, first, server_helpers.signer()) == ["accepted"]


def test_bad_checks_are_clear_problems(db_url, tmp_path):
    with served(db_url, tmp_path / "server.log", rate="100/60") as server:
        cid = server.create_campaign()
        token = server.enroll_device(cid).device_token
        incomplete = ask(server, token, {"first_name": "Maria Elena", "last_name": ""})
        assert incomplete.status_code == 422 and incomplete.json()["code"] == "doorstep_incomplete"
        assert "Maria" not in incomplete.text
        for extra in ({"phone": "3235550101"}, {"city": "Los Angeles"}, {"entry_id": "x"}):
            unknown = ask(server, token, {**person(), **extra}, exactly=True)
            assert unknown.status_code == 422  # only the matcher's fields travel
        no_token = httpx.post(f"{server.url}{PATH_DOORSTEP}",
                              json={"protocol_version": PROTOCOL_VERSION, **person()})
        assert no_token.status_code == 401
        server.add_user("ana", "a long enough password")
        staff = server.login("ana", "a long enough password")
        assert ask(server, staff, person()).status_code == 403
        assert checks_counted(server, server.enroll_device(cid).device_id) == 0


def test_counted_per_device_and_flagged_in_quality(db_url, tmp_path):
    with served(db_url, tmp_path / "server.log", rate="100/60") as server:
        cid = server.create_campaign()
        honest = server.enroll_device(cid, "tablet 1", circulator="Honest Circulator")
        prying = server.enroll_device(cid, "tablet 2", circulator="Prying Circulator")
        names = ("Beatriz", "Octavio", "Lucinda", "Hector", "Yolanda")
        entries = [server_helpers.signer(n, "Alvarez", f"{100 + 37 * i} Main St")
                   for i, n in enumerate(names)]
        assert store(server, honest.device_token, *entries) == ["accepted"] * 5
        for i in range(5):  # one check per person signed
            assert answer(server, honest.device_token,
                          person(names[i], "Alvarez", f"{100 + 37 * i} Main St")) == "probably_signed"
        for i in range(40):  # a device that looks people up and enters nobody
            answer(server, prying.device_token, person(f"Other{i}", "Alvarez", f"{500 + 37 * i} Main St"))
        assert checks_counted(server, honest.device_id) == 5
        assert checks_counted(server, prying.device_id) == 40
        server.add_user("director", "a long enough password", campaign_id=cid)
        staff = server.login("director", "a long enough password")
        r = httpx.get(f"{server.url}/v1/dashboard/quality", headers={"Authorization": f"Bearer {staff}"},
                      timeout=30)
        r.raise_for_status()
    flags = [f for f in r.json()["flags"] if f["kind"] == "doorstep_checks"]
    assert [f["circulator"] for f in flags] == ["Prying Circulator"]
    assert flags[0]["value"] == 40.0 and flags[0]["reference"] == 0.0
    assert "Alvarez" not in r.text and "Other" not in r.text


HOUSEHOLD = [row for row in DIFFERENT if row[0].startswith(
    ("father_son", "twins", "neighbors", "next_door", "same_building", "siblings", "spouses",
     "roommates", "mother_daughter"))]


def test_household_pairs_are_not_probably_signed(db_url, tmp_path):
    assert len(HOUSEHOLD) >= 6
    kinds = {label.split("_")[0] for label, *_ in HOUSEHOLD}
    assert {"father", "twins", "neighbors", "same"} <= kinds
    # One campaign and device (enrolling is rate-limited per address); each pair moved to a
    # ZIP of its own so that no pair's stored person can be another pair's match.
    zips: list[str] = []
    for z, _city in la_zips():  # ZIPs at least two edits from each other (a typo is one)
        if all(OSA.distance(z, other) >= 2 for other in zips):
            zips.append(z)
    with served(db_url, tmp_path / "server.log", rate="100/60") as server:
        cid = server.create_campaign()
        token = server.enroll_device(cid).device_token
        got = {}
        for n, (label, a, b, _expected) in enumerate(HOUSEHOLD):
            moved = {z: zips[2 * n + i] for i, z in enumerate(sorted({a["zip"], b["zip"]}))}
            a, b = {**a, "zip": moved[a["zip"]]}, {**b, "zip": moved[b["zip"]]}
            wire = {k: v for k, v in a.items() if k not in ("first_name", "last_name", "street", "zip")}
            assert store(server, token, server_helpers.signer(
                a["first_name"], a["last_name"], a["street"], zip=a["zip"], **wire)) == ["accepted"]
            got[label] = answer(server, token, b)
            # and the stored one checked again is recognised (the check is not simply blind)
            assert answer(server, token, a) == "probably_signed", label
    assert all(word != "probably_signed" for word in got.values()), got


def _typed(form, values: dict) -> None:
    """Key by key, as the view's change handler sees it (each keystroke the whole field)."""
    for name, value in values.items():
        for end in range(1, len(value) + 1):
            form.set(name, value[:end])


def test_capture_form_asks_the_server_while_typing_then_the_tablet_offline(db_url, tmp_path):
    """The device side: CaptureForm.for_store on an enrolled store asks the server once the
    name, street and ZIP are in (debounced, before any Enter); the server's answer blocks the
    first save and says it came from the server; with the server gone the tablet answers."""
    import time

    from canvass.state.capture import CaptureForm
    from canvass.store import DeviceStore, KdfParams
    from sync.enroll import enroll

    with served(db_url, tmp_path / "server.log", rate="100/60") as server:
        cid = server.create_campaign()
        other = server.enroll_device(cid, "tablet 1").device_token
        assert store(server, other, server_helpers.signer("Guadalupe", "Hernandez", "501 S Indiana St",
                                                          zip="90063")) == ["accepted"]
        device = DeviceStore.create(tmp_path / "store.db", "246813", kdf=KdfParams(64, 1, 1))
        enroll(server.url, server.enroll_code(cid, "Circulator Two"), "tablet 2", device)
        device.open_section("B-0001", "Circulator Two")
        form = CaptureForm.for_store(device)
        assert form.doorstep is not None
        form.start("B-0001")
        # A nickname (Lupe) and a typo in the surname: no exact key, the fuzzy matcher's case.
        repeat = {"first_name": "Lupe", "last_name": "Hernadez", "street": "501 South Indiana Street",
                  "zip": "90063"}
        _typed(form, repeat)
        deadline = time.monotonic() + 15
        while form.doorstep.asked == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert form.doorstep.asked == 1  # asked while typing, once (debounced), before Enter
        assert checks_counted(server, device.get_setting("device_id")) <= 1
        assert form.enter("zip") is False  # the first Enter: warned, nothing saved
        assert form.warning == "duplicate" and form.doorstep.source == "server"
        text = form.warning_text().render("en")
        assert text.startswith("This person has probably already signed — ask before they sign again")
        assert "server" in text and "Lupe" not in text
        assert form.doorstep.asked == 1  # the answer in hand was used, not asked again
        # The house next door, same name: the server says "maybe" -- a softer warning, which
        # also stops the first Enter.
        form.start("B-0001")
        _typed(form, {**repeat, "first_name": "Guadalupe", "last_name": "Hernandez",
                      "street": "503 S Indiana St"})
        assert form.enter("zip") is False
        assert form.warning == "maybe_duplicate" and form.doorstep.source == "server"
        text = form.warning_text().render("en")
        assert text.startswith("This person may have signed already — ask") and "server" in text
        assert device.count_entries() == 0
        # A stranger: the server says no, nothing stands in the way of the save.
        form.start("B-0001")
        _typed(form, {"first_name": "Octavia", "last_name": "Brennan", "street": "77 Valley Blvd",
                      "zip": "91776"})
        assert form.enter("zip") is True
    # The server is gone: the tablet's own lines answer (the stranger just saved), from the tablet.
    form.start("B-0001")
    _typed(form, {"first_name": "Octavia", "last_name": "Brennan", "street": "77 Valley Blvd",
                  "zip": "91776"})
    assert form.enter("zip") is False
    assert form.warning == "duplicate" and form.doorstep.source == "tablet"
    assert "tablet" in form.warning_text().render("en")
    device.close()
