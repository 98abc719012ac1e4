"""After filing: the filing export's list of duplicate lines, and retention (how long signer
data is kept after filing, and whether the purge is due)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from sync.domain import utcnow
from sync.intake import export as export_logic
from sync.protocol import EntryStatus
from sync.server.models import Campaign, Entry, IntakeSettings


def duplicate_lines(s, campaign_id: str) -> list[export_logic.DuplicateLine]:
    rows = s.execute(select(Entry.id, Entry.section, Entry.line, Entry.status, Entry.duplicate_of,
                            Entry.candidate_of).where(
        Entry.campaign_id == campaign_id, Entry.superseded_by.is_(None),
        Entry.status.in_([EntryStatus.DUPLICATE.value, EntryStatus.POSSIBLE_DUPLICATE.value]))).all()
    targets = {r.duplicate_of or r.candidate_of for r in rows} - {None}
    where = {}
    if targets:
        where = {t.id: (t.section, t.line) for t in s.execute(
            select(Entry.id, Entry.section, Entry.line).where(Entry.id.in_(list(targets))))}
    out = []
    for r in rows:
        other = r.duplicate_of or r.candidate_of or ""
        section, line = where.get(other, ("", None))
        out.append(export_logic.DuplicateLine(r.section, r.line, r.status, r.id, other, section, line))
    return out


def intake_settings(s, cid: str) -> IntakeSettings:
    row = s.get(IntakeSettings, cid)
    if row is None:
        row = IntakeSettings(campaign_id=cid, retention_days=90, filed_on="", purged=False)
        s.add(row)
    return row


def retention_view(row: IntakeSettings, campaign: Campaign) -> dict:
    filed = date.fromisoformat(row.filed_on) if row.filed_on else None
    deadline = date.fromisoformat(campaign.deadline)
    return {"retention_days": row.retention_days, "filed_on": row.filed_on or None,
            "purge_after": export_logic.purge_after(filed, deadline, row.retention_days).isoformat(),
            "purge_due": export_logic.purge_due(utcnow(), filed, deadline, row.retention_days),
            "purged": bool(row.purged)}
