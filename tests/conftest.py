"""Shared fixtures: a real PostgreSQL database per test module, and the CI rule that
production-relevant tests never skip.

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
