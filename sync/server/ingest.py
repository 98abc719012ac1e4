"""POST /v1/entries/batch: the per-entry decisions and the batch's idempotency.

Why one long module: the steps below are one pipeline over one chunk's in-memory maps and one
transaction; split, each part would pass the same dozen maps to the next. The matcher's pieces
are apart (dedup.py: keys, candidates, claims; scoring.py: the scores).

A batch is decided in chunks of up to ``CHUNK_ENTRIES`` entries, one write transaction per
chunk, in entry order -- with the results a serial, entry-by-entry intake would give:

1. The batch lock: on PostgreSQL an advisory lock on the batch id, taken first. A replay of
   the same batch that arrives while the first attempt still runs (a client that timed out
   and retried) waits here, then finds the stored response or the entries the first attempt
   decided, and answers exactly as the first attempt. Then the stored response, if any.
2. The index-key guard (rotation.py) and, in one statement, the advisory locks of every
   blocking key, section line and corrected entry's keys of the chunk, in sorted order
   (dedup.py explains why blocking keys cover the exact matching keys too).
3. A few IN queries load what the decisions read: entries by id and by device sequence,
   live entries on the chunk's section lines, claimed matching keys, blocking-key candidates
   (decrypted and normalized once each).
4. The entries are decided in memory, in order; entries of one chunk dedup against each
   other (an accepted entry claims its keys in the in-memory maps at once).
5. The writes are bulk: released keys, corrected entries, then entries, keys and the feed
   (one counter reservation per chunk), the entries' voter-file matches (sync.server.voters.registrations; a
   primary-key read when the campaign has no voter file), and the first results of the
   entries the chunk stored: a part of the batch (``BatchPart``) for every chunk but the last,
   which writes the batch's response (``BatchRecord``) and deletes the batch's parts.

A unique violation (a race the locks did not cover), deadlock or serialization failure rolls
the chunk back and decides it again from fresh reads (bounded). If the server dies between
chunks, a replay finds the entries already decided under this batch id and answers with their
first results from the batch's parts, so its statuses still equal what the first attempt
decided. Each first result is stored once (migration 0970): in a part while the batch is
unfinished, in the response once it is finished (a finished batch's replay is answered from
the response before any entry is read, so its entries' parts are no longer needed).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import TypeAdapter
from sqlalchemy import and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from sync.domain import PERSONAL_FIELDS, SignerEntry, content_fingerprint, keyed_digest, utcnow
from sync.jurisdiction import Jurisdiction, jurisdiction_from_zips, load_jurisdiction
from sync.matching import blocking_keys, matching_keys
from sync.normalize import NormalizedRecord, normalized_record
from sync.problem_codes import BATCH_ID_CONFLICT, BUSY, FORBIDDEN
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
from sync.server.auth import DeviceIdentity, charge_device
from sync.server.match_blob import seal_match
from sync.server.models import BatchPart, BatchRecord, Campaign, Entry, WithdrawnLine
from sync.server.problems import ProblemError
from sync.server.services import Services
from sync.server.voters.registrations import NewEntry, match_new_entries
from sync.validation import (
    FIELD_LIMITS,
    line_used_error,
    rejection_details,
    validate_entry,
    validate_section_serial,
)

log = logging.getLogger("canvass.server")
MAX_ATTEMPTS = 8
# Entries per write transaction: bounds the advisory locks one transaction holds (about 4 per
# entry; PostgreSQL's shared lock table is sized max_locks_per_transaction x connections).
CHUNK_ENTRIES = 250
_RETRY_SQLSTATES = {"40P01", "40001", "55P03"}  # deadlock, serialization failure, lock timeout
# A part's results_json: one call serializes (parses) a chunk's results.
_RESULTS = TypeAdapter(list[EntryResult])


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
            raise ProblemError(FORBIDDEN, "The device's campaign no longer exists.")
        # Cached per (campaign, key id): a rotated index key (rotation.py) is loaded at once.
        cached = svc.index_keys.get(campaign_id)
        if cached is None or cached[0] != campaign.index_key_id:
            cached = (campaign.index_key_id, campaign_index_key(svc.settings.keys, campaign))
            svc.index_keys.put(campaign_id, cached)
        key_id, index_key = cached
        zips = json.loads(campaign.jurisdiction_zips) if campaign.jurisdiction_zips else None
        jurisdiction = (jurisdiction_from_zips(campaign.jurisdiction, zips) if zips
                        else load_jurisdiction(campaign.jurisdiction))
    return CampaignContext(campaign_id, index_key, jurisdiction, key_id)


def body_fingerprint(req: BatchRequest, key: bytes) -> str:
    """The whole batch body, keyed: it carries signers' fields, so its plain hash would confirm
    a guess from a stolen database."""
    return keyed_digest(key, hashlib.sha256(req.model_dump_json().encode("utf-8")).hexdigest())


def _result(entry_id: str, status: EntryStatus, **kw) -> EntryResult:
    return EntryResult(entry_id=entry_id, status=status, **kw)


def _reason(entry_id: str, status: EntryStatus, code: ReasonCode, field: str | None) -> EntryResult:
    return _result(entry_id, status, reason_code=int(code), reason=REASON_TEXT[code], field=field)


def _retryable(exc: Exception) -> bool:
    orig = getattr(exc, "orig", exc)  # a SQLAlchemy wrapper, or a driver error from COPY
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(exc, IntegrityError) or sqlstate == "23505":
        return True  # a concurrent claim of the same key or sequence: decide again
    if sqlstate in _RETRY_SQLSTATES:
        return True
    return isinstance(exc, OperationalError) and "locked" in str(orig).lower()


# --------------------------------------------------------------------------------------------
# Preparation: pure CPU work, outside any transaction


@dataclass
class _Item:
    wire: EntryWire
    fingerprint: str
    fields: dict[str, str]
    errors: list
    record: NormalizedRecord | None = None  # None when validation failed
    keys: list[str] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)


def _prepare(ctx: CampaignContext, device: DeviceIdentity, wires: list[EntryWire],
             fingerprint_key: bytes) -> list[_Item]:
    items = []
    for wire in wires:
        entry = SignerEntry.from_wire(wire, device_id=device.device_id)
        fields = entry.personal()
        errors = validate_entry(entry, jurisdiction=ctx.jurisdiction)
        item = _Item(wire, content_fingerprint(wire, fingerprint_key), fields, errors)
        if not errors:
            item.record = normalized_record(fields)
        items.append(item)
    _derive_keys(ctx, items)
    return items


def _derive_keys(ctx: CampaignContext, items: list[_Item]) -> None:
    for item in items:
        if item.record is not None:
            item.keys = matching_keys(ctx.index_key, item.record)
            item.blocks = blocking_keys(ctx.index_key, item.record)


# --------------------------------------------------------------------------------------------
# One chunk: one write transaction


@dataclass
class _Row:
    """What the decisions read of a stored entry (loaded, or written by this chunk)."""

    id: str
    device_id: str
    device_seq: int
    fingerprint: str
    batch_id: str
    status: str
    section: str
    line: int
    superseded_by: str | None
    counted: bool
    item: _Item | None = None  # set for rows this chunk writes
    result: EntryResult | None = None
    dirty: bool = False  # a loaded row this chunk changed (corrected)


class _Answered(Exception):  # noqa: N818 - a control-flow signal, not an error
    def __init__(self, response: BatchResponse, response_json: str) -> None:
        super().__init__("batch already answered")
        self.response = response
        self.response_json = response_json


_ROW_COLUMNS = (Entry.id, Entry.device_id, Entry.device_seq, Entry.fingerprint, Entry.batch_id,
                Entry.status, Entry.section, Entry.line, Entry.superseded_by, Entry.counted)
_ENC_COLUMNS = tuple(f"enc_{name}" for name in PERSONAL_FIELDS)
_TABLE = Entry.__table__
_UPDATE_TARGET = (update(_TABLE).where(_TABLE.c.id == bindparam("target_id"))
                  .values(superseded_by=bindparam("new_superseded_by"), counted=bindparam("new_counted")))


def batch_lock_key(batch_id: str) -> str:
    return f"batch\x1f{batch_id}"


class _Chunk:
    """Decides one chunk's entries in memory from bulk reads made under the chunk's locks."""

    def __init__(self, s: Session, svc: Services, ctx: CampaignContext, device: DeviceIdentity,
                 batch_id: str, items: list[_Item]) -> None:
        self.s, self.svc, self.ctx, self.device, self.batch_id = s, svc, ctx, device, batch_id
        self.items = items
        self.campaign_id = ctx.campaign_id
        self.new_rows: list[_Row] = []
        self.release_ids: list[str] = []
        self.pending_signer: dict[str, str] = {}  # key -> entry id, claims of this chunk
        self.pending_blocks: dict[tuple[str, str], None] = {}  # (key, entry id), ordered set
        self.feed: list[str] = []
        # Entry id -> withdrawal id of the withdrawn lines this chunk corrects, and the
        # corrections that inherit the withdrawal (written with the chunk): EC 11303.
        self.withdrawn: dict[str, str] = {}
        self.new_withdrawn: list[tuple[str, str]] = []
        self.first_results: dict[str, EntryResult] | None = None  # the batch's parts, when read

    # ---- reads (under the locks) ----
    def load(self) -> None:
        s, items = self.s, self.items
        checked = [i for i in items if i.record is not None]
        target_ids = {i.wire.supersedes for i in checked if i.wire.supersedes is not None}
        self.target_signer, self.target_blocks = dedup.claims_of(s, target_ids) if target_ids else ({}, {})
        held = [f"b:{b}" for i in checked for b in i.blocks]
        held += [f"line\x1f{i.wire.section}\x1f{i.wire.line}" for i in checked]
        held += [f"b:{b}" for keys in self.target_blocks.values() for b in keys]
        held += [f"m:{k}" for keys in self.target_signer.values() for k in keys]
        dedup.lock_keys(s, self.campaign_id, held)

        if target_ids:
            withdrawn = select(WithdrawnLine.entry_id, WithdrawnLine.withdrawal_id).where(
                dedup.in_values(s, WithdrawnLine.entry_id, target_ids))
            self.withdrawn = dict(s.execute(withdrawn).all())
        ids = {i.wire.entry_id for i in items} | target_ids
        seqs = {i.wire.device_seq for i in items}
        self.rows: dict[str, _Row] = {}
        self.seq_owner: dict[int, str] = {}
        if items:
            stmt = select(*_ROW_COLUMNS).where(or_(
                dedup.in_values(s, Entry.id, ids),
                and_(Entry.device_id == self.device.device_id, dedup.in_values(s, Entry.device_seq, seqs))))
            for r in s.execute(stmt):
                row = _Row(*r)
                self.rows[row.id] = row
                if row.device_id == self.device.device_id:
                    self.seq_owner[row.device_seq] = row.id
        self.lines: dict[tuple[str, int], set[str]] = {}
        pairs = {(i.wire.section, i.wire.line) for i in checked}
        if pairs:
            stmt = select(Entry.id, Entry.section, Entry.line).where(
                Entry.campaign_id == self.campaign_id,
                dedup.in_values(s, Entry.section, {p[0] for p in pairs}),
                dedup.in_values(s, Entry.line, {p[1] for p in pairs}),
                Entry.superseded_by.is_(None), Entry.status != EntryStatus.REJECTED.value)
            for entry_id, section, line in s.execute(stmt):
                if (section, line) in pairs:
                    self.lines.setdefault((section, line), set()).add(entry_id)
        self.signer = dedup.signer_owners(s, self.campaign_id, [k for i in checked for k in i.keys])
        self.blocks = dedup.block_owners(s, self.campaign_id, [b for i in checked for b in i.blocks])
        wanted: set[str] = set()
        for i in checked:
            wanted.update(self._candidates(i, exclude=None))
        self.cands: dict[str, dedup.Candidate] = (
            dedup.candidates(s, self.svc.cipher, wanted, self.svc.candidates) if wanted else {})

    def _first_result(self, entry_id: str) -> EntryResult:
        """The first result of an entry an earlier chunk (this attempt's or an interrupted
        one's) stored under this batch id, from the batch's parts: read once a chunk, and only
        when a chunk meets such an entry (a replay, or an entry id sent twice)."""
        if self.first_results is None:
            self.first_results = {
                r.entry_id: r for (text,) in self.s.execute(
                    select(BatchPart.results_json).where(BatchPart.batch_id == self.batch_id))
                for r in _RESULTS.validate_json(text)}
        found = self.first_results.get(entry_id)
        if found is None:
            # Only after a purge (parts deleted) -- and a purge clears the fingerprint, so the
            # entry answers `conflict` before this. The entry is stored; say so.
            return _result(entry_id, EntryStatus.ALREADY_RECEIVED)
        return found.model_copy()

    def _candidates(self, item: _Item, exclude: str | None) -> list[str]:
        # Each block gives at most MAX_CANDIDATES_PER_BLOCK (dedup.py), also when this chunk
        # grew it in memory: a batch of 500 entries at one address scores no more than that.
        return dedup.capped_candidates(self.blocks, item.blocks, exclude)

    def _candidate(self, entry_id: str) -> dedup.Candidate:
        cand = self.cands.get(entry_id)
        if cand is None:  # beyond the prefetch (a candidate list changed within the chunk)
            found = dedup.candidates(self.s, self.svc.cipher, [entry_id], self.svc.candidates)
            cand = self.cands[entry_id] = found[entry_id]
        return cand

    # ---- decisions (in memory) ----
    def decide(self) -> list[EntryResult]:
        return [self._decide(item) for item in self.items]

    def _decide(self, item: _Item) -> EntryResult:
        wire, device_id = item.wire, self.device.device_id
        bad_serial = validate_section_serial(wire.section)
        if bad_serial is not None:
            # Refused before anything is stored: a device cannot invent a section (a formula,
            # a name) that would then sit in the database, reconciliation and exports.
            return _reason(wire.entry_id, EntryStatus.REJECTED, bad_serial.code, bad_serial.field)
        existing = self.rows.get(wire.entry_id)
        if existing is not None:
            if existing.device_id != device_id or existing.fingerprint != item.fingerprint:
                return _reason(wire.entry_id, EntryStatus.CONFLICT, ReasonCode.CONTENT_CONFLICT, None)
            if existing.batch_id == self.batch_id:  # a replay of an interrupted batch
                if existing.result is not None:
                    return existing.result.model_copy()
                return self._first_result(existing.id)
            return _result(wire.entry_id, EntryStatus.ALREADY_RECEIVED)
        if wire.device_seq in self.seq_owner:
            return _reason(wire.entry_id, EntryStatus.CONFLICT, ReasonCode.SEQUENCE_CONFLICT, "device_seq")

        target: _Row | None = None
        if not item.errors and wire.supersedes is not None:
            target = self.rows.get(wire.supersedes)
            if target is None or target.device_id != device_id or target.id == wire.entry_id:
                return self._store(item, _reason(wire.entry_id, EntryStatus.REJECTED,
                                                 ReasonCode.UNKNOWN_SUPERSEDED_ENTRY, "supersedes"))
        if item.errors:
            return self._store(item, _result(wire.entry_id, EntryStatus.REJECTED,
                                             **rejection_details(item.errors)))
        exclude = target.id if target is not None else None
        if self.lines.get((wire.section, wire.line), set()) - {exclude}:
            error = line_used_error(wire.line)
            return self._store(item, _reason(wire.entry_id, EntryStatus.REJECTED, error.code, error.field))
        if target is not None:
            # The corrected entry stops counting; the correction never matches against it.
            target.superseded_by = target.superseded_by or wire.entry_id
            self.lines.get((target.section, target.line), set()).discard(target.id)
            if target.item is None:
                target.dirty = True
            if target.counted:
                target.counted = False
                self._release(target)
        result = self._judge(item, exclude)
        withdrawal = self.withdrawn.get(target.id) if target is not None else None
        if withdrawal is not None:
            # A line whose signer withdrew, corrected by the device (a typo fixed): the
            # correction is the same signature, still withdrawn. It never counts, claims no
            # keys, and is listed with the withdrawal; the device's answer is as for any line.
            self.withdrawn[wire.entry_id] = withdrawal
            self.new_withdrawn.append((wire.entry_id, withdrawal))
            return self._store(item, result, counted=False)
        stored = self._store(item, result)
        if result.status == EntryStatus.ACCEPTED:
            self._claim(item)
        return stored

    def _judge(self, item: _Item, exclude: str | None) -> EntryResult:
        entry_id = item.wire.entry_id
        owners = {self.signer[k] for k in item.keys if k in self.signer}
        owners.discard(exclude)
        if owners:
            return _result(entry_id, EntryStatus.DUPLICATE, duplicate_of=min(owners))
        best = dedup.best_candidate(item.record, self._candidates(item, exclude), self._candidate,
                                    self.svc.cipher)
        if best is None:
            return _result(entry_id, EntryStatus.ACCEPTED)
        if best[0] == 2:
            return _result(entry_id, EntryStatus.DUPLICATE, duplicate_of=best[2])
        return _result(entry_id, EntryStatus.POSSIBLE_DUPLICATE, candidate_of=best[2])

    def _claim(self, item: _Item) -> None:
        entry_id = item.wire.entry_id
        for k in item.keys:
            self.signer[k] = entry_id
            self.pending_signer[k] = entry_id
            self.feed.append(k)
        for b in item.blocks:
            self.blocks.setdefault(b, set()).add(entry_id)
            self.pending_blocks[(b, entry_id)] = None
        self.cands[entry_id] = dedup.Candidate.of_record(entry_id, item.record)

    def _release(self, target: _Row) -> None:
        if target.item is not None:  # written by this chunk: drop its pending claims
            keys, blocks = target.item.keys, target.item.blocks
            for k in keys:
                if self.pending_signer.get(k) == target.id:
                    del self.pending_signer[k]
            for b in blocks:
                self.pending_blocks.pop((b, target.id), None)
        else:
            keys = self.target_signer.get(target.id, [])
            blocks = self.target_blocks.get(target.id, [])
            self.release_ids.append(target.id)
        for k in keys:
            if self.signer.get(k) == target.id:
                del self.signer[k]
        for b in blocks:
            self.blocks.get(b, set()).discard(target.id)

    def _store(self, item: _Item, result: EntryResult, *, counted: bool = True) -> EntryResult:
        wire = item.wire
        row = _Row(wire.entry_id, self.device.device_id, wire.device_seq, item.fingerprint,
                   self.batch_id, result.status.value, wire.section, wire.line, None,
                   counted and result.status == EntryStatus.ACCEPTED, item=item, result=result)
        self.rows[row.id] = row
        self.seq_owner[wire.device_seq] = row.id
        if result.status != EntryStatus.REJECTED:
            self.lines.setdefault((wire.section, wire.line), set()).add(row.id)
        self.new_rows.append(row)
        return result

    # ---- writes (bulk) ----
    def write(self, *, part: bool) -> None:
        """``part``: also store the first results of this chunk's new entries as a part of the
        batch (every chunk but the last, whose results go into the batch's response)."""
        s = self.s
        if self.release_ids:
            dedup.release_many(s, self.release_ids)
        dirty = [r for r in self.rows.values() if r.dirty]
        if dirty:
            s.execute(_UPDATE_TARGET, [{"target_id": r.id, "new_superseded_by": r.superseded_by,
                                        "new_counted": r.counted} for r in dirty])
        if self.new_rows:
            dedup.bulk_insert(s, _TABLE, [self._entry_values(r) for r in self.new_rows])
            if part:
                s.execute(insert(BatchPart).values(
                    batch_id=self.batch_id, entry_id=self.new_rows[0].id,
                    device_id=self.device.device_id,
                    results_json=_RESULTS.dump_json([r.result for r in self.new_rows]).decode()))
        dedup.claim_many(s, self.campaign_id, list(self.pending_signer.items()),
                         list(self.pending_blocks), self.feed)
        if self.new_withdrawn:
            now = utcnow()
            s.execute(insert(WithdrawnLine), [
                {"entry_id": entry_id, "campaign_id": self.campaign_id, "withdrawal_id": withdrawal,
                 "withdrawn_at": now} for entry_id, withdrawal in self.new_withdrawn])

    def _entry_values(self, row: _Row) -> dict:
        item, result, wire = row.item, row.result, row.item.wire
        values = {
            "id": row.id, "campaign_id": self.campaign_id, "device_id": row.device_id,
            "device_seq": row.device_seq, "batch_id": row.batch_id, "section": wire.section,
            "line": wire.line, "captured_at": wire.captured_at, "supersedes": wire.supersedes,
            "superseded_by": row.superseded_by, "fingerprint": row.fingerprint,
            "received_at": utcnow(), "status": row.status, "duplicate_of": result.duplicate_of,
            "candidate_of": result.candidate_of, "reason_code": result.reason_code,
            "reason_field": result.field, "counted": row.counted,
        }
        encrypt = self.svc.cipher.encrypt
        rejected = row.status == EntryStatus.REJECTED.value
        for name, column in zip(PERSONAL_FIELDS, _ENC_COLUMNS, strict=True):
            value = item.fields.get(name)
            if rejected and value:
                # A rejected entry never counts and is never a candidate: keep no more of a
                # field than an accepted one may hold, so oversized junk is not stored.
                value = value[:FIELD_LIMITS[name]]
            values[column] = encrypt(value, record_id=row.id, field=name) if value else None
        # Rejected-for-content entries have no record and are never candidates.
        values["enc_match"] = (seal_match(self.svc.cipher, row.id, item.record)
                               if item.record is not None else None)
        return values



def _decide_chunk(s: Session, svc: Services, ctx: CampaignContext, device: DeviceIdentity,
                  batch_id: str, fingerprint: str, items: list[_Item],
                  charge: Callable[[Session], None], *, last: bool,
                  tell_registration: bool) -> list[EntryResult]:
    """``last``: the batch's last chunk (its results go into the response, not a part).
    ``tell_registration``: the device speaks protocol 2 and reads each entry's voter-file
    match in its result, so no outcome repeats it."""
    dedup.lock_keys(s, "", [batch_lock_key(batch_id)])  # a concurrent replay waits here
    record = s.get(BatchRecord, batch_id)
    if record is not None:
        raise _Answered(_replay(record, device, fingerprint), record.response_json)
    charge(s)  # only work is charged: a replay answered above costs its request's token only
    if any(i.record is not None for i in items):
        rotation.guard_index_key(s, ctx.campaign_id, ctx.index_key_id)
    chunk = _Chunk(s, svc, ctx, device, batch_id, items)
    chunk.load()
    results = chunk.decide()
    # The voter-file match of the chunk's stored entries (one PK read when the campaign has
    # none), computed before the writes so the feed counters stay locked only until commit.
    registrations = match_new_entries(s, svc.cipher, ctx.index_key, ctx.campaign_id, [
        NewEntry(r.id, r.device_id, r.item.record, r.result) for r in chunk.new_rows
        if r.status != EntryStatus.REJECTED.value and r.item.record is not None])
    if tell_registration:
        for row in chunk.new_rows:  # before chunk.write: the stored first result says it too
            found = registrations.results.get(row.id)
            if found is not None:
                row.result.registration = found.match
    chunk.write(part=not last)
    registrations.write(s, outcomes=not tell_registration)
    return results


# --------------------------------------------------------------------------------------------
# The batch


def _stored_batch(svc: Services, batch_id: str) -> BatchRecord | None:
    with svc.db.read() as s:
        return s.get(BatchRecord, batch_id)


def _replay(record: BatchRecord, device: DeviceIdentity, fingerprint: str) -> BatchResponse:
    if record.device_id != device.device_id or record.body_fingerprint != fingerprint:
        raise ProblemError(BATCH_ID_CONFLICT)
    return BatchResponse.model_validate_json(record.response_json)


def _entry_charge(svc: Services, device: DeviceIdentity, entries: int) -> Callable[[Session], None]:
    """Charge the device's bucket once for the batch's entries (the request paid one token
    already, so a batch of n costs n): 429 before any of its work when the bucket is short.
    Once only, however often a chunk is retried. In the chunk's own transaction (the bucket
    is a database row; SQLite has one writer at a time)."""
    charged = False

    def charge(s: Session) -> None:
        nonlocal charged
        if not charged and device.metered:
            charge_device(svc, device.device_id, max(0, entries - 1), session=s)
            charged = True

    return charge


def _busy() -> ProblemError:
    return ProblemError(BUSY, "The server is busy; retry the batch later.", headers={"Retry-After": "5"})


def handle_batch(svc: Services, device: DeviceIdentity, req: BatchRequest) -> BatchResponse:
    return decide_batch(svc, device, req)[0]


def decide_batch(svc: Services, device: DeviceIdentity, req: BatchRequest) -> tuple[BatchResponse, str]:
    """The batch's response and its JSON: the JSON stored for replays, which the HTTP route
    sends as it is (serializing 500 results again cost as much as deciding a few entries)."""
    fingerprint = body_fingerprint(req, svc.fingerprint_key)
    record = _stored_batch(svc, req.batch_id)
    if record is not None:
        return _replay(record, device, fingerprint), record.response_json
    ctx = campaign_context(svc, device.campaign_id)
    items = _prepare(ctx, device, req.entries, svc.fingerprint_key)
    charge = _entry_charge(svc, device, len(items))
    chunks = [items[i:i + CHUNK_ENTRIES] for i in range(0, len(items), CHUNK_ENTRIES)] or [[]]
    results: list[EntryResult] = []
    for number, chunk in enumerate(chunks):
        last = number == len(chunks) - 1
        for _attempt in range(MAX_ATTEMPTS):
            try:
                with svc.db.write() as s:
                    decided = _decide_chunk(s, svc, ctx, device, req.batch_id, fingerprint, chunk,
                                            charge, last=last,
                                            tell_registration=req.protocol_version >= 2)
                    if last:
                        response = BatchResponse(batch_id=req.batch_id, results=results + decided,
                                                 server_time=utcnow())
                        response_json = response.model_dump_json()
                        s.execute(insert(BatchRecord).values(
                            batch_id=req.batch_id, device_id=device.device_id,
                            body_fingerprint=fingerprint, response_json=response_json,
                            received_at=utcnow()))
                        # The response now holds every first result a replay can ask for (a
                        # finished batch's replay reads nothing else): none is kept twice.
                        s.execute(delete(BatchPart).where(BatchPart.batch_id == req.batch_id))
                results += decided
                break
            except _Answered as answered:  # a concurrent attempt of this batch finished first
                return answered.response, answered.response_json
            except rotation.StaleIndexKey:  # the index key was rotated meanwhile: reload it
                ctx = campaign_context(svc, device.campaign_id)
                _derive_keys(ctx, items)
            except Exception as exc:  # DBAPIError, or a driver error from COPY
                if not _retryable(exc):
                    raise
                log.info("retrying a batch chunk after %s", type(exc).__name__)
        else:
            raise _busy()
    return response, response_json
