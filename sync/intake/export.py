"""The filing export: per-section line counts, totals, the duplicate lines and the lines
withdrawn by their signers (EC 11303), as CSV, ending with the filing check: ``final`` only
when nothing blocks filing (sync.intake.filing_check), else ``DRAFT`` and what blocks.

Signer data may be used only to qualify the petition (Elections Code 18650). The filing export
therefore holds section serials, line numbers, statuses and counts -- never a name, address,
phone or email -- and there is deliberately no "contact list" export at all. Who may export and
the audit entry are the API's job (sync.server.routes.retention).

Also here: the retention rule that decides when a campaign's signer data must be purged.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sync.csv_cells import csv_writer
from sync.domain import PERSONAL_FIELDS
from sync.intake.filing_check import FilingCheck
from sync.intake.reconcile import FilingReadiness

SUMMARY_COLUMNS = ("section", "status", "circulator", "paper_lines", "entry_lines",
                   "counted_lines", "duplicate_lines", "pending_review", "missing_lines",
                   "extra_lines", "declaration_complete", "blockers", "withdrawn_lines")
DUPLICATE_COLUMNS = ("section", "line", "status", "duplicate_of_section", "duplicate_of_line",
                     "entry_id", "duplicate_of")
WITHDRAWN_COLUMNS = ("section", "withdrawn_line")
CHECK_COLUMNS = ("filing", "blocker", "rule", "section", "lines")
FINAL, DRAFT = "final", "DRAFT"

# Columns an export may never carry (checked by export_columns_are_safe and the tests): every
# personal field of an entry, and the names a joined name or address would go by.
FORBIDDEN_EXPORT_COLUMNS = frozenset({*PERSONAL_FIELDS, "name", "address"})


@dataclass(frozen=True)
class DuplicateLine:
    section: str
    line: int
    status: str  # duplicate or possible_duplicate
    entry_id: str
    duplicate_of: str = ""
    duplicate_of_section: str = ""
    duplicate_of_line: int | None = None


def _writer(buffer: io.StringIO):
    return csv_writer(buffer)  # serials and circulator names come from devices and clerks


def summary_csv(readiness: FilingReadiness) -> str:
    """One row per section plus a TOTAL row."""
    buffer = io.StringIO()
    writer = _writer(buffer)
    writer.writerow(SUMMARY_COLUMNS)
    totals = dict.fromkeys(("paper", "entry", "counted", "dup", "review", "missing", "extra",
                            "withdrawn"), 0)
    for r in readiness.sections:
        writer.writerow([r.serial, r.status.value, r.circulator, r.paper_lines, r.entry_lines,
                         r.counted_lines, len(r.duplicate_lines), len(r.pending_review),
                         len(r.missing_lines), len(r.extra_lines),
                         "yes" if r.check_ins and not r.declaration_missing else "no",
                         " ".join(r.blockers), len(r.withdrawn_lines)])
        totals["paper"] += r.paper_lines
        totals["entry"] += r.entry_lines
        totals["counted"] += r.counted_lines
        totals["dup"] += len(r.duplicate_lines)
        totals["review"] += len(r.pending_review)
        totals["missing"] += len(r.missing_lines)
        totals["extra"] += len(r.extra_lines)
        totals["withdrawn"] += len(r.withdrawn_lines)
    writer.writerow(["TOTAL", "ready_to_file" if readiness.ready else "blocked", "",
                     totals["paper"], totals["entry"], totals["counted"], totals["dup"],
                     totals["review"], totals["missing"], totals["extra"], "",
                     str(len(readiness.blockers)), totals["withdrawn"]])
    return buffer.getvalue()


def duplicates_csv(lines: Iterable[DuplicateLine]) -> str:
    buffer = io.StringIO()
    writer = _writer(buffer)
    writer.writerow(DUPLICATE_COLUMNS)
    for d in sorted(lines, key=lambda d: (d.section, d.line)):
        writer.writerow([d.section, d.line, d.status, d.duplicate_of_section,
                         "" if d.duplicate_of_line is None else d.duplicate_of_line,
                         d.entry_id, d.duplicate_of])
    return buffer.getvalue()


def withdrawn_csv(readiness: FilingReadiness) -> str:
    """Per section, the lines whose signers withdrew (they stay on paper, they do not count)."""
    buffer = io.StringIO()
    writer = _writer(buffer)
    writer.writerow(WITHDRAWN_COLUMNS)
    for r in readiness.sections:
        for line in r.withdrawn_lines:
            writer.writerow([r.serial, line])
    return buffer.getvalue()


def check_csv(check: FilingCheck | None) -> str:
    """The filing check: one ``final`` row when nothing blocks, else ``DRAFT`` and a row per
    blocker. No check given: a draft (the export never calls itself final unchecked)."""
    buffer = io.StringIO()
    writer = _writer(buffer)
    writer.writerow(CHECK_COLUMNS)
    if check is not None and check.ready:
        writer.writerow([FINAL, "", "", "", ""])
        return buffer.getvalue()
    blockers = check.blockers if check is not None else []
    writer.writerow([DRAFT, f"{len(blockers)} blocking" if check is not None else "not checked",
                     "", "", ""])
    for b in blockers:
        writer.writerow([DRAFT, b.code, b.rule, b.serial or "", " ".join(map(str, b.lines))])
    return buffer.getvalue()


def filing_csv(readiness: FilingReadiness, duplicates: Iterable[DuplicateLine],
               check: FilingCheck | None = None) -> str:
    """The tables in one file, separated by blank lines: what the office prints to file."""
    return "\r\n".join((summary_csv(readiness), duplicates_csv(duplicates),
                        withdrawn_csv(readiness), check_csv(check)))


def export_columns_are_safe(columns: Iterable[str]) -> bool:
    return not (set(columns) & FORBIDDEN_EXPORT_COLUMNS)


# --------------------------------------------------------------------------------------------
# Retention


def purge_after(filed_on: date | None, deadline: date, retention_days: int) -> date:
    """The day from which signer data must be purged: ``retention_days`` after filing (or after
    the deadline when the campaign never filed)."""
    return (filed_on or deadline) + timedelta(days=max(retention_days, 0))


def purge_due(now: datetime, filed_on: date | None, deadline: date, retention_days: int) -> bool:
    return now.date() >= purge_after(filed_on, deadline, retention_days)
