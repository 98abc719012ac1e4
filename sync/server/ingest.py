"""POST /v1/entries/batch: the per-entry decision and the batch's idempotency.

Each entry is decided in its own short write transaction (locks are held briefly and a
failure costs one entry, not the batch); the batch's response is then stored so a replay of
the same batch gets exactly the first answer. If the server dies mid-batch, a replay finds
the entries already decided in this batch and answers with their stored first results, so
even then the replay's statuses equal what the first attempt decided.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from sync.domain import SignerEntry, content_fingerprint, utcnow
from sync.jurisdiction import Jurisdiction, jurisdiction_from_zips, load_jurisdiction
from sync.matching import blocking_keys, matching_keys
from sync.protocol import (
    REASON_TEXT,
    BatchRequest,
    BatchResponse,
    EntryResult,
    EntryStatus,
    EntryWire,
    ReasonCode,
)
from sync.server import dedup, rotation
from sync.server.admin import campaign_index_key
from sync.server.auth import DeviceIdentity
from sync.server.models import BatchRecord, Campaign, Entry
from sync.server.problems import ProblemError
from sync.server.services import Services
from sync.validation import line_used_error, rejection_details, validate_entry

log = logging.getLogger("canvass.server")
MAX_ATTEMPTS = 8
_RETRY_SQLSTATES = {"40P01", "40001", "55P03"}  # deadlock, serialization failure, lock timeout


@dataclass(frozen=True)
class CampaignContext:
    campaign_id: str
    index_key: bytes
    jurisdiction: Jurisdiction | None
    index_key_id: int = 1


def campaign_context(svc: Services, campaign_id: str) -> CampaignContext:
    with svc.db.read() as s:
        campaign = s.get(Campaign, campaign_id)
        if campaign is None:
            raise ProblemError(403, "forbidden", "The device's campaign no longer exists.")
        # Cached per (campaign, key id): a rotated index key (rotation.py) is loaded at once.
        cached = svc.index_keys.get(campaign_id)
        if cached is None or cached[0] != campaign.index_key_id:
            cached = svc.index_keys[campaign_id] = (campaign.index_key_id,
                                                    campaign_index_key(svc.settings.keys, campaign))
        key_id, index_key = cached
        zips = json.loads(campaign.jurisdiction_zips) if campaign.jurisdiction_zips else None
        jurisdiction = (jurisdiction_from_zips(campaign.jurisdiction, zips) if zips
                        else load_jurisdiction(campaign.jurisdiction))
    return CampaignContext(campaign_id, index_key, jurisdiction, key_id)


def body_fingerprint(req: BatchRequest) -> str:
    return hashlib.sha256(req.model_dump_json().encode("utf-8")).hexdigest()


def _result(entry_id: str, status: EntryStatus, **kw) -> EntryResult:
    return EntryResult(entry_id=entry_id, status=status, **kw)


def _reason(entry_id: str, status: EntryStatus, code: ReasonCode, field: str | None) -> EntryResult:
    return _result(entry_id, status, reason_code=int(code), reason=REASON_TEXT[code], field=field)


def _retryable(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return True  # a concurrent claim of the same key or sequence: decide again
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in _RETRY_SQLSTATES:
        return True
    return isinstance(exc, OperationalError) and "locked" in str(exc.orig).lower()


def with_retries(svc: Services, work: Callable[[Session], EntryResult]) -> EntryResult:
    for _attempt in range(MAX_ATTEMPTS):
        try:
            with svc.db.write() as s:
                return work(s)
        except DBAPIError as exc:
            if not _retryable(exc):
                raise
            log.info("retrying an entry after %s", type(exc).__name__)
    raise ProblemError(503, "busy", "The server is busy; retry the batch later.", {"Retry-After": "5"})


def decide_entry(s: Session, svc: Services, ctx: CampaignContext, device: DeviceIdentity,
                 batch_id: str, wire: EntryWire) -> EntryResult:
    fingerprint = content_fingerprint(wire)
    existing = s.get(Entry, wire.entry_id)
    if existing is not None:
        if existing.device_id != device.device_id or existing.fingerprint != fingerprint:
            return _reason(wire.entry_id, EntryStatus.CONFLICT, ReasonCode.CONTENT_CONFLICT, None)
        if existing.batch_id == batch_id:  # a replay of an interrupted batch
            return EntryResult.model_validate_json(existing.first_result_json)
        return _result(wire.entry_id, EntryStatus.ALREADY_RECEIVED)
    seq_owner = s.scalar(select(Entry.id).where(Entry.device_id == device.device_id,
                                                Entry.device_seq == wire.device_seq))
    if seq_owner is not None:
        return _reason(wire.entry_id, EntryStatus.CONFLICT, ReasonCode.SEQUENCE_CONFLICT, "device_seq")

    entry = SignerEntry.from_wire(wire, device_id=device.device_id)
    fields = entry.personal()
    errors = validate_entry(entry, jurisdiction=ctx.jurisdiction)
    target: Entry | None = None
    if not errors and wire.supersedes is not None:
        target = s.get(Entry, wire.supersedes)
        if target is None or target.device_id != device.device_id or target.id == wire.entry_id:
            return _store(s, svc, ctx, device, batch_id, wire, fingerprint, fields,
                          _reason(wire.entry_id, EntryStatus.REJECTED,
                                  ReasonCode.UNKNOWN_SUPERSEDED_ENTRY, "supersedes"))
    if errors:
        details = rejection_details(errors)
        return _store(s, svc, ctx, device, batch_id, wire, fingerprint, fields,
                      _result(wire.entry_id, EntryStatus.REJECTED, **details))

    rotation.guard_index_key(s, ctx.campaign_id, ctx.index_key_id)
    keys = matching_keys(ctx.index_key, fields)
    blocks = blocking_keys(ctx.index_key, fields)
    line_lock = f"line\x1f{wire.section}\x1f{wire.line}"
    held = [f"m:{k}" for k in keys] + [f"b:{b}" for b in blocks] + [line_lock]
    if target is not None:
        held += [f"m:{k}" for k in dedup.claimed_keys(s, target.id)]
        held += [f"b:{k}" for k in dedup.claimed_keys(s, target.id)]
    dedup.lock_keys(s, ctx.campaign_id, held)

    if _line_taken(s, ctx.campaign_id, wire, exclude=target.id if target else None):
        error = line_used_error(wire.line)
        return _store(s, svc, ctx, device, batch_id, wire, fingerprint, fields,
                      _reason(wire.entry_id, EntryStatus.REJECTED, error.code, error.field))

    if target is not None:
        # The corrected entry stops counting; the correction never matches against it.
        target.superseded_by = target.superseded_by or wire.entry_id
        if target.counted:
            target.counted = False
            dedup.release(s, target.id)
    verdict = dedup.judge(s, svc.cipher, ctx.campaign_id, fields, keys, blocks,
                          exclude=target.id if target else None)
    result = _result(wire.entry_id, verdict.status, duplicate_of=verdict.duplicate_of,
                     candidate_of=verdict.candidate_of)
    stored = _store(s, svc, ctx, device, batch_id, wire, fingerprint, fields, result)
    if verdict.status == EntryStatus.ACCEPTED:
        s.flush()  # the entry row must exist before keys reference it
        dedup.claim(s, ctx.campaign_id, wire.entry_id, keys, blocks)
    return stored


def _line_taken(s: Session, campaign_id: str, wire: EntryWire, exclude: str | None) -> bool:
    stmt = select(Entry.id).where(
        Entry.campaign_id == campaign_id, Entry.section == wire.section, Entry.line == wire.line,
        Entry.superseded_by.is_(None), Entry.status != EntryStatus.REJECTED.value,
    ).limit(1)
    if exclude:
        stmt = stmt.where(Entry.id != exclude)
    return s.scalar(stmt) is not None


def _store(s: Session, svc: Services, ctx: CampaignContext, device: DeviceIdentity, batch_id: str,
           wire: EntryWire, fingerprint: str, fields: dict[str, str], result: EntryResult) -> EntryResult:
    row = Entry(
        id=wire.entry_id, campaign_id=ctx.campaign_id, device_id=device.device_id,
        device_seq=wire.device_seq, batch_id=batch_id, section=wire.section, line=wire.line,
        captured_at=wire.captured_at, supersedes=wire.supersedes, fingerprint=fingerprint,
        received_at=utcnow(), status=result.status.value, duplicate_of=result.duplicate_of,
        candidate_of=result.candidate_of, reason_code=result.reason_code, reason_field=result.field,
        counted=result.status == EntryStatus.ACCEPTED, first_result_json=result.model_dump_json(),
    )
    for name, value in fields.items():
        if value:
            setattr(row, f"enc_{name}", svc.cipher.encrypt(value, record_id=wire.entry_id, field=name))
    s.add(row)
    return result


def _stored_batch(svc: Services, batch_id: str) -> BatchRecord | None:
    with svc.db.read() as s:
        return s.get(BatchRecord, batch_id)


def _replay(record: BatchRecord, device: DeviceIdentity, fingerprint: str) -> BatchResponse:
    if record.device_id != device.device_id or record.body_fingerprint != fingerprint:
        raise ProblemError(409, "batch_id_conflict",
                           "This batch id was already used with a different body.")
    return BatchResponse.model_validate_json(record.response_json)


def handle_batch(svc: Services, device: DeviceIdentity, req: BatchRequest) -> BatchResponse:
    fingerprint = body_fingerprint(req)
    record = _stored_batch(svc, req.batch_id)
    if record is not None:
        return _replay(record, device, fingerprint)
    ctx = campaign_context(svc, device.campaign_id)
    results = []
    for wire in req.entries:
        for _attempt in range(MAX_ATTEMPTS):
            try:
                results.append(with_retries(
                    svc, lambda s, w=wire, c=ctx: decide_entry(s, svc, c, device, req.batch_id, w)))
                break
            except rotation.StaleIndexKey:  # the index key was rotated meanwhile: reload it
                ctx = campaign_context(svc, device.campaign_id)
        else:
            raise ProblemError(503, "busy", "The server is busy; retry the batch later.",
                               {"Retry-After": "5"})
    response = BatchResponse(batch_id=req.batch_id, results=results, server_time=utcnow())
    try:
        with svc.db.write() as s:
            s.execute(insert(BatchRecord).values(
                batch_id=req.batch_id, device_id=device.device_id, body_fingerprint=fingerprint,
                response_json=response.model_dump_json(), received_at=utcnow()))
    except IntegrityError:
        # The same batch ran concurrently and stored its answer first: answer as it did.
        record = _stored_batch(svc, req.batch_id)
        if record is None:
            raise
        return _replay(record, device, fingerprint)
    return response
