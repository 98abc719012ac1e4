"""What stands between the campaign and filing, each thing with the rule it breaks.

Per section and for the whole drive:

- ``declaration_incomplete`` (Elections Code 104): the circulator's declaration on the
  returned paper lacks a part (reconcile.DECLARATION_PARTS);
- ``line_gap`` / ``line_repeated`` (EC 100): the section's lines are numbered 1, 2, 3...
  without a number left out (unless the paper shows it blank or struck out, or
  reconciliation already lists it as a line to key) and without a number used twice;
- ``county_missing``: the returned section does not name its county;
- ``dated_before_window`` (EC 11220) / ``dated_after_deadline``: a line is dated before the
  160-day circulation window that ends at the deadline, or after the deadline;
- the reconciliation blockers of every section (``not_returned``, ``missing_lines``,
  ``rejected_lines``, ``extra_entries``, ``review_pending``): every section is returned and
  reconciled, because all sections are filed at once (EC 11222(a));
- ``no_sections``: nothing to file at all.

Pure logic over reconcile's data (line numbers, statuses, dates and ids; no personal data).
Dates of lines are campaign-local dates of their capture time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sync.intake.reconcile import LINE_STATUSES, CheckIn, EntryLine, FilingReadiness

CIRCULATION_DAYS = 160  # EC 11220

RULES: dict[str, str] = {
    "declaration_incomplete": "EC 104",
    "line_gap": "EC 100",
    "line_repeated": "EC 100",
    "county_missing": "county on each section",
    "dated_before_window": "EC 11220",
    "dated_after_deadline": "filing deadline",
    "not_returned": "EC 11222(a)",
    "missing_lines": "EC 11222(a)",
    "rejected_lines": "EC 11222(a)",
    "extra_entries": "EC 11222(a)",
    "review_pending": "EC 11222(a)",
    "no_sections": "EC 11222(a)",
}


@dataclass(frozen=True)
class Blocker:
    code: str
    serial: str | None  # None: the whole drive
    lines: tuple[int, ...] = ()
    parts: tuple[str, ...] = ()  # declaration parts missing

    @property
    def rule(self) -> str:
        return RULES[self.code]

    def as_dict(self) -> dict:
        return {"code": self.code, "rule": self.rule, "serial": self.serial,
                "lines": list(self.lines), "parts": list(self.parts)}


@dataclass
class FilingCheck:
    window_start: date
    deadline: date
    blockers: list[Blocker] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.blockers

    @property
    def blocking(self) -> int:
        return len(self.blockers)

    def by_section(self) -> dict[str, list[Blocker]]:
        out: dict[str, list[Blocker]] = {}
        for b in self.blockers:
            if b.serial is not None:
                out.setdefault(b.serial, []).append(b)
        return out

    def as_dict(self) -> dict:
        return {"ready": self.ready, "final": self.ready, "blocking": self.blocking,
                "window_start": self.window_start.isoformat(),
                "deadline": self.deadline.isoformat(),
                "blockers": [b.as_dict() for b in self.blockers],
                "sections": {serial: [b.as_dict() for b in found]
                             for serial, found in sorted(self.by_section().items())}}


def window_start(deadline: date, days: int = CIRCULATION_DAYS) -> date:
    """The first day a line may be dated: the window of ``days`` days ends at the deadline."""
    return deadline - timedelta(days=days - 1)


def check_filing(readiness: FilingReadiness, lines: Iterable[EntryLine],
                 check_ins: Iterable[CheckIn], *, deadline: date, timezone: str = "UTC",
                 window_days: int = CIRCULATION_DAYS) -> FilingCheck:
    """Every blocker of the drive (see the module docstring), section by section in serial
    order, then the drive's own."""
    zone = ZoneInfo(timezone)
    start = window_start(deadline, window_days)
    latest: dict[str, CheckIn] = {}
    for c in check_ins:
        if c.serial not in latest or c.returned_at >= latest[c.serial].returned_at:
            latest[c.serial] = c
    active: dict[str, list[EntryLine]] = {}
    for e in lines:
        if not e.superseded and e.status in LINE_STATUSES:
            active.setdefault(e.section, []).append(e)
    result = FilingCheck(window_start=start, deadline=deadline)
    for report in readiness.sections:
        serial = report.serial
        found: list[Blocker] = []
        for code in report.blockers:
            if code == "declaration_incomplete":
                found.append(Blocker(code, serial, parts=tuple(report.declaration_missing)))
            else:
                found.append(Blocker(code, serial, lines=tuple(_reconcile_lines(report, code))))
        checked = latest.get(serial)
        section_lines = active.get(serial, [])
        numbers: dict[int, int] = {}
        for e in section_lines:
            numbers[e.line] = numbers.get(e.line, 0) + 1
        repeated = sorted(n for n, k in numbers.items() if k > 1)
        known = set(numbers) | set(report.missing_lines) | set(report.rejected_lines)
        skipped = checked.skipped_lines if checked else frozenset()
        top = max(known | set(checked.paper_lines() if checked else ()), default=0)
        gaps = [n for n in range(1, top + 1) if n not in known and n not in skipped]
        if gaps:
            found.append(Blocker("line_gap", serial, lines=tuple(gaps)))
        if repeated:
            found.append(Blocker("line_repeated", serial, lines=tuple(repeated)))
        if checked is not None and not checked.county.strip():
            found.append(Blocker("county_missing", serial))
        early, late = set(), set()
        for e in section_lines:
            if e.captured_at is None:
                continue
            day = e.captured_at.astimezone(zone).date()
            if day < start:
                early.add(e.line)
            elif day > deadline:
                late.add(e.line)
        if early:
            found.append(Blocker("dated_before_window", serial, lines=tuple(sorted(early))))
        if late:
            found.append(Blocker("dated_after_deadline", serial, lines=tuple(sorted(late))))
        result.blockers.extend(found)
    if not readiness.sections:
        result.blockers.append(Blocker("no_sections", None))
    return result


def _reconcile_lines(report, code: str) -> list[int]:
    return {"missing_lines": report.missing_lines, "rejected_lines": report.rejected_lines,
            "extra_entries": report.extra_lines,
            "review_pending": report.pending_review}.get(code, [])
