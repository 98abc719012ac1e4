"""Paper sections at the office: issuing them, checking them in, and what reconciliation reads
(entry ids, lines and statuses only: no personal field) for one section or the campaign."""

from __future__ import annotations

from sqlalchemy import select

from sync.domain import as_utc, utcnow
from sync.intake.reconcile import (
    DECLARATION_PARTS,
    CheckIn,
    EntryLine,
    SectionIssue,
    parse_line_list,
    reconcile_campaign,
    reconcile_section,
)
from sync.problem_codes import INVALID_DECLARATION, INVALID_SERIAL, INVALID_SKIPPED_LINES, NOT_FOUND
from sync.protocol import EntryStatus
from sync.server.audit import audit, staff_actor
from sync.server.auth import StaffIdentity
from sync.server.models import Campaign, Device, Entry, PaperSection, SectionCheckIn, WithdrawnLine
from sync.server.problems import ProblemError
from sync.server.schemas import CheckInRequest, IssueRequest
from sync.server.services import Services
from sync.validation import validate_section_serial


def entry_lines(s, campaign_id: str, serial: str | None = None) -> list[EntryLine]:
    stmt = select(Entry.id, Entry.section, Entry.line, Entry.status, Entry.superseded_by,
                  WithdrawnLine.entry_id.label("withdrawn"), Entry.captured_at).outerjoin(
        WithdrawnLine, WithdrawnLine.entry_id == Entry.id).where(Entry.campaign_id == campaign_id)
    if serial is not None:
        stmt = stmt.where(Entry.section == serial)
    # Entries stored with an invalid serial (before ingest refused them) are left out.
    return [EntryLine(r.id, r.section, r.line, r.status, r.superseded_by is not None,
                      r.withdrawn is not None, as_utc(r.captured_at))
            for r in s.execute(stmt) if validate_section_serial(r.section) is None]


def check_ins(s, campaign_id: str, serial: str | None = None) -> list[CheckIn]:
    stmt = select(SectionCheckIn).where(SectionCheckIn.campaign_id == campaign_id)
    if serial is not None:
        stmt = stmt.where(SectionCheckIn.serial == serial)
    out = []
    for row in s.scalars(stmt.order_by(SectionCheckIn.id)):
        skipped = frozenset(int(x) for x in row.skipped_lines.split(",") if x)
        parts = frozenset(p for p in row.declaration.split(",") if p)
        out.append(CheckIn(row.serial, row.returned_by, as_utc(row.returned_at), row.signed_lines,
                           skipped, parts, row.received_by, row.county or ""))
    return out


def section_issues(s, campaign_id: str, serial: str | None = None) -> list[SectionIssue]:
    stmt = select(PaperSection).where(PaperSection.campaign_id == campaign_id)
    if serial is not None:
        stmt = stmt.where(PaperSection.serial == serial)
    return [SectionIssue(p.serial, p.circulator, p.handed_out_at is not None) for p in s.scalars(stmt)]


def check_serial(serial: str) -> str:
    serial = serial.strip().upper()
    if validate_section_serial(serial) is not None:
        raise ProblemError(INVALID_SERIAL)
    return serial


def section_report(svc: Services, campaign_id: str, serial: str) -> dict:
    with svc.db.read() as s:
        checks = check_ins(s, campaign_id, serial)
        report = reconcile_section(serial, entry_lines(s, campaign_id, serial), checks,
                                   next(iter(section_issues(s, campaign_id, serial)), None))
    out = report.as_dict()
    out["history"] = [{"returned_by": c.returned_by, "returned_at": c.returned_at.isoformat(),
                       "signed_lines": c.signed_lines, "received_by": c.received_by,
                       "declaration_missing": list(c.declaration_missing)} for c in checks]
    out["next_line"] = (report.missing_lines[0] if report.missing_lines
                        else max([0, *keyed_lines(svc, campaign_id, serial)]) + 1)
    return out


def keyed_lines(svc: Services, campaign_id: str, serial: str) -> list[int]:
    with svc.db.read() as s:
        return list(s.scalars(select(Entry.line).where(
            Entry.campaign_id == campaign_id, Entry.section == serial,
            Entry.superseded_by.is_(None), Entry.status != EntryStatus.REJECTED.value)))


def team_sections(s, campaign_id: str, teams: set[str]) -> set[str]:
    """The sections a team lead may see: those their teams' devices wrote entries in."""
    if not teams:
        return set()
    return set(s.scalars(select(Entry.section).distinct().join(
        Device, Device.id == Entry.device_id).where(
        Entry.campaign_id == campaign_id, Device.team.in_(sorted(teams)))))


def issue_sections(svc: Services, staff: StaffIdentity, campaign_id: str, body: IssueRequest) -> int:
    """Record sections as issued (and handed out); returns how many distinct serials."""
    serials = [check_serial(s) for s in body.serials]
    now = utcnow()
    with svc.db.write() as s:
        for serial in dict.fromkeys(serials):
            row = s.get(PaperSection, (campaign_id, serial))
            if row is None:
                row = PaperSection(campaign_id=campaign_id, serial=serial, circulator=body.circulator,
                                   issued_at=now)
                s.add(row)
            elif body.circulator:
                row.circulator = body.circulator
            if body.handed_out and row.handed_out_at is None:
                row.handed_out_at = now
        audit(s, staff_actor(staff), "sections.issue", campaign_id, f"{len(serials)} sections")
    return len(set(serials))


def record_check_in(svc: Services, staff: StaffIdentity, campaign_id: str, serial: str,
                    body: CheckInRequest) -> None:
    """One return of a section to the office (``serial`` already checked)."""
    unknown = set(body.declaration) - set(DECLARATION_PARTS)
    if unknown:
        raise ProblemError(INVALID_DECLARATION)
    try:
        skipped = parse_line_list(body.skipped_lines)
    except ValueError:
        raise ProblemError(INVALID_SKIPPED_LINES) from None
    returned_at = as_utc(body.returned_at) if body.returned_at else utcnow()
    with svc.db.write() as s:
        if s.get(Campaign, campaign_id) is None:
            raise ProblemError(NOT_FOUND, "No such campaign.")
        s.add(SectionCheckIn(campaign_id=campaign_id, serial=serial, returned_by=body.returned_by,
                             returned_at=returned_at, signed_lines=body.signed_lines,
                             skipped_lines=",".join(str(n) for n in sorted(skipped)),
                             declaration=",".join(p for p in DECLARATION_PARTS
                                                  if p in body.declaration),
                             received_by=staff.username, recorded_at=utcnow(),
                             county=body.county.strip()))
        audit(s, staff_actor(staff), "section.checkin", serial, f"{body.signed_lines} lines")


def campaign_reconciliation(svc: Services, campaign_id: str, teams: set[str] | None) -> dict:
    """The campaign's reconciliation; a team lead's (``teams``) covers their teams' sections."""
    with svc.db.read() as s:
        lines, checks = entry_lines(s, campaign_id), check_ins(s, campaign_id)
        issues = section_issues(s, campaign_id)
        if teams is not None:  # a team lead: their teams' sections only
            mine = team_sections(s, campaign_id, teams)
            lines = [x for x in lines if x.section in mine]
            checks = [x for x in checks if x.serial in mine]
            issues = [x for x in issues if x.serial in mine]
    return reconcile_campaign(lines, checks, issues).as_dict()
