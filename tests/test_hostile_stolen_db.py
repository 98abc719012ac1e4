"""A stolen server database must not confirm a guessed signer (issue 16, High 1).

The attack: with only the database and a list of guesses, recompute a value stored beside a
row (an unkeyed hash of its content, a UUIDv5 of its content under a public namespace) and
compare. The generic test below stores the same signer on two servers with different keys
and a variant of it on a third, through each path that stores content (a device's batch, a
line keyed at the office, a CSV import), then scans every column of every table: a value
equal on the first two (so it does not depend on the key) and different on the third (so
it depends on the content) is a value an attacker can recompute from a guess.

Runs on SQLite and PostgreSQL, each server over HTTP on its own database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx
import pytest
import server_helpers
from sqlalchemy import MetaData, create_engine, select

from sync.domain import SignerEntry
from sync.server import admin

CAMPAIGN_ID = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"  # the same on every server
ENTRY_ID = "0190a1b2-c3d4-7e5f-8a9b-000000000001"
BATCH_ID = "0190a1b2-c3d4-7e5f-8a9b-000000000002"
CAPTURED = datetime(2026, 3, 2, 17, 30, 0, 123456, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
CSV_HEAD = "Section,Line,First Name,Last Name,Street,City,ZIP,Notes,Captured At\n"


@contextmanager
def _databases(db_url: str, tmp_path) -> Iterator[list[str]]:
    """Three empty databases of the kind of ``db_url``."""
    if db_url.startswith("sqlite"):
        yield [f"sqlite:///{tmp_path / f'server-{n}.db'}" for n in range(3)]
        return
    from conftest import _admin_connect

    names = [f"canvass_dump_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    with _admin_connect() as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    base = db_url.rsplit("/", 1)[0]
    try:
        yield [db_url, *(f"{base}/{name}" for name in names)]
    finally:
        with _admin_connect() as conn:
            for name in names:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = %s", (name,))
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _store_everything(server: server_helpers.ServerHandle, monkeypatch, notes: str) -> None:
    """One signer per path that stores content; ``notes`` is what the variant changes."""
    with monkeypatch.context() as m:  # the same campaign id everywhere, as an attacker knows it
        m.setattr(admin, "new_uuid7", lambda: CAMPAIGN_ID)
        server.create_campaign(deadline="2030-12-31")
    server.add_user("clerk", PASSWORD, "intake", CAMPAIGN_ID)
    clerk = {"Authorization": "Bearer " + server.login("clerk", PASSWORD)}
    device = server.enroll_device(CAMPAIGN_ID)

    entry = SignerEntry(section="A100", line=1, first_name="Quinton", last_name="Marsh",
                        street="321 South Olive Street", city="Los Angeles", zip="90013",
                        phone="(213) 555-0134", notes=notes, entry_id=ENTRY_ID, device_seq=1,
                        captured_at=CAPTURED)
    body = server_helpers.batch_body([entry], batch_id=BATCH_ID)
    r = httpx.post(f"{server.url}/v1/entries/batch", json=body,
                   headers=server_helpers.device_headers(device.device_token, body))
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "accepted", r.text

    line = {"section": "A200", "line": 1, "first_name": "Ottoline", "last_name": "Brevard",
            "street": "77 West Temple Street", "city": "Los Angeles", "zip": "90012",
            "notes": notes}
    r = httpx.post(f"{server.url}/v1/intake/lines", json=line, headers=clerk)
    assert r.status_code == 200 and r.json()["result"]["status"] == "accepted", r.text

    csv_text = CSV_HEAD + (f"A300,1,Philippa,Crandall,450 East Second Street,Los Angeles,90012,"
                           f"{notes},2026-03-02T18:00:00Z\n")
    r = httpx.post(f"{server.url}/v1/intake/imports", headers=clerk, data={"wait": "true"},
                   files={"file": ("rows.csv", csv_text.encode(), "text/csv")}, timeout=60)
    assert r.status_code == 202 and r.json()["counts"].get("accepted") == 1, r.text


def _columns(db_url: str) -> dict[tuple[str, str], set[str]]:
    """Every column of every table in the database (reflected, not from the models): the set
    of its values, as text."""
    engine = create_engine(db_url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        out = {}
        with engine.connect() as conn:
            for table in meta.sorted_tables:
                rows = conn.execute(select(table)).all()
                for i, column in enumerate(table.columns):
                    out[(table.name, column.name)] = {repr(row[i]) for row in rows}
        return out
    finally:
        engine.dispose()


def test_no_stored_value_can_be_recomputed_from_a_guess(db_url, tmp_path, monkeypatch):
    scans = []
    with _databases(db_url, tmp_path) as urls:
        for url, notes in zip(urls, ("Prefers Spanish", "Prefers Spanish", "Prefers English"),
                              strict=True):
            with server_helpers.running_server(url) as server:
                _store_everything(server, monkeypatch, notes)
            scans.append(_columns(url))
    first, second, variant = scans
    assert len({server_helpers.server_keys_for(u).server_key for u in urls}) == 3
    # A value found on both servers of the same signer and not on the variant's server.
    leaks = sorted(f"{table}.{column}" for (table, column), values in first.items()
                   if (values & second.get((table, column), set()))
                   - variant.get((table, column), set()))
    assert leaks == [], "stored values a guess can confirm without the key: " + ", ".join(leaks)


def _device_batch(server, device_token: str, batch_id: str, entry_id: str,
                  notes: str = "Prefers Spanish"):
    entry = SignerEntry(section="A100", line=1, first_name="Quinton", last_name="Marsh",
                        street="321 South Olive Street", city="Los Angeles", zip="90013",
                        notes=notes, entry_id=entry_id, device_seq=1, captured_at=CAPTURED)
    body = server_helpers.batch_body([entry], batch_id=batch_id)
    r = httpx.post(f"{server.url}/v1/entries/batch", json=body,
                   headers=server_helpers.device_headers(device_token, body))
    assert r.status_code == 200, r.text
    return body, r.json()["results"][0]


def _downgrade_to_0900(db_url: str) -> None:
    from alembic import command

    from sync.server.migrate import alembic_config

    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            cfg = alembic_config(db_url)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0900_keyed_fingerprints")
    finally:
        engine.dispose()


def test_migration_0900_rekeys_stored_fingerprints_and_keeps_idempotency(db_url):
    """A database written before 0900 (plain SHA-256 fingerprints) is re-keyed in place: a
    repeat of a stored entry stays a harmless repeat, other content stays a conflict, a
    replayed batch gets its first answer, and no plain digest is left."""
    import hashlib

    from sqlalchemy import text

    from sync.domain import content_digest
    from sync.ids import new_uuid7
    from sync.protocol import BatchRequest
    from sync.server.migrate import upgrade_head

    # Fresh ids: the PostgreSQL database is shared by this module's tests.
    batch_id, entry_id = new_uuid7(), new_uuid7()
    with server_helpers.running_server(db_url) as server:
        cid = server.create_campaign(deadline="2030-12-31")
        token = server.enroll_device(cid).device_token
        body, first = _device_batch(server, token, batch_id, entry_id)
        assert first["status"] == "accepted"
    # Back to what the code before 0900 stored, and to the schema version before 0900.
    request = BatchRequest.model_validate(body)
    plain = content_digest(request.entries[0])
    plain_body = hashlib.sha256(request.model_dump_json().encode()).hexdigest()
    _downgrade_to_0900(db_url)  # later migrations undone by their own downgrades
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE entries SET fingerprint = :f WHERE id = :i"),
                     {"f": plain, "i": entry_id})
        conn.execute(text("UPDATE batches SET body_fingerprint = :f WHERE batch_id = :i"),
                     {"f": plain_body, "i": batch_id})
        conn.execute(text("UPDATE alembic_version SET version_num = '0800_identifier_collation'"))
    upgrade_head(db_url, server_helpers.server_keys_for(db_url))
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT fingerprint FROM entries")).scalars().all()
        stored_body = conn.execute(text("SELECT body_fingerprint FROM batches")).scalars().all()
    engine.dispose()
    assert plain not in stored and plain_body not in stored_body
    with server_helpers.running_server(db_url) as server:
        _, replayed = _device_batch(server, token, batch_id, entry_id)
        assert replayed == first
        _, repeat = _device_batch(server, token, new_uuid7(), entry_id)
        assert repeat["status"] == "already_received"
        _, other = _device_batch(server, token, new_uuid7(), entry_id, notes="Prefers English")
        assert other["status"] == "conflict"


def test_migration_0900_refuses_without_the_key(tmp_path, monkeypatch):
    from sqlalchemy import text

    from sync.server.keys import default_key_path
    from sync.server.migrate import upgrade_head

    url = f"sqlite:///{tmp_path / 'server.db'}"
    with server_helpers.running_server(url) as server:
        cid = server.create_campaign(deadline="2030-12-31")
        _device_batch(server, server.enroll_device(cid).device_token, BATCH_ID, ENTRY_ID)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0800_identifier_collation'"))
        before = conn.execute(text("SELECT fingerprint FROM entries")).scalar_one()
    default_key_path(url).rename(tmp_path / "elsewhere.key")
    monkeypatch.delenv("CANVASS_SERVER_KEY", raising=False)
    with pytest.raises(RuntimeError, match="needs the server key"):
        upgrade_head(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT fingerprint FROM entries")).scalar_one() == before
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == \
            "0800_identifier_collation"
    engine.dispose()
