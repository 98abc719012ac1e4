"""Shared fixtures: a real PostgreSQL database per test module, and the CI rule that
production-relevant tests never skip; and the fixtures several modules use (live_server,
office, campaign_staff, cli_server, chromium: at the end).

PostgreSQL is the machine's server on 127.0.0.1:5432 (trust auth). Each module that asks for
``pg_url`` gets a database of its own, created fresh and dropped afterwards, so parallel runs
and other developers never share state. Under CI=true an unreachable server is a failure.
"""

from __future__ import annotations

import os
import uuid

import pytest

# Scans the whole session's DEBUG log for the personal strings the tests seed (SECURITY.md).
pytest_plugins = ["log_audit_plugin"]

PG_ADMIN_URL = os.environ.get("CANVASS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _admin_connect():
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)


def pg_available() -> bool:
    try:
        with _admin_connect():
            return True
    except Exception:
        return False


SLOW_TIMEOUT_S = 900  # pyproject's `timeout` (300 s) for every other test


def pytest_collection_modifyitems(config, items):
    """Tests marked ``slow`` may take SLOW_TIMEOUT_S before pytest-timeout fails them (unless
    they name their own ``timeout``).

    Browser tests get one retry, as Playwright's own runner advises on CI (``retries``).

    They drive Flutter's web engine in headless Chromium on two shared cores, where a key can
    still land in a frame before the focus settles (browser_helpers.settled_focus). A retry
    starts the test from nothing (fresh server, app and browser context) and shows as
    "rerun" in the summary, so a test that fails twice fails the run, and one that needed a
    retry is seen. Every other test gets none."""
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT_S))
    if not config.pluginmanager.hasplugin("rerunfailures"):
        return
    for item in items:
        if item.get_closest_marker("browser") and not item.get_closest_marker("flaky"):
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=2))


@pytest.fixture(scope="module")
def pg_url():
    """A SQLAlchemy URL of a fresh, empty PostgreSQL database (psycopg 3 driver)."""
    if not pg_available():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL at 127.0.0.1:5432 is required under CI=true")
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
    name = f"canvass_test_{uuid.uuid4().hex[:12]}"
    with _admin_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    yield f"{base}/{name}"
    with _admin_connect() as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """Each test that takes ``db_url`` runs twice: on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'server.db'}"
    return request.getfixturevalue("pg_url")


# ---- Fixtures several test modules share. Their helpers live in helper modules (server_helpers,
# intake_helpers, browser_helpers, fault_layer), imported inside each fixture: a test of pure
# code starts no server and loads no server code. No test module imports another
# (tests/test_import_closure.py).


@pytest.fixture
def live_server(db_url):
    """A running server on the `db_url` database (each test runs on SQLite and PostgreSQL)."""
    from server_helpers import running_server

    with running_server(db_url) as server:
        yield server


@pytest.fixture
def office(db_url):
    """intake_helpers.Office: a campaign with an admin, a clerk, a team lead and one device on
    a real server with the intake routes (SQLite and PostgreSQL)."""
    from intake_helpers import Office, intake_server

    with intake_server(db_url) as server:
        yield Office(server)


@pytest.fixture
def campaign_staff(live_server):
    """(server, campaign id, {"admin": header, "clerk": header}): a campaign on live_server
    with an admin and an intake clerk logged in."""
    from intake_helpers import PASSWORD

    cid = live_server.create_campaign(deadline="2030-12-31")
    tag = cid[-8:]
    live_server.add_user(f"admin-{tag}", PASSWORD, "admin", cid)
    live_server.add_user(f"clerk-{tag}", PASSWORD, "intake", cid)
    return live_server, cid, {
        "admin": {"Authorization": "Bearer " + live_server.login(f"admin-{tag}", PASSWORD)},
        "clerk": {"Authorization": "Bearer " + live_server.login(f"clerk-{tag}", PASSWORD)}}


@pytest.fixture(scope="module")
def cli_server():
    """fault_layer.ServerUnderTest for the `canvass` command's tests, one a module."""
    from fault_layer import ServerUnderTest, fast_dir

    with fast_dir("canvass-cli-server-") as workdir:
        srv = ServerUnderTest(workdir).start()
        yield srv
        srv.close()


@pytest.fixture
def chromium():
    """One Chromium; each device gets its own browser context (own storage, own viewport)."""
    from browser_helpers import CHROMIUM_ARGS, require_chromium

    path = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
