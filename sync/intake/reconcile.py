"""Paper against app: reconciling returned petition sections with the entries the server holds.

The paper section is the legal record. When a circulator returns a section, office staff record
who returned it, when, how many lines are signed on the paper (and which line numbers were left
blank or struck out), and whether the circulator's declaration (Elections Code 104) is complete.
``reconcile_section`` then compares the paper lines with the entries received for that section:

- ``missing_lines``: signed on paper, no entry in Canvass -> key them in at the office;
- ``extra_lines``: an entry in Canvass, no signed line on paper -> investigate;
- ``rejected_lines``: on paper, but the only entry was rejected -> key in a corrected line;
- ``pending_review``: lines whose entry waits for a person's duplicate decision.

A section is filed with all the others at once (Elections Code 11222(a)), so
``filing_readiness`` lists everything that still blocks filing across the campaign.

Pure logic: no database, no personal data (line numbers, statuses and ids only).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# Parts of the circulator's declaration (Elections Code 104) the office checks on the paper.
DECLARATION_PARTS: tuple[str, ...] = (
    "circulator_name",
    "residence_address",
    "dates_gathered",
    "signature",
    "date_and_place",
)
DECLARATION_LABELS: dict[str, str] = {
    "circulator_name": "circulator's printed name",
    "residence_address": "circulator's residence address",
    "dates_gathered": "dates the signatures were gathered",
    "signature": "circulator's signature",
    "date_and_place": "date and place of signing",
}

# Entry statuses whose entry stands for a signed line on the paper (a duplicate signer still
# signed that line; the line is on paper and keyed, it just does not count).
LINE_STATUSES = frozenset({"accepted", "duplicate", "possible_duplicate", "already_received"})
REVIEW_STATUSES = frozenset({"possible_duplicate"})


class SectionStatus(StrEnum):
    ISSUED = "issued"  # known to the campaign, nothing happened yet
    OUT = "out"  # with a circulator: handed out, or entries arrived from the field
    RETURNED = "returned"  # paper back at the office; paper and app do not agree yet
    RECONCILED = "reconciled"  # every paper line has its entry and no entry lacks a line
    READY = "ready_to_file"  # reconciled, declaration complete, no review pending


@dataclass(frozen=True)
class CheckIn:
    """One return of a paper section to the office."""

    serial: str
    returned_by: str  # the circulator (or person) who handed it in, as staff recorded it
    returned_at: datetime
    signed_lines: int  # number of signed lines on the paper
    skipped_lines: frozenset[int] = frozenset()  # blank or struck-out line numbers among them
    declaration: frozenset[str] = frozenset()  # DECLARATION_PARTS present on the paper
    received_by: str = ""  # the staff user who checked it in
    county: str = ""  # the county the section names (the filing check's rule)

    def paper_lines(self) -> frozenset[int]:
        """The signed line numbers: the first ``signed_lines`` numbers from 1 that are not skipped."""
        lines: list[int] = []
        number = 0
        while len(lines) < self.signed_lines:
            number += 1
            if number not in self.skipped_lines:
                lines.append(number)
        return frozenset(lines)

    @property
    def declaration_missing(self) -> tuple[str, ...]:
        return tuple(part for part in DECLARATION_PARTS if part not in self.declaration)

    @property
    def declaration_complete(self) -> bool:
        return not self.declaration_missing


@dataclass(frozen=True)
class EntryLine:
    """What reconciliation needs of one server entry: never its personal fields."""

    entry_id: str
    section: str
    line: int
    status: str
    superseded: bool = False  # a later correction replaced it
    withdrawn: bool = False  # the signer withdrew (EC 11303): still a line, no longer counted
    captured_at: datetime | None = None  # when it was signed (the filing check's date rules)


@dataclass(frozen=True)
class SectionIssue:
    """A section the campaign issued (printed / assigned), optionally handed to a circulator."""

    serial: str
    circulator: str = ""
    handed_out: bool = False


@dataclass
class SectionReport:
    serial: str
    status: SectionStatus
    circulator: str = ""
    check_ins: int = 0  # how many times the paper was returned
    returned_by: str = ""
    returned_at: datetime | None = None
    paper_lines: int = 0
    entry_lines: int = 0
    missing_lines: list[int] = field(default_factory=list)
    extra_lines: list[int] = field(default_factory=list)
    rejected_lines: list[int] = field(default_factory=list)
    pending_review: list[int] = field(default_factory=list)
    duplicate_lines: list[int] = field(default_factory=list)
    withdrawn_lines: list[int] = field(default_factory=list)  # the signer withdrew (EC 11303)
    counted_lines: int = 0
    declaration_missing: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def blockers(self) -> list[str]:
        """Machine words for what keeps this section from being filed (empty = ready)."""
        out: list[str] = []
        if self.status in (SectionStatus.ISSUED, SectionStatus.OUT):
            out.append("not_returned")
        if self.missing_lines:
            out.append("missing_lines")
        if self.rejected_lines:
            out.append("rejected_lines")
        if self.extra_lines:
            out.append("extra_entries")
        if self.check_ins and self.declaration_missing:
            out.append("declaration_incomplete")
        if self.pending_review:
            out.append("review_pending")
        return out

    def as_dict(self) -> dict:
        return {
            "serial": self.serial,
            "status": str(self.status),
            "circulator": self.circulator,
            "check_ins": self.check_ins,
            "returned_by": self.returned_by,
            "returned_at": self.returned_at.isoformat() if self.returned_at else None,
            "paper_lines": self.paper_lines,
            "entry_lines": self.entry_lines,
            "counted_lines": self.counted_lines,
            "missing_lines": self.missing_lines,
            "extra_lines": self.extra_lines,
            "rejected_lines": self.rejected_lines,
            "pending_review": self.pending_review,
            "duplicate_lines": self.duplicate_lines,
            "withdrawn_lines": self.withdrawn_lines,
            "declaration_missing": self.declaration_missing,
            "warnings": self.warnings,
            "blockers": self.blockers,
        }


def _active(entries: Iterable[EntryLine]) -> list[EntryLine]:
    return [e for e in entries if not e.superseded]


def reconcile_section(
    serial: str,
    entries: Sequence[EntryLine],
    check_ins: Sequence[CheckIn] = (),
    issue: SectionIssue | None = None,
) -> SectionReport:
    """Compare the latest paper check-in of ``serial`` with its entries (see module doc).

    A section returned more than once is reconciled against its latest check-in; the earlier
    ones stay in its history, and a changed line count is reported as a warning.
    """
    ordered = sorted(check_ins, key=lambda c: c.returned_at)
    active = _active(e for e in entries if e.section == serial)
    by_line: dict[int, list[EntryLine]] = {}
    for entry in active:
        by_line.setdefault(entry.line, []).append(entry)
    line_entries = {line: [e for e in group if e.status in LINE_STATUSES]
                    for line, group in by_line.items()}
    keyed = {line for line, group in line_entries.items() if group}
    rejected_only = {line for line, group in by_line.items() if not line_entries[line]}

    report = SectionReport(serial=serial, status=SectionStatus.ISSUED,
                           circulator=issue.circulator if issue else "")
    report.entry_lines = len(keyed)
    report.pending_review = sorted(
        line for line in keyed if any(e.status in REVIEW_STATUSES for e in line_entries[line]))
    report.duplicate_lines = sorted(
        line for line in keyed if any(e.status == "duplicate" for e in line_entries[line]))
    report.withdrawn_lines = sorted(
        line for line in keyed if any(e.withdrawn for e in line_entries[line]))
    report.counted_lines = sum(
        1 for line in keyed if any(e.status in ("accepted", "already_received") and not e.withdrawn
                                   for e in line_entries[line]))
    for line, group in sorted(line_entries.items()):
        if len(group) > 1:
            report.warnings.append(f"line_{line}_has_{len(group)}_entries")

    if not ordered:
        report.status = SectionStatus.OUT if (active or (issue and issue.handed_out)) \
            else SectionStatus.ISSUED
        report.rejected_lines = sorted(rejected_only)
        return report

    latest = ordered[-1]
    report.check_ins = len(ordered)
    report.returned_by = latest.returned_by
    report.returned_at = latest.returned_at
    paper = latest.paper_lines()
    report.paper_lines = len(paper)
    report.missing_lines = sorted(paper - keyed - rejected_only)
    report.rejected_lines = sorted(paper & rejected_only)
    report.extra_lines = sorted(keyed - paper)
    report.declaration_missing = list(latest.declaration_missing)
    if len(ordered) > 1:
        report.warnings.append(f"returned_{len(ordered)}_times")
        if len({c.signed_lines for c in ordered}) > 1:
            report.warnings.append("paper_line_count_changed")

    if report.missing_lines or report.extra_lines or report.rejected_lines:
        report.status = SectionStatus.RETURNED
    elif report.declaration_missing or report.pending_review:
        report.status = SectionStatus.RECONCILED
    else:
        report.status = SectionStatus.READY
    return report


@dataclass
class FilingReadiness:
    ready: bool
    sections: list[SectionReport]
    blockers: list[dict]  # {"serial", "blocker"} pairs
    totals: dict[str, int]

    def as_dict(self) -> dict:
        return {"ready": self.ready, "blockers": self.blockers, "totals": self.totals,
                "sections": [s.as_dict() for s in self.sections]}


def reconcile_campaign(
    entries: Iterable[EntryLine],
    check_ins: Iterable[CheckIn] = (),
    issues: Iterable[SectionIssue] = (),
) -> FilingReadiness:
    """Every section the campaign knows of (issued, with entries, or checked in), reconciled.

    All sections are filed at once (Elections Code 11222(a)): the campaign is ready only when
    every section is ready to file.
    """
    entries_by: dict[str, list[EntryLine]] = {}
    for entry in entries:
        entries_by.setdefault(entry.section, []).append(entry)
    checks_by: dict[str, list[CheckIn]] = {}
    for check in check_ins:
        checks_by.setdefault(check.serial, []).append(check)
    issue_by = {issue.serial: issue for issue in issues}
    serials = sorted(set(entries_by) | set(checks_by) | set(issue_by))
    reports = [reconcile_section(s, entries_by.get(s, []), checks_by.get(s, []), issue_by.get(s))
               for s in serials]
    blockers = [{"serial": r.serial, "blocker": b} for r in reports for b in r.blockers]
    totals = {status.value: 0 for status in SectionStatus}
    for r in reports:
        totals[r.status.value] += 1
    totals["sections"] = len(reports)
    totals["paper_lines"] = sum(r.paper_lines for r in reports)
    totals["entry_lines"] = sum(r.entry_lines for r in reports)
    totals["counted_lines"] = sum(r.counted_lines for r in reports)
    totals["withdrawn_lines"] = sum(len(r.withdrawn_lines) for r in reports)
    totals["missing_lines"] = sum(len(r.missing_lines) for r in reports)
    totals["extra_lines"] = sum(len(r.extra_lines) for r in reports)
    return FilingReadiness(ready=bool(reports) and not blockers, sections=reports,
                           blockers=blockers, totals=totals)


def parse_line_list(text: str) -> frozenset[int]:
    """ "3, 7-9" -> {3, 7, 8, 9}: how staff type the blank or struck-out lines of a section."""
    out: set[int] = set()
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        low, sep, high = part.partition("-")
        try:
            start = int(low)
            end = int(high) if sep else start
        except ValueError:
            raise ValueError("line list: use numbers and ranges like 3, 7-9") from None
        if start < 1 or end < start or end - start > 1000:
            raise ValueError("line list: use numbers and ranges like 3, 7-9")
        out.update(range(start, end + 1))
    return frozenset(out)
