"""Forming, resending and answering outbox batches (called inside a store transaction).

A formed batch is persisted with its members in order. Until every member has an answer the
same batch (same id, same entries, same order) is handed out again, so a retry after a lost
response is byte-for-byte the request the server may already have processed.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, func, select, update

from sync.crypto import FieldCipher
from sync.domain import SignerEntry
from sync.ids import new_uuid7
from sync.protocol import PROTOCOL_VERSION, BatchRequest, EntryResult, EntryStatus

from . import codec, schema
from .errors import NotFound
from .models import PENDING, OutboxBatch

E, OX, B, M = schema.entries, schema.outbox, schema.batches, schema.batch_members


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
    return OutboxBatch(batch_id, [codec.open_entry(cipher, r) for r in rows])


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
    for row in rows:
        entry = codec.open_entry(cipher, row)
        grown = size + len(entry.to_wire().model_dump_json().encode()) + (1 if chosen else 0)
        # One entry always goes even if alone it exceeds max_bytes: the wire caps keep any
        # single entry far below the server's limit, and an outbox must never stall.
        if chosen and grown > max_bytes:
            break
        chosen.append(entry)
        size = grown
    conn.execute(B.insert().values(batch_id=batch_id, created_at=now_iso, closed_at=None))
    conn.execute(M.insert(), [{"batch_id": batch_id, "position": i, "entry_id": e.entry_id}
                              for i, e in enumerate(chosen)])
    conn.execute(update(OX).where(OX.c.entry_id.in_([e.entry_id for e in chosen]))
                 .values(batch_id=batch_id))
    return OutboxBatch(batch_id, chosen)


def apply_results(conn: Connection, batch_id: str, results: Sequence[EntryResult],
                  now_iso: str) -> None:
    if conn.execute(select(B.c.batch_id).where(B.c.batch_id == batch_id)).first() is None:
        raise NotFound("unknown batch")
    waiting = set(conn.execute(select(OX.c.entry_id).where(OX.c.batch_id == batch_id)).scalars())
    for result in results:
        if result.entry_id not in waiting:
            continue  # not in this batch, or already answered: ignore
        status = EntryStatus(result.status)
        values = {"duplicate_of": result.duplicate_of, "candidate_of": result.candidate_of,
                  "reason_code": result.reason_code, "acknowledged_at": now_iso,
                  "status": status.value}
        if status is EntryStatus.ALREADY_RECEIVED:
            # A retry answer says nothing about standing: keep a verdict an outcome already gave.
            current = conn.execute(select(E.c.status).where(E.c.entry_id == result.entry_id)).scalar()
            if current != PENDING:
                values = {"acknowledged_at": now_iso}
        conn.execute(update(E).where(E.c.entry_id == result.entry_id).values(**values))
        conn.execute(OX.delete().where(OX.c.entry_id == result.entry_id))
        waiting.discard(result.entry_id)
    if not waiting:
        conn.execute(update(B).where(B.c.batch_id == batch_id, B.c.closed_at.is_(None))
                     .values(closed_at=now_iso))


def pending_count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(OX)).scalar_one()
