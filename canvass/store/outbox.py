"""Forming, resending and answering outbox batches (called inside a store transaction).

A formed batch is persisted with its members in order. Until every member has an answer the
same batch (same id, same entries, same order) is handed out again, so a retry after a lost
response is byte-for-byte the request the server may already have processed.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Boolean, Connection, and_, bindparam, case, func, select, update

from sync.crypto import FieldCipher
from sync.domain import SignerEntry
from sync.ids import new_uuid7
from sync.protocol import PROTOCOL_VERSION, BatchRequest, EntryResult, EntryStatus, EntryWire

from . import codec, schema
from .errors import NotFound
from .models import PENDING, OutboxBatch

E, OX, B, M = schema.entries, schema.outbox, schema.batches, schema.batch_members

# Answering a batch is one UPDATE and one DELETE, each run once over all answered entries
# (executemany) instead of a statement pair per entry. A retry answer (already_received) says
# nothing about standing: where an outcome already gave a verdict (status no longer pending),
# only acknowledged_at changes. SQLite computes every SET expression from the row as it was
# before the update, so each CASE sees the old status.
_KEEP_VERDICT = and_(bindparam("a_retry", type_=Boolean), E.c.status != PENDING)
_ANSWER = update(E).where(E.c.entry_id == bindparam("a_entry_id")).values(
    {column: case((_KEEP_VERDICT, E.c[column]), else_=bindparam(f"a_{column}"))
     for column in ("status", "duplicate_of", "candidate_of", "reason_code")}
    | {"acknowledged_at": bindparam("a_acknowledged_at"),
       # The voter-file match the result carries (protocol 2); none said: the one held stays.
       "registration": func.coalesce(bindparam("a_registration"), E.c.registration)})
_LEAVE_OUTBOX = OX.delete().where(OX.c.entry_id == bindparam("a_entry_id"))


def open_batch(conn: Connection, cipher: FieldCipher) -> OutboxBatch | None:
    """The formed batch still waiting for (part of) its answer, if any."""
    batch_id = conn.execute(
        select(B.c.batch_id).where(B.c.closed_at.is_(None)).order_by(B.c.created_at).limit(1)
    ).scalar()
    if batch_id is None:
        return None
    rows = conn.execute(
        select(E).join(M, M.c.entry_id == E.c.entry_id)
        .where(M.c.batch_id == batch_id).order_by(M.c.position)
    ).mappings().all()
    entries = [codec.open_entry(cipher, r) for r in rows]
    return OutboxBatch(batch_id, entries, [e.to_wire() for e in entries])


def form_batch(conn: Connection, cipher: FieldCipher, *, max_entries: int, max_bytes: int,
               now_iso: str) -> OutboxBatch | None:
    """A new batch of the oldest unbatched outbox entries within both limits, persisted."""
    rows = conn.execute(
        select(E).join(OX, OX.c.entry_id == E.c.entry_id)
        .where(OX.c.batch_id.is_(None)).order_by(OX.c.device_seq).limit(max(1, max_entries))
    ).mappings().all()
    if not rows:
        return None
    batch_id = new_uuid7()
    # The JSON of BatchRequest is compact: "...entries":[e1,e2]} -- so its size is the empty
    # request plus each entry's own JSON plus one comma between entries.
    size = len(BatchRequest(protocol_version=PROTOCOL_VERSION, batch_id=batch_id,
                            entries=[]).model_dump_json().encode())
    chosen: list[SignerEntry] = []
    wires: list[EntryWire] = []  # kept on the batch, so to_request does not build them again
    for row in rows:
        entry = codec.open_entry(cipher, row)
        wire = entry.to_wire()
        grown = size + len(wire.model_dump_json().encode()) + (1 if chosen else 0)
        # One entry always goes even if alone it exceeds max_bytes: the wire caps keep any
        # single entry far below the server's limit, and an outbox must never stall.
        if chosen and grown > max_bytes:
            break
        chosen.append(entry)
        wires.append(wire)
        size = grown
    conn.execute(B.insert().values(batch_id=batch_id, created_at=now_iso, closed_at=None))
    conn.execute(M.insert(), [{"batch_id": batch_id, "position": i, "entry_id": e.entry_id}
                              for i, e in enumerate(chosen)])
    conn.execute(update(OX).where(OX.c.entry_id.in_([e.entry_id for e in chosen]))
                 .values(batch_id=batch_id))
    return OutboxBatch(batch_id, chosen, wires)


def apply_results(conn: Connection, batch_id: str, results: Sequence[EntryResult],
                  now_iso: str) -> None:
    if conn.execute(select(B.c.batch_id).where(B.c.batch_id == batch_id)).first() is None:
        raise NotFound("unknown batch")
    waiting = set(conn.execute(select(OX.c.entry_id).where(OX.c.batch_id == batch_id)).scalars())
    answers = []
    for result in results:
        if result.entry_id not in waiting:
            continue  # not in this batch, already answered, or answered twice here: ignore
        status = EntryStatus(result.status)
        answers.append({"a_entry_id": result.entry_id,
                        "a_retry": status is EntryStatus.ALREADY_RECEIVED,
                        "a_status": status.value, "a_duplicate_of": result.duplicate_of,
                        "a_candidate_of": result.candidate_of, "a_reason_code": result.reason_code,
                        "a_registration": result.registration.value if result.registration else None,
                        "a_acknowledged_at": now_iso})
        waiting.discard(result.entry_id)
    if answers:  # an empty executemany list would be taken as one unbound statement
        conn.execute(_ANSWER, answers)
        conn.execute(_LEAVE_OUTBOX, answers)
    if not waiting:
        conn.execute(update(B).where(B.c.batch_id == batch_id, B.c.closed_at.is_(None))
                     .values(closed_at=now_iso))


def pending_count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(OX)).scalar_one()
