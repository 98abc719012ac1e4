"""Signers' withdrawals (Elections Code 11303): until the petition is filed, a signer may ask
for their signature to be taken off it.

A clerk records the request (who, when, how it came: mail, email, in person). The server
matches it to the signer's entry with its own matcher (``sync.server.dedup``: the signer's
exact matching keys, then the fuzzy candidates of their blocking keys, scored by
``sync.scoring.score_pair``); there is no second matcher here. One exact match is applied at
once; anything fuzzy, ambiguous or unmatched waits for a person, who picks the candidate (or
says none is the signer). Applying marks the counted entry and the lines that repeat it
(duplicates of it) withdrawn: the entry stops counting and frees its keys (like a superseded
one), an outcome row tells the dashboard's rollup to recompute its bucket, and the audit log
says who did it. The lines stay on the paper, so reconciliation still finds them.

Once the campaign has filed (``IntakeSettings.filed_on`` reached), withdrawals are refused.

Personal data: the request's fields are sealed (``Withdrawal.enc_signer``); candidates are
stored as entry ids and scores only; problems and audit rows carry ids.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sync.domain import as_utc, utcnow
from sync.ids import new_uuid7
from sync.matching import blocking_keys, matching_keys
from sync.normalize import normalized_record
from sync.problem_codes import (
    ALREADY_FILED,
    BUSY,
    ENTRY_NOT_COUNTED,
    INVALID_RECEIVED_AT,
    NOT_A_CANDIDATE,
    NOT_FOUND,
    NOT_PENDING,
    PURGED,
)
from sync.server import dedup, rotation
from sync.server.audit import audit
from sync.server.ingest import campaign_context
from sync.server.models import WITHDRAWAL_SEALED_FIELD as SEALED_FIELD
from sync.server.models import Entry, IntakeSettings, Withdrawal, WithdrawnLine
from sync.server.problems import ProblemError
from sync.server.review import emit_outcome
from sync.server.schemas import (
    WithdrawalCandidate,
    WithdrawalCreate,
    WithdrawalView,
    WithdrawnLineView,
)
from sync.server.services import Services

PENDING, WITHDRAWN, NOT_MATCHED = "pending", "withdrawn", "not_matched"
MAX_CANDIDATES = 10  # shown to the clerk, best first
_FUZZY = ("duplicate", "possible_duplicate")  # score_pair decisions worth showing


def campaign_today(timezone: str, now: datetime | None = None) -> date:
    """The campaign's date (``timezone``: Settings.timezone) now, or at ``now``."""
    return (now or utcnow()).astimezone(ZoneInfo(timezone)).date()


def filed_on(s: Session, campaign_id: str) -> date | None:
    row = s.get(IntakeSettings, campaign_id)
    return date.fromisoformat(row.filed_on) if row is not None and row.filed_on else None


def refuse_if_filed(s: Session, campaign_id: str, received_at: datetime | None = None, *,
                    timezone: str) -> None:
    """409 once the petition is filed: every section is filed at once (EC 11222(a)), and a
    withdrawal counts only if it came before (EC 11303)."""
    filed = filed_on(s, campaign_id)
    if filed is None:
        return
    if campaign_today(timezone) >= filed or (received_at is not None
                                             and campaign_today(timezone, received_at) >= filed):
        raise ProblemError(ALREADY_FILED)


# --------------------------------------------------------------------------------------------
# Matching (the server's matcher, read only)


def find_candidates(s: Session, svc: Services, index_key: bytes, campaign_id: str,
                    fields: dict[str, str]) -> list[dict]:
    """The counted entries that may be this signer: exact key owners first (score 1), then
    fuzzy candidates by score. Ids, kinds and scores only."""
    exact = dedup.exact_owners(s, campaign_id, matching_keys(index_key, fields))
    out = [{"entry_id": e, "match": "exact", "score": 1.0} for e in exact]
    record = normalized_record(fields)
    fuzzy = [(entry_id, result.score) for entry_id, result in dedup.scored_candidates(
        s, svc.cipher, svc.candidates, campaign_id, record, blocking_keys(index_key, record))
        if result.decision in _FUZZY and entry_id not in exact]
    out += [{"entry_id": e, "match": "fuzzy", "score": round(float(score), 4)}
            for e, score in sorted(fuzzy, key=lambda p: (-p[1], p[0]))]
    return out[:MAX_CANDIDATES]


def _match_kind(candidates: list[dict]) -> str:
    if not candidates:
        return "none"
    exact = [c for c in candidates if c["match"] == "exact"]
    return "exact" if len(exact) == 1 else "fuzzy"


# --------------------------------------------------------------------------------------------
# Applying a withdrawal


def apply(s: Session, w: Withdrawal, entry_id: str, actor: str, how: str) -> list[str]:
    """Mark the signer's counted entry and its duplicates withdrawn (in the caller's write
    transaction); returns the entry ids withdrawn."""
    entry = s.get(Entry, entry_id, with_for_update=True)
    if (entry is None or entry.campaign_id != w.campaign_id or not entry.counted
            or entry.superseded_by is not None):
        raise ProblemError(ENTRY_NOT_COUNTED)
    repeats = list(s.scalars(select(Entry).where(
        Entry.campaign_id == w.campaign_id, Entry.duplicate_of == entry.id,
        Entry.superseded_by.is_(None))))
    already = set(s.scalars(select(WithdrawnLine.entry_id).where(
        WithdrawnLine.entry_id.in_([entry.id, *(r.id for r in repeats)]))))
    # The same key locks ingest takes (dedup.lock_keys), then the keys are freed like a
    # superseded entry's: a later signature of this person is a new one.
    signer, blocks = dedup.claims_of(s, [entry.id])
    dedup.lock_keys(s, w.campaign_id, [f"m:{k}" for k in signer.get(entry.id, [])]
                    + [f"b:{b}" for b in blocks.get(entry.id, [])])
    dedup.release_many(s, [entry.id])
    entry.counted = False
    now = utcnow()
    withdrawn = [e.id for e in (entry, *repeats) if e.id not in already]
    for eid in withdrawn:
        s.add(WithdrawnLine(entry_id=eid, campaign_id=w.campaign_id, withdrawal_id=w.id,
                            withdrawn_at=now))
    s.flush()
    # The counted figure changed: the outcomes feed is what the dashboard rollup watches
    # (sync.server.dashboard.rollup._dirty); the device sees its entry's unchanged status again.
    emit_outcome(s, entry)
    w.state, w.entry_id, w.decided_by, w.decided_at = WITHDRAWN, entry.id, actor, now
    audit(s, actor, "withdrawal.apply", w.id, f"{how}: {len(withdrawn)} lines")  # entry: w.entry_id
    return withdrawn


def record(svc: Services, campaign_id: str, body: WithdrawalCreate, actor: str,
           username: str) -> str:
    """Store the request sealed, match it, and apply a single exact match at once."""
    received = as_utc(body.received_at)
    if received > utcnow() + timedelta(minutes=5):
        raise ProblemError(INVALID_RECEIVED_AT)
    ctx = campaign_context(svc, campaign_id)
    fields = body.signer.model_dump()
    with svc.db.read() as s:
        refuse_if_filed(s, campaign_id, received, timezone=svc.settings.timezone)
        candidates = find_candidates(s, svc, ctx.index_key, campaign_id, fields)
    match = _match_kind(candidates)
    wid = new_uuid7()
    with svc.db.write() as s:
        _guard(s, campaign_id, ctx.index_key_id)
        refuse_if_filed(s, campaign_id, received, timezone=svc.settings.timezone)
        w = Withdrawal(id=wid, campaign_id=campaign_id, received_at=received,
                       received_via=body.received_via, recorded_by=username,
                       recorded_at=utcnow(), state=PENDING, match=match,
                       candidates_json=json.dumps(candidates), decided_by="",
                       enc_signer=svc.cipher.encrypt(json.dumps(fields, sort_keys=True),
                                                     record_id=wid, field=SEALED_FIELD))
        s.add(w)
        audit(s, actor, "withdrawal.record", wid, f"{body.received_via} match={match}")
        s.flush()
        if match == "exact":
            exact = next(c for c in candidates if c["match"] == "exact")
            try:  # apply checks before it changes anything
                apply(s, w, exact["entry_id"], actor, "exact")
            except ProblemError:
                pass  # it stopped counting meanwhile: stays pending, a person looks at it
    return wid


def rematch(svc: Services, campaign_id: str, wid: str, actor: str) -> None:
    """Match a pending request again (the signer's entry may have arrived since)."""
    ctx = campaign_context(svc, campaign_id)
    with svc.db.read() as s:
        w = _load(s, campaign_id, wid)
        if w.state != PENDING:
            raise ProblemError(NOT_PENDING)
        fields = signer_fields(svc, w)
        if fields is None:
            raise ProblemError(PURGED)
        candidates = find_candidates(s, svc, ctx.index_key, campaign_id, fields)
    with svc.db.write() as s:
        w = _load(s, campaign_id, wid, lock=True)
        w.candidates_json, w.match = json.dumps(candidates), _match_kind(candidates)
        audit(s, actor, "withdrawal.rematch", wid, f"match={w.match}")


def decide(svc: Services, campaign_id: str, wid: str, decision: str, entry_id: str | None,
           actor: str) -> None:
    """A person's decision on a pending request: withdraw this candidate, or none matches."""
    ctx = campaign_context(svc, campaign_id)
    with svc.db.write() as s:
        w = _load(s, campaign_id, wid, lock=True)
        if w.state != PENDING:
            raise ProblemError(NOT_PENDING)
        if decision == "not_a_match":
            w.state, w.decided_by, w.decided_at = NOT_MATCHED, actor, utcnow()
            audit(s, actor, "withdrawal.not_a_match", wid)
            return
        refuse_if_filed(s, campaign_id, as_utc(w.received_at), timezone=svc.settings.timezone)
        if not entry_id or entry_id not in {c["entry_id"] for c in json.loads(w.candidates_json)}:
            raise ProblemError(NOT_A_CANDIDATE)
        _guard(s, campaign_id, ctx.index_key_id)
        apply(s, w, entry_id, actor, "confirmed")


def _guard(s: Session, campaign_id: str, key_id: int) -> None:
    """The index key this request matched under is still the campaign's (rotation.py)."""
    try:
        rotation.guard_index_key(s, campaign_id, key_id)
    except rotation.StaleIndexKey:
        raise ProblemError(BUSY, "The campaign's keys just changed; retry.",
                           headers={"Retry-After": "1"}) from None


def _load(s: Session, campaign_id: str, wid: str, *, lock: bool = False) -> Withdrawal:
    w = s.get(Withdrawal, wid, with_for_update=lock)
    if w is None or w.campaign_id != campaign_id:
        raise ProblemError(NOT_FOUND, "No such withdrawal in your campaign.")
    return w


# --------------------------------------------------------------------------------------------
# Reading


def signer_fields(svc: Services, w: Withdrawal) -> dict[str, str] | None:
    if w.enc_signer is None:
        return None
    return json.loads(svc.cipher.decrypt(w.enc_signer, record_id=w.id, field=SEALED_FIELD))


def view(svc: Services, campaign_id: str, wid: str, *, personal: bool = True) -> WithdrawalView:
    with svc.db.read() as s:
        return _view(svc, s, _load(s, campaign_id, wid), personal=personal)


def list_views(svc: Services, campaign_id: str, limit: int) -> list[WithdrawalView]:
    with svc.db.read() as s:
        rows = s.scalars(select(Withdrawal).where(Withdrawal.campaign_id == campaign_id)
                         .order_by(Withdrawal.recorded_at.desc(), Withdrawal.id).limit(limit))
        return [_view(svc, s, w, personal=False) for w in rows]


def _view(svc: Services, s: Session, w: Withdrawal, *, personal: bool) -> WithdrawalView:
    stored = json.loads(w.candidates_json or "[]")
    entries = {e.id: e for e in s.scalars(select(Entry).where(
        Entry.id.in_([c["entry_id"] for c in stored] or [""])))}
    candidates = []
    if w.state == PENDING:  # the clerk compares them with the request; decided: not needed
        for c in stored:
            e = entries.get(c["entry_id"])
            if e is None:
                continue
            candidates.append(WithdrawalCandidate(
                entry_id=e.id, section=e.section, line=e.line, match=c["match"], score=c["score"],
                fields=dedup.decrypt_fields(svc.cipher, e) if personal else {}))
    lines = [WithdrawnLineView(entry_id=eid, section=section, line=line)
             for eid, section, line in s.execute(
                 select(Entry.id, Entry.section, Entry.line)
                 .join(WithdrawnLine, WithdrawnLine.entry_id == Entry.id)
                 .where(WithdrawnLine.withdrawal_id == w.id).order_by(Entry.section, Entry.line))]
    return WithdrawalView(id=w.id, state=w.state, match=w.match, received_at=as_utc(w.received_at),
                          received_via=w.received_via, recorded_by=w.recorded_by,
                          recorded_at=as_utc(w.recorded_at),
                          signer=signer_fields(svc, w) if personal else None,
                          candidates=candidates, entry_id=w.entry_id, lines=lines,
                          decided_by=w.decided_by)


def withdrawn_entry_ids(s: Session, campaign_id: str) -> set[str]:
    return set(s.scalars(select(WithdrawnLine.entry_id).where(
        WithdrawnLine.campaign_id == campaign_id)))


def purge_withdrawals(s: Session, campaign_id: str) -> int:
    """Drop the requests' sealed fields and scored candidates (the retention purge,
    sync/server/purge.py, calls this); the lines withdrawn and the dates stay: they are
    figures the campaign keeps."""
    return s.execute(update(Withdrawal).where(Withdrawal.campaign_id == campaign_id)
                     .values(enc_signer=None, candidates_json="[]")).rowcount or 0
