"""The server's one Settings (sync/server/config.py, issue 17): built from the environment the
same way by the CLI, each uvicorn worker and each replica; ``to_env`` is the inverse of
``load``; a flag wins over the environment; a bad value is named by its variable and never
echoed; docs/SETTINGS.md is the table of its fields."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from server_helpers import REPO, running_server

from sync.crypto import new_key
from sync.server import app as app_module
from sync.server import cli
from sync.server.config import (
    ENV_DOORSTEP_RATE,
    RateLimits,
    Settings,
    SettingsError,
    env_name,
    settings_table,
)
from sync.server.keys import ServerKeys, derived_box_key, write_key_file

SERVER_KEY = bytes(range(32))
BOX_KEY = bytes(range(100, 132))


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# Every setting away from its default, and the door-step budget in both of its spellings.
ENV = {
    "CANVASS_DB_URL": "postgresql://canvass@db.internal/canvass",
    "CANVASS_SERVER_KEY": b64(SERVER_KEY),
    "CANVASS_BOX_KEY": b64(BOX_KEY),
    "CANVASS_SESSION_HOURS": "8",
    "CANVASS_SESSION_IDLE_MINUTES": "15.5",
    "CANVASS_OUTCOMES_PAGE": "250",
    "CANVASS_INDEX_PAGE": "5000",
    "CANVASS_RATE_LIMITS__DEVICE_CAPACITY": "100",
    "CANVASS_RATE_LIMITS__LOGIN_PER_SECOND": "0.05",
    ENV_DOORSTEP_RATE: "4/3",
    "CANVASS_OWN_URL": "http://10.0.0.7:8000",
    "CANVASS_TRUSTED_PROXIES": "10.0.0.5,10.0.1.0/24",
    "CANVASS_JOB_LEASE_SECONDS": "7.25",
    "CANVASS_ROLLUP_SECONDS": "0.1",
    "CANVASS_GC": "default",
    "CANVASS_TIMEZONE": "America/New_York",
}


@pytest.fixture
def environ(monkeypatch):
    """A clean environment of CANVASS_* server settings; returns a function that sets some."""
    for name in list(os.environ):
        if name.startswith("CANVASS_"):
            monkeypatch.delenv(name)

    def put(values: dict[str, str]) -> None:
        for name in [n for n in os.environ if n.startswith("CANVASS_")]:
            monkeypatch.delenv(name)
        for name, value in values.items():
            monkeypatch.setenv(name, value)
    return put


def test_every_variable_is_read_and_the_door_step_budget_keeps_its_old_spelling(environ):
    environ(ENV)
    s = Settings.load()
    assert s.db_url == ENV["CANVASS_DB_URL"]
    assert s.keys == ServerKeys(SERVER_KEY, BOX_KEY)
    assert (s.session_hours, s.session_idle_minutes, s.outcomes_page, s.index_page) == (8, 15.5, 250, 5000)
    assert s.rate_limits == RateLimits(device_capacity=100, login_per_second=0.05,
                                       doorstep_capacity=4, doorstep_per_second=3 / 60)
    assert (s.own_url, s.trusted_proxies) == ("http://10.0.0.7:8000", "10.0.0.5,10.0.1.0/24")
    assert (s.job_lease_seconds, s.rollup_seconds, s.gc) == (7.25, 0.1, "default")
    assert s.timezone == "America/New_York"
    # The group's own variable wins over the one-variable spelling.
    environ({**ENV, "CANVASS_RATE_LIMITS__DOORSTEP_CAPACITY": "9"})
    assert Settings.load().rate_limits.doorstep_capacity == 9
    assert Settings.load().rate_limits.doorstep_per_second == 3 / 60


def test_defaults_and_a_box_key_derived_from_the_server_key(environ):
    environ({"CANVASS_DB_URL": "postgresql://x/y", "CANVASS_SERVER_KEY": b64(SERVER_KEY)})
    s = Settings.load()
    assert s.keys == ServerKeys(SERVER_KEY, derived_box_key(SERVER_KEY))
    assert s.rate_limits == RateLimits() and s.job_lease_seconds == 30 and s.gc == "tuned"


def test_to_env_is_the_inverse_of_load(environ, tmp_path):
    environ(ENV)
    first = Settings.load()
    assert Settings.load() == first  # built twice from one environment: equal
    environ(first.to_env())
    assert Settings.load() == first
    # Keys from a key file (not the environment) travel too, and so do given values.
    key_file = tmp_path / "server.key"
    write_key_file(key_file, ServerKeys(new_key(), new_key()))
    environ({"CANVASS_DB_URL": "postgresql://x/y"})
    given = Settings.load(key_file=key_file, rate_limits=RateLimits(device_capacity=1e9),
                          session_hours=1 / 3)
    environ(given.to_env())
    assert Settings.load() == given
    assert Settings.load().keys == given.keys


def test_a_replica_started_with_the_same_environment_gets_equal_settings(environ):
    """Another process (another host's replica) reads the same variables into the same values."""
    environ(ENV)
    here = Settings.load()
    child = subprocess.run(
        [sys.executable, "-c", "import json; from sync.server.config import Settings; "
         "print(json.dumps(Settings.load(create_key=False).to_env()))"],
        env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=REPO, capture_output=True, text=True,
        timeout=120, check=True)
    assert json.loads(child.stdout) == here.to_env()


def test_serve_flags_win_and_every_worker_builds_the_settings_serve_made(environ, monkeypatch, tmp_path):
    """`serve --workers N` puts its settings in the environment; each worker's factory
    (app.app_from_env) loads them back: equal to what serve built, flags included."""
    environ({**ENV, "CANVASS_DB_URL": "postgresql://ignored/by-flag"})
    db_url = f"sqlite:///{tmp_path / 'w.db'}"
    args = cli.build_parser().parse_args(["serve", "--db", db_url, "--host", "0.0.0.0", "--port", "8123",
                                          "--trusted-proxy", "192.0.2.1", "--workers", "2"])
    made = cli.serve_settings(args)
    assert (made.db_url, made.own_url, made.trusted_proxies) == (db_url, "http://127.0.0.1:8123", "192.0.2.1")
    assert made.keys.server_key == SERVER_KEY and made.job_lease_seconds == 7.25  # the rest: env
    # Without the flag the environment's proxies stand.
    args = cli.build_parser().parse_args(["serve", "--db", db_url])
    assert cli.serve_settings(args).trusted_proxies == ENV["CANVASS_TRUSTED_PROXIES"]

    # What cmd_serve does before uvicorn starts the workers, then what each worker runs.
    for name, value in made.to_env().items():  # os.environ.update, undone after the test
        monkeypatch.setenv(name, value)
    built = []
    monkeypatch.setattr(app_module, "create_app", lambda settings: built.append(settings) or object())
    app_module.app_from_env()
    app_module.app_from_env()
    assert built == [made, made]


@pytest.mark.parametrize(("name", "value", "says"), [
    ("CANVASS_JOB_LEASE_SECONDS", "soon", "valid number"),
    ("CANVASS_ROLLUP_SECONDS", "-0.5", "greater than 0"),
    ("CANVASS_OUTCOMES_PAGE", "1.5", "valid integer"),
    ("CANVASS_RATE_LIMITS__LOGIN_CAPACITY", "-17", "greater than or equal to 0"),
    ("CANVASS_GC", "off", "'tuned' or 'default'"),
    ("CANVASS_TIMEZONE", "Mars/Olympus_Mons", "time zone"),
    (ENV_DOORSTEP_RATE, "ten a minute", "burst/per_minute"),
    ("CANVASS_SERVER_KEY", "c2VjcmV0LXNlcnZlci1rZXktdGV4dA==", "32 bytes"),
    ("CANVASS_BOX_KEY", "secret box key text!", "base64"),
])
def test_a_bad_value_is_named_by_its_variable_and_never_echoed(environ, name, value, says):
    environ({**ENV, name: value})
    with pytest.raises(SettingsError) as caught:
        Settings.load()
    message = str(caught.value)
    assert message.startswith(f"{name}: ") and says in message
    assert value not in message and "secret" not in message
    error = caught.value  # nothing chained that a traceback would print (pydantic shows inputs)
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)


def test_the_cli_reports_a_bad_setting_in_one_line(environ, tmp_path, capsys):
    environ({"CANVASS_JOB_LEASE_SECONDS": "-3"})
    assert cli.main(["init", "--db", f"sqlite:///{tmp_path / 'c.db'}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("canvass-server: CANVASS_JOB_LEASE_SECONDS: ") and "Traceback" not in err
    assert not (tmp_path / "c.db").exists()  # refused before anything was made


def test_keys_never_print(environ):
    environ(ENV)
    s = Settings.load()
    shown = repr(s) + str(s) + repr(s.keys) + str(s.model_dump())
    for raw in (SERVER_KEY, BOX_KEY):
        assert b64(raw) not in shown and repr(raw) not in shown and raw.hex() not in shown


def test_docs_list_every_variable(environ):
    """docs/SETTINGS.md holds the table made from the fields, and every CANVASS_ name the docs
    mention is a setting or one of the variables of other programs listed here."""
    doc = (REPO / "docs" / "SETTINGS.md").read_text()
    assert settings_table() in doc, "docs/SETTINGS.md: paste config.settings_table()"
    names = {env_name(n) for n in Settings.model_fields} | set(re.findall(r"`(CANVASS_\w+)`", doc))
    assert env_name("rate_limits", "login_capacity") in names
    others = {"CANVASS_PIN", "CANVASS_STAFF_SERVER_URL", "CANVASS_STAFF_LANG"}  # device, staff app
    for path in [REPO / "README.md", REPO / "SECURITY.md", *sorted((REPO / "docs").glob("*.md"))]:
        for mentioned in set(re.findall(r"CANVASS_[A-Z0-9_]*[A-Z0-9]", path.read_text())):
            assert mentioned in names | others, f"{Path(path).name}: {mentioned} is no setting"


def test_the_time_zone_setting_is_the_one_the_dashboard_counts_days_in(environ, tmp_path):
    """CANVASS_TIMEZONE used to be read at import by the dashboard; it comes from the app's
    Settings now, so what a process was built with is what it answers with."""
    environ({})
    with running_server(f"sqlite:///{tmp_path / 'tz.db'}", timezone="America/New_York") as server:
        cid = server.create_campaign(deadline="2030-12-31")
        server.add_user("tz-admin", "tz-admin passphrase")
        token = server.login("tz-admin", "tz-admin passphrase")
        r = httpx.get(f"{server.url}/v1/dashboard/progress", params={"campaign_id": cid},
                      headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200 and r.json()["campaign"]["timezone"] == "America/New_York"


def test_only_the_settings_read_the_environment():
    """No module of the server reads os.environ but config.py (cli.py writes it for workers)."""
    still: dict[str, str] = {}  # read where used, not yet through Settings: none
    server = REPO / "sync" / "server"
    for path in sorted(server.rglob("*.py")):
        rel = path.relative_to(server).as_posix()
        text = path.read_text()
        reads = re.findall(r"os\.environ(?!\.update\(settings\.to_env)|getenv", text)
        if rel == "config.py" or rel in still and still[rel] in text:
            continue
        assert not reads, f"sync/server/{rel} reads the environment: take it from Settings"
