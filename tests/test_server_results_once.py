"""Each entry's first result is stored once (issue 17), and the replays still answer as the first
attempt did, over a real server (HTTP) on SQLite and PostgreSQL:

- an interrupted batch (its first chunks committed, the last not: the server died between
  chunks) is replayed: each entry the first attempt stored is answered with its first result
  (not its standing now, which a review changed meanwhile), the rest is decided, and the
  finished batch's replays answer byte for byte the same;
- the text of one entry's first result is in the database exactly once, while the batch is
  unfinished (a part) and once it is finished (the response);
- a purge leaves no part of an unfinished batch.
"""

from __future__ import annotations

import httpx
import pytest
from server_helpers import batch_body, device_headers, signer
from sqlalchemy import func, inspect, select, text, update

from sync.protocol import EntryResult
from sync.server import ingest
from sync.server.config import DEFAULT_TIMEZONE
from sync.server.models import BatchPart, BatchRecord, Entry
from sync.server.purge import purge_campaign

CHUNK = 3  # entries per chunk in these tests: a batch of 5 is two chunks


def _post(server, token, body) -> httpx.Response:
    return httpx.post(f"{server.url}/v1/entries/batch", json=body,
                      headers=device_headers(token, body), timeout=60)


def _five_entries():
    """Two chunks of CHUNK: the first holds a signer, their repeat and a rejected line."""
    return [signer("Ottilie", "Brandywine", street="14 West Juniper Street"),
            signer("Ottilie", "Brandywine", street="14 West Juniper Street"),
            signer("Crispin", "Halloway", street="9 Mission Street", city="San Francisco",
                   zip="94110"),
            signer("Wendeline", "Ashgrove", street="300 South Olive Street"),
            signer("Wendeline", "Ashgrove", street="300 South Olive Street")]


@pytest.fixture
def interrupted(monkeypatch):
    """Chunks of CHUNK entries; the next batch's last chunk is decided and then dies before
    its commit (nothing of it stays). ``first`` gets the committed chunks' results."""
    monkeypatch.setattr(ingest, "CHUNK_ENTRIES", CHUNK)
    real = ingest._decide_chunk
    state = {"armed": True, "first": []}

    def decide(*args, last, **kw):
        results = real(*args, last=last, **kw)
        if state["armed"]:
            if last:
                state["armed"] = False
                raise RuntimeError("the server died before the batch's last chunk committed")
            state["first"] += [r.model_dump(mode="json") for r in results]
        return results

    monkeypatch.setattr(ingest, "_decide_chunk", decide)
    return state


def _copies(db_url: str, needle: str) -> int:
    """How many times ``needle`` occurs in any text value of any table."""
    from sync.server.db import Database

    db = Database(db_url)
    try:
        found = 0
        with db.engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                    found += sum(v.count(needle) for v in row if isinstance(v, str))
        return found
    finally:
        db.dispose()


def _parts(server, batch_id: str) -> int:
    with server.db.read() as s:
        return s.scalar(select(func.count()).select_from(BatchPart)
                        .where(BatchPart.batch_id == batch_id))


def test_an_interrupted_batch_replayed_answers_each_stored_entry_with_its_first_result(
        live_server, interrupted):
    cid = live_server.create_campaign()
    dev = live_server.enroll_device(cid)
    body = batch_body(_five_entries())
    ids = [e["entry_id"] for e in body["entries"]]
    r = _post(live_server, dev.device_token, body)
    assert r.status_code == 500
    first = interrupted["first"]
    assert [x["status"] for x in first] == ["accepted", "duplicate", "rejected"]
    assert first[1]["duplicate_of"] == ids[0] and first[2]["reason_code"] is not None
    with live_server.db.read() as s:  # the first chunk stayed, the last did not
        assert set(s.scalars(select(Entry.id).where(Entry.batch_id == body["batch_id"]))) == \
            set(ids[:CHUNK])
        assert s.get(BatchRecord, body["batch_id"]) is None
    assert _parts(live_server, body["batch_id"]) == 1
    # Meanwhile a reviewer accepts the repeat: its standing changes, its first answer does not.
    with live_server.db.write() as s:
        s.execute(update(Entry).where(Entry.id == ids[1])
                  .values(status="accepted", duplicate_of=None, counted=False))

    replay = _post(live_server, dev.device_token, body)
    assert replay.status_code == 200, replay.text
    results = replay.json()["results"]
    assert results[:CHUNK] == first
    assert [x["status"] for x in results[CHUNK:]] == ["accepted", "duplicate"]
    assert results[4]["duplicate_of"] == ids[3]
    assert _parts(live_server, body["batch_id"]) == 0  # the response holds them now
    again = _post(live_server, dev.device_token, body)
    assert again.status_code == 200 and again.content == replay.content


def test_one_entrys_first_result_is_stored_once(live_server, interrupted):
    cid = live_server.create_campaign()
    dev = live_server.enroll_device(cid)
    body = batch_body(_five_entries())
    assert _post(live_server, dev.device_token, body).status_code == 500
    # The repeat's first result (its link to the first line), as the server serializes it.
    repeat = EntryResult.model_validate(interrupted["first"][1]).model_dump_json()
    assert _copies(live_server.db_url, repeat) == 1  # unfinished: in the batch's part only
    replay = _post(live_server, dev.device_token, body)
    assert replay.status_code == 200 and repeat in replay.text
    assert _copies(live_server.db_url, repeat) == 1  # finished: in the batch's response only
    # An entry of the last chunk too (decided by the replay, never in a part).
    last = EntryResult.model_validate(replay.json()["results"][4]).model_dump_json()
    assert _copies(live_server.db_url, last) == 1


def test_a_purge_leaves_no_part_of_an_unfinished_batch(live_server, interrupted):
    cid = live_server.create_campaign()
    dev = live_server.enroll_device(cid)
    body = batch_body(_five_entries())
    assert _post(live_server, dev.device_token, body).status_code == 500
    assert _parts(live_server, body["batch_id"]) == 1
    purge_campaign(live_server.db, cid, timezone=DEFAULT_TIMEZONE)
    assert _parts(live_server, body["batch_id"]) == 0
    # A replay finds the stored entries' fingerprints cleared: other content, as before 0970.
    replay = _post(live_server, dev.device_token, body)
    assert replay.status_code == 200, replay.text
    assert [x["status"] for x in replay.json()["results"][:CHUNK]] == ["conflict"] * CHUNK


def _migrate(db_url: str, revision: str) -> None:
    from alembic import command
    from sqlalchemy import create_engine

    from sync.server.migrate import alembic_config

    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            cfg = alembic_config(db_url)
            cfg.attributes["connection"] = conn
            if revision == "head":
                command.upgrade(cfg, revision)
            else:
                command.downgrade(cfg, revision)
    finally:
        engine.dispose()


def test_migration_0970_moves_every_first_result_and_the_replays_answer_as_before(
        db_url, interrupted):
    """Downgrade to 0960 (each entry's first result back in ``first_result_json``, as the code
    before 0970 wrote it) and upgrade again: the first results move into the responses and
    parts, and both replays answer as the first time."""
    from server_helpers import running_server
    from sqlalchemy import create_engine

    with running_server(db_url) as server:
        cid = server.create_campaign()
        token = server.enroll_device(cid).device_token
        cut = batch_body(_five_entries())  # interrupted: its first chunk is stored
        assert _post(server, token, cut).status_code == 500
        whole = batch_body(_five_entries())
        answered = _post(server, token, whole)
        assert answered.status_code == 200
    first = {r["entry_id"]: r for r in interrupted["first"]}
    first.update({r["entry_id"]: r for r in answered.json()["results"]})
    ids = [e["entry_id"] for e in cut["entries"][:CHUNK] + whole["entries"]]

    _migrate(db_url, "0960_durable_jobs")
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            stored = dict(conn.execute(text("SELECT id, first_result_json FROM entries "
                                            "WHERE batch_id IN (:a, :b)"),
                                       {"a": cut["batch_id"], "b": whole["batch_id"]}).all())
        assert stored == {i: EntryResult.model_validate(first[i]).model_dump_json() for i in ids}
        _migrate(db_url, "head")
        with engine.connect() as conn:
            assert "first_result_json" not in {c["name"] for c in inspect(conn).get_columns("entries")}
            parts = conn.execute(text("SELECT batch_id, results_json FROM batch_parts "
                                      "WHERE batch_id IN (:a, :b)"),
                                 {"a": cut["batch_id"], "b": whole["batch_id"]}).all()
    finally:
        engine.dispose()
    assert [p[0] for p in parts] == [cut["batch_id"]]  # the finished batch's are in its response

    with running_server(db_url) as server:
        again = _post(server, token, whole)
        assert again.status_code == 200 and again.content == answered.content
        replay = _post(server, token, cut)
        assert replay.status_code == 200, replay.text
        assert replay.json()["results"][:CHUNK] == interrupted["first"]
