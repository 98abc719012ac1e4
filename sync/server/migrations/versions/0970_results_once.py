"""once: each entry's first result is stored once (issue 17).

Until now every first result was stored twice: in ``entries.first_result_json`` and in the
batch's response (``batches.response_json``). The response is what a finished batch's
replay sends; the column served only the replay of an interrupted batch (some chunks
committed, the last not). Now the results of a chunk that is not the batch's last go into a
part of the batch (``batch_parts``), which the last chunk deletes when it writes the
response (sync/server/ingest.py), and the column goes.

Upgrade, without loss: an entry's first result moves into a part of its batch unless the
batch's response already holds that very result (same entry id, equal JSON) -- that is, the
entries of unfinished batches (and of purged campaigns, whose batches were deleted), plus any
entry a finished response does not answer (stored by an interrupted attempt whose replay
sent another body). Each part keeps the stored texts byte for byte. A temporary index on
``entries.batch_id`` lets the move read one batch at a time (memory bounded by a batch).

Downgrade: the column comes back, filled from the parts and the responses; an entry neither
holds (its campaign purged after the upgrade: both deleted, and its fingerprint cleared so
no replay could read it) gets its current standing.

Revision ID: 0970_results_once
Revises: 0960_durable_jobs
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from sync.server.models.base import ident  # the identifier type (migration 0800)

revision = "0970_results_once"
down_revision = "0960_durable_jobs"
branch_labels = None
depends_on = None

_BATCHES_A_ROUND = 100
_TMP_INDEX = "ix_tmp_0970_entries_batch"

_entries = sa.table("entries", sa.column("id"), sa.column("device_id"), sa.column("device_seq"),
                    sa.column("batch_id"), sa.column("first_result_json"), sa.column("status"),
                    sa.column("duplicate_of"), sa.column("candidate_of"),
                    sa.column("reason_code"), sa.column("reason_field"))
_batches = sa.table("batches", sa.column("batch_id"), sa.column("response_json"))
_parts = sa.table("batch_parts", sa.column("batch_id"), sa.column("entry_id"),
                  sa.column("device_id"), sa.column("results_json"))


def _loads(text: str | None):
    try:
        return json.loads(text) if text is not None else None
    except ValueError:
        return None  # never equal to a response's result: kept as it is


def _answered(response_json: str | None) -> dict[str, dict]:
    """entry id -> its result in a stored response."""
    response = _loads(response_json) or {}
    return {r["entry_id"]: r for r in response.get("results", []) if isinstance(r, dict)}


def _rounds(conn):
    """The entries' batch ids, a round of them at a time."""
    ids = sorted(conn.execute(sa.select(_entries.c.batch_id).distinct()).scalars())
    for start in range(0, len(ids), _BATCHES_A_ROUND):
        yield ids[start:start + _BATCHES_A_ROUND]


def _response_by_batch(conn, round_ids: list[str]) -> dict[str, str]:
    return dict(conn.execute(sa.select(_batches.c.batch_id, _batches.c.response_json)
                             .where(_batches.c.batch_id.in_(round_ids))).all())


def upgrade() -> None:
    op.create_table(
        "batch_parts",
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("entry_id", ident(64), nullable=False),
        sa.Column("device_id", sa.String(36), sa.ForeignKey("devices.id"), nullable=False),
        sa.Column("results_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", "entry_id"),
    )
    conn = op.get_bind()
    op.create_index(_TMP_INDEX, "entries", ["batch_id"])
    for round_ids in _rounds(conn):
        responses = _response_by_batch(conn, round_ids)
        kept: dict[tuple[str, str], list[tuple[str, str]]] = {}  # (batch, device) -> (id, text)
        rows = conn.execute(
            sa.select(_entries.c.batch_id, _entries.c.device_id, _entries.c.id,
                      _entries.c.first_result_json)
            .where(_entries.c.batch_id.in_(round_ids))
            .order_by(_entries.c.batch_id, _entries.c.device_id, _entries.c.device_seq))
        answered_batch, answered = None, {}
        for batch_id, device_id, entry_id, text in rows:
            if batch_id != answered_batch:
                answered_batch, answered = batch_id, _answered(responses.get(batch_id))
            mine = _loads(text)
            if mine is None or answered.get(entry_id) != mine:
                kept.setdefault((batch_id, device_id), []).append((entry_id, text or "null"))
        if kept:
            conn.execute(sa.insert(_parts), [
                {"batch_id": batch_id, "entry_id": texts[0][0], "device_id": device_id,
                 "results_json": "[" + ",".join(t for _id, t in texts) + "]"}
                for (batch_id, device_id), texts in kept.items()])
    op.drop_index(_TMP_INDEX, "entries")
    # SQLite 3.35+ drops a column in place (no table rebuild: the entries table is the big one).
    op.drop_column("entries", "first_result_json")


def _dump(result: dict) -> str:
    return json.dumps(result, separators=(",", ":"), ensure_ascii=False)


def downgrade() -> None:
    op.add_column("entries", sa.Column("first_result_json", sa.Text(), nullable=False,
                                       server_default=""))
    conn = op.get_bind()
    # By id and batch: a response also answers entries of other batches (already_received,
    # conflict), whose own first result is elsewhere.
    fill = (sa.update(_entries).where(_entries.c.id == sa.bindparam("b_id"),
                                      _entries.c.batch_id == sa.bindparam("b_batch"))
            .values(first_result_json=sa.bindparam("b_json")))
    batch_ids = sorted(conn.execute(sa.select(_batches.c.batch_id)).scalars())
    for start in range(0, len(batch_ids), _BATCHES_A_ROUND):
        responses = _response_by_batch(conn, batch_ids[start:start + _BATCHES_A_ROUND])
        values = [{"b_id": entry_id, "b_batch": batch_id, "b_json": _dump(result)}
                  for batch_id, response_json in responses.items()
                  for entry_id, result in _answered(response_json).items()]
        if values:
            conn.execute(fill, values)
    for batch_id, results_json in conn.execute(
            sa.select(_parts.c.batch_id, _parts.c.results_json)).all():  # few: batches in flight
        values = [{"b_id": r["entry_id"], "b_batch": batch_id, "b_json": _dump(r)}
                  for r in (_loads(results_json) or []) if isinstance(r, dict)]
        if values:
            conn.execute(fill, values)
    missing = conn.execute(sa.select(
        _entries.c.id, _entries.c.batch_id, _entries.c.status, _entries.c.duplicate_of,
        _entries.c.candidate_of, _entries.c.reason_code, _entries.c.reason_field).where(
            _entries.c.first_result_json == "")).all()
    if missing:
        conn.execute(fill, [{"b_id": i, "b_batch": batch, "b_json": _dump({
            "entry_id": i, "status": status, "duplicate_of": dup, "candidate_of": cand,
            "reason_code": code, "reason": None, "field": field})}
            for i, batch, status, dup, cand, code, field in missing])
    if conn.dialect.name == "postgresql":  # SQLite cannot drop a default in place; harmless
        op.alter_column("entries", "first_result_json", server_default=None)
    op.drop_table("batch_parts")
