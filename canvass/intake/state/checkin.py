"""Check-in of returned sections and the reconciliation of paper lines with entries."""

from __future__ import annotations

from dataclasses import dataclass

from canvass.intake.state.client import IntakeClient, IntakeError
from canvass.staff.text import tr


def check_in(client: IntakeClient, serial: str, returned_by: str, signed_lines: int,
             skipped: str, declaration: list[str]) -> dict:
    return client.request("POST", f"/v1/intake/sections/{serial.strip().upper()}/checkin", json={
        "returned_by": returned_by, "signed_lines": signed_lines, "skipped_lines": skipped,
        "declaration": declaration}).json()


def reconciliation(client: IntakeClient) -> dict:
    return client.request("GET", "/v1/intake/reconciliation").json()



SECTION_STATUSES = ("issued", "out", "returned", "reconciled", "ready_to_file")
BLOCKERS = ("not_returned", "missing_lines", "rejected_lines", "extra_entries",
            "declaration_incomplete", "review_pending")


def line_list(lines: list[int]) -> str:
    """[3, 4, 5, 9] -> "3-5, 9"."""
    runs: list[list[int]] = []
    for n in sorted(set(lines)):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


@dataclass
class SectionRow:
    serial: str
    status: str  # staff text of the status
    paper_lines: int
    entry_lines: int
    blocks: list[str]  # what still blocks filing, in the staff language
    to_key: list[int]  # paper lines with no entry (or only a rejected one): key them


class CheckInState:
    """The check-in and reconciliation panel without Flet."""

    def __init__(self, client: IntakeClient) -> None:
        self.client = client
        self.readiness: dict = {}
        self.report: dict = {}

    def check_in(self, serial: str, returned_by: str, signed_lines: str, skipped: str,
                 declaration: list[str]) -> dict:
        try:
            lines = int(signed_lines.strip())
        except ValueError:
            raise IntakeError(tr("intake.checkin.lines_needed")) from None
        self.report = check_in(self.client, serial, returned_by, lines, skipped, declaration)
        return self.report

    def report_text(self) -> str:
        r = self.report
        if not r:
            return ""
        none = tr("intake.none")
        return tr("intake.checkin.report", serial=r["serial"], status=status_text(r["status"]),
                  missing=line_list(r["missing_lines"]) or none,
                  extra=line_list(r["extra_lines"]) or none,
                  declaration=", ".join(tr(f"intake.decl.{p}") for p in r["declaration_missing"])
                  or none)

    def load(self) -> None:
        self.readiness = reconciliation(self.client)

    @property
    def ready(self) -> bool:
        return bool(self.readiness.get("ready"))

    def totals_text(self) -> str:
        totals = self.readiness.get("totals") or {}
        parts = [f"{status_text(s)}: {totals.get(s, 0)}" for s in SECTION_STATUSES]
        return tr("intake.recon.totals", sections=totals.get("sections", 0), statuses="; ".join(parts))

    def headline(self) -> str:
        if not self.readiness:
            return ""
        if not self.readiness.get("sections"):
            return tr("intake.recon.no_sections")
        if self.ready:
            return tr("intake.recon.ready")
        count = len(self.readiness.get("blockers") or [])
        return tr("intake.recon.blocked_one") if count == 1 else tr("intake.recon.blocked", count=count)

    def rows(self) -> list[SectionRow]:
        out = []
        for s in self.readiness.get("sections") or []:
            out.append(SectionRow(s["serial"], status_text(s["status"]), s["paper_lines"],
                                  s["entry_lines"], [blocker_text(b, s) for b in s["blockers"]],
                                  sorted(set(s["missing_lines"]) | set(s["rejected_lines"]))))
        return out


def status_text(status: str) -> str:
    return tr(f"intake.section.{status}") if status in SECTION_STATUSES else status


def blocker_text(blocker: str, section: dict) -> str:
    """One thing that blocks filing a section, with its lines, in the staff language."""
    if blocker not in BLOCKERS:
        return blocker.replace("_", " ")
    lines = {"missing_lines": section.get("missing_lines"),
             "rejected_lines": section.get("rejected_lines"),
             "extra_entries": section.get("extra_lines"),
             "review_pending": section.get("pending_review")}.get(blocker) or []
    parts = ", ".join(tr(f"intake.decl.{p}") for p in section.get("declaration_missing") or [])
    return tr(f"intake.blocker.{blocker}", lines=line_list(lines), parts=parts)
