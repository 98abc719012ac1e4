"""The campaign's office pseudo-device, and office entries (keyed lines, imported rows) sent
through the very intake function devices use (``sync.server.ingest.handle_batch``): same
validation, same deduplication, same idempotency. Their entry ids are stable
(``importer.stable_entry_id``) and an id the server already holds is re-sent with its stored
sequence number and capture time, so keying or importing the same line again is answered
``already_received``."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from sync.domain import PERSONAL_FIELDS, SignerEntry, as_utc, utcnow
from sync.ids import new_uuid7
from sync.intake.importer import stable_entry_id
from sync.problem_codes import NOT_FOUND
from sync.protocol import MAX_BATCH_ENTRIES, PROTOCOL_VERSION, BatchRequest, EntryResult, EntryStatus
from sync.server import dedup
from sync.server.auth import DeviceIdentity
from sync.server.ingest import handle_batch
from sync.server.models import Campaign, Device, Entry
from sync.server.problems import ProblemError
from sync.server.schemas import KeyedLine
from sync.server.services import Services

OFFICE_NAMESPACE = uuid.UUID("0c9b6a3e-7d1f-4e2a-8b5c-3a9d1e6f4b20")

IMPORT_BATCH = MAX_BATCH_ENTRIES


def office_device_id(campaign_id: str) -> str:
    return str(uuid.uuid5(OFFICE_NAMESPACE, campaign_id))


def office_device(svc: Services, campaign_id: str) -> DeviceIdentity:
    """The campaign's office device (created on first use; its token is unknowable)."""
    device_id = office_device_id(campaign_id)
    with svc.db.read() as s:
        if s.get(Campaign, campaign_id) is None:
            raise ProblemError(NOT_FOUND, "No such campaign.")
        exists = s.get(Device, device_id) is not None
    if not exists:
        try:
            with svc.db.write() as s:
                s.add(Device(id=device_id, campaign_id=campaign_id, circulator="Office",
                             name="Office intake", enrolled_at=utcnow(), pending_count=0,
                             token_hash=hashlib.sha256(os.urandom(32)).hexdigest(),
                             last_device_seq=0, app_version=""))
        except IntegrityError:
            pass  # created concurrently
    return DeviceIdentity(device_id, campaign_id, metered=False)


def submit_entries(svc: Services, device: DeviceIdentity,
                   entries: Sequence[SignerEntry]) -> list[EntryResult]:
    """Send office entries through ``handle_batch`` in batches; results in input order.

    Ids the server already holds are re-sent with their stored sequence number and capture
    time, so an unchanged line is ``already_received`` (its content fingerprint matches).
    Repeats of one id within the input share one wire entry.
    """
    results: list[EntryResult] = []
    for start in range(0, len(entries), IMPORT_BATCH):
        chunk = entries[start:start + IMPORT_BATCH]
        ids = list(dict.fromkeys(e.entry_id for e in chunk))
        with svc.db.read() as s:
            known = {row.id: (row.device_seq, row.captured_at) for row in s.execute(
                select(Entry.id, Entry.device_seq, Entry.captured_at).where(
                    Entry.id.in_(ids), Entry.device_id == device.device_id))}
        fresh = [i for i in ids if i not in known]
        seqs: dict[str, int] = {}
        if fresh:
            with svc.db.write() as s:
                last = dedup.next_counter(s, f"office-seq:{device.campaign_id}", len(fresh))
            seqs = {entry_id: last - len(fresh) + 1 + n for n, entry_id in enumerate(fresh)}
        wires = {}
        for entry in chunk:
            if entry.entry_id in wires:
                continue
            if entry.entry_id in known:
                seq, captured = known[entry.entry_id]
                entry = entry.with_changes(device_seq=seq, captured_at=as_utc(captured))
            else:
                entry = entry.with_changes(device_seq=seqs[entry.entry_id],
                                           captured_at=as_utc(entry.captured_at))
            wires[entry.entry_id] = entry.to_wire()
        response = handle_batch(svc, device, BatchRequest(
            protocol_version=PROTOCOL_VERSION, batch_id=new_uuid7(), entries=list(wires.values())))
        by_id: dict[str, EntryResult] = {}
        for result in response.results:
            by_id.setdefault(result.entry_id, result)
        seen: set[str] = set()
        for entry in chunk:
            result = by_id[entry.entry_id]
            if entry.entry_id in seen:  # the same row twice in one input: the second is a repeat
                result = EntryResult(entry_id=entry.entry_id, status=EntryStatus.ALREADY_RECEIVED)
            seen.add(entry.entry_id)
            results.append(result)
    return results


def keyed_entry(id_key: bytes, campaign_id: str, device_id: str, body: KeyedLine) -> SignerEntry:
    content = {name: " ".join(getattr(body, name).split()) for name in PERSONAL_FIELDS}
    section = body.section.strip().upper()
    return SignerEntry(section=section, line=body.line, device_id=device_id, captured_at=utcnow(),
                       entry_id=stable_entry_id(id_key, campaign_id, section, body.line, content),
                       **content)
