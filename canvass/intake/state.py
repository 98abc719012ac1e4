"""Plain-Python state of the office intake screens (no Flet): an HTTP client for /v1/intake and
/v1/review, the keying form, the review queue and the export.

Every network call is synchronous; views run them in a worker thread. Errors shown to staff
are fixed texts (never a server body, which could echo a signer's data)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from canvass.i18n import OFFICE_REASONS, field_message, reason_key, t
from canvass.staff.text import staff_lang, tr
from sync.client import problem_code_of
from sync.domain import PERSONAL_FIELDS, SignerEntry
from sync.intake.mapping import TARGET_FIELDS
from sync.validation import validate_entry

TIMEOUT = 60.0  # seconds to connect, and between bytes of the answer (an import's upload)


class IntakeError(Exception):
    """A refused or failed request; ``str()`` is safe to show."""

    def __init__(self, text: str, status: int = 0) -> None:
        super().__init__(text)
        self.status = status


class IntakeClient:
    """HTTP calls of the intake panels with the staff session of the one staff login
    (canvass.staff.login_state.StaffLogin); this client never logs in by itself. ``http`` is
    the login's requests.Session when the staff app makes it (one connection pool a tab),
    else a session of its own: the staff app, like the device's sync client, speaks HTTP
    through requests only (tests/test_import_closure.py)."""

    def __init__(self, server_url: str, token: str = "", role: str = "",
                 http: requests.Session | None = None) -> None:
        self.server_url = server_url.rstrip("/")
        self.token = token
        self.role = role
        self.http = http or requests.Session()

    def request(self, method: str, path: str, **kw) -> requests.Response:
        try:
            # No redirect is followed: the bearer token goes to the server's own paths only.
            r = self.http.request(method, f"{self.server_url}{path}", timeout=TIMEOUT,
                                  allow_redirects=False,
                                  headers={"Authorization": f"Bearer {self.token}"}, **kw)
        except requests.RequestException:
            raise IntakeError(tr("intake.err.unreachable")) from None
        if r.status_code == 403:
            raise IntakeError(tr("intake.err.forbidden"), 403)
        if r.status_code == 401:
            raise IntakeError(tr("intake.err.session"), 401)
        if r.status_code >= 400:
            code = problem_code_of(r) or ""
            raise IntakeError(tr("intake.err.refused", status=f"{r.status_code} {code}".strip()),
                              r.status_code)
        return r


# --------------------------------------------------------------------------------------------
# Keying form

# The signer's fields a clerk keys or compares: all but the circulator's own notes.
SIGNER_FIELDS: tuple[str, ...] = tuple(name for name in PERSONAL_FIELDS if name != "notes")
FORM_FIELDS: tuple[str, ...] = ("section", "line", *SIGNER_FIELDS)
# Every field an import can fill has a label.
LABELLED_FIELDS: tuple[str, ...] = TARGET_FIELDS


def field_label(name: str) -> str:
    """The staff label of an entry field (``staff.intake.field.*``)."""
    return tr(f"intake.field.{name}") if name in LABELLED_FIELDS else name


def reason_text(code: int | None, fallback: str = "") -> str:
    """A protocol reason code in the staff language (``staff.intake.reason.<code>``); for a
    code this build does not know, ``fallback`` (the server's English reason) if any."""
    key = reason_key(code, OFFICE_REASONS)
    if fallback and key == reason_key(None, OFFICE_REASONS):
        return fallback
    return t(key, staff_lang())
ADDRESS_FIELDS = ("street", "unit", "city", "zip")
KEEP_AFTER_SAVE = ("section",)
SAVED_OK = ("accepted", "already_received", "duplicate", "possible_duplicate")


@dataclass
class SavedLine:
    section: str
    line: int
    status: str
    field: str | None = None
    reason: str | None = None
    code: int | None = None  # the server's reason code (rejected lines)


class KeyingForm:
    """The keyed paper line: values, instant field errors, save, next line, same address."""

    def __init__(self, client: IntakeClient) -> None:
        self.client = client
        self.values: dict[str, str] = {name: "" for name in FORM_FIELDS}
        self.values["line"] = "1"
        self.previous_address: dict[str, str] = {}
        self.same_address = False
        self.history: list[SavedLine] = []
        self.queue: list[int] = []  # paper lines still to key (from the check-in panel)
        self._sent_from_queue: set[int] = set()  # queued lines being sent (back if refused)

    def key_lines(self, section: str, lines: list[int]) -> None:
        """Key ``lines`` of ``section`` (lines on paper with no entry): the form starts at the
        first one and moves to the next one after each saved line."""
        self.values["section"] = section.strip().upper()
        self.queue = sorted(set(lines))
        if self.queue:
            self.values["line"] = str(self.queue[0])

    def _entry(self, values: dict[str, str] | None = None) -> SignerEntry:
        v = self.values if values is None else values
        try:
            line = int(v["line"])
        except ValueError:
            line = 0
        return SignerEntry(section=v["section"].strip().upper(), line=line,
                           **{k: v[k].strip() for k in FORM_FIELDS if k not in ("section", "line")})

    def errors(self, values: dict[str, str] | None = None) -> dict[str, str]:
        """field -> message for every field with a problem (in the staff language), of the
        form's values or of ``values`` (a line taken at its Enter)."""
        lang = staff_lang()
        return {e.field: field_message(e, lang) for e in validate_entry(self._entry(values))
                if e.field in self.values}

    def field_error(self, name: str) -> str:
        return self.errors().get(name, "")

    def set(self, name: str, value: str) -> None:
        self.values[name] = value

    def set_same_address(self, on: bool) -> None:
        self.same_address = on
        if on and self.previous_address:
            self.values.update(self.previous_address)

    def save(self) -> SavedLine:
        """Send the line; when it is saved, go on to the next one."""
        line = dict(self.values)
        if self.errors(line):
            return self.send(line)
        self.advance(line)
        saved = self.send(line)
        if saved.status not in SAVED_OK:
            self.restore(line)
        return saved

    def advance(self, line: dict[str, str]) -> None:
        """Go on to the line after ``line`` (taken at the Enter that saves it) at once, before
        the server answers, so the clerk types the next line while this one is sent: the
        form keeps the section, takes the next line number and clears the signer (the
        address stays when "same address" is on)."""
        self.previous_address = {k: line[k] for k in ADDRESS_FIELDS}
        number = int(line["line"])
        if number in self.queue:
            self.queue.remove(number)
            self._sent_from_queue.add(number)
        for name in FORM_FIELDS:
            if name not in KEEP_AFTER_SAVE:
                self.values[name] = ""
        self.values["line"] = str(self.queue[0] if self.queue else number + 1)
        if self.same_address:
            self.values.update(self.previous_address)

    def restore(self, line: dict[str, str]) -> None:
        """A line the server did not save goes back into the form, to be corrected."""
        self.values.update(line)
        number = int(line["line"])
        if number in self._sent_from_queue:
            self._sent_from_queue.discard(number)
            self.queue = sorted({*self.queue, number})

    def send(self, line: dict[str, str]) -> SavedLine:
        """Send ``line``; what the server made of it ("invalid" without a request when the
        line has a field error)."""
        errors = self.errors(line)
        if errors:
            first = next(iter(errors))
            return SavedLine(line["section"], int(line["line"] or 0), "invalid", first,
                             errors[first])
        body = {name: value.strip() for name, value in line.items() if name != "line"}
        body["line"] = int(line["line"])
        result = self.client.request("POST", "/v1/intake/lines", json=body).json()["result"]
        saved = SavedLine(body["section"].upper(), body["line"], result["status"], result.get("field"),
                          result.get("reason"), result.get("reason_code"))
        self.history.append(saved)
        return saved


# --------------------------------------------------------------------------------------------
# Review

COMPARED_FIELDS = SIGNER_FIELDS


def _norm(text: str) -> str:
    return " ".join((text or "").casefold().split())


@dataclass
class ReviewState:
    client: IntakeClient
    items: list[dict] = field(default_factory=list)
    index: int = 0
    decided: int = 0
    last: str = ""
    undoable: str = ""  # the entry of this tab's last decision, while it may be undone

    def load(self) -> None:
        self.items = self.client.request("GET", "/v1/review/queue").json()["items"]
        self.index = 0

    @property
    def current(self) -> dict | None:
        return self.items[self.index] if 0 <= self.index < len(self.items) else None

    def differences(self) -> list[str]:
        item = self.current
        if not item or not item.get("candidate"):
            return []
        a, b = item["entry"]["fields"], item["candidate"]["fields"]
        return [f for f in COMPARED_FIELDS if _norm(a.get(f, "")) != _norm(b.get(f, ""))]

    def decide(self, decision: str) -> str:
        """duplicate / not_duplicate are sent; skip moves on and leaves the item queued."""
        item = self.current
        if item is None:
            return ""
        if decision == "skip":
            self.items.append(self.items.pop(self.index))
            self.last = "skipped"
            if self.index >= len(self.items):
                self.index = 0
            return self.last
        entry_id = item["entry"]["entry_id"]
        r = self.client.request("POST", f"/v1/review/{entry_id}/decision",
                                json={"decision": decision})
        self.items.pop(self.index)
        if self.index >= len(self.items):
            self.index = 0
        self.decided += 1
        self.last = r.json()["status"]
        self.undoable = entry_id
        return self.last

    def undo(self) -> str:
        """Take back this staff member's last decision (the server keeps the window and the
        audit); the entry is first in the queue again. Its entry id."""
        entry_id = self.client.request("POST", "/v1/review/undo").json()["entry_id"]
        self.undoable = ""
        self.decided = max(0, self.decided - 1)
        self.last = "undone"
        self.load()
        ids = [item["entry"]["entry_id"] for item in self.items]
        self.index = ids.index(entry_id) if entry_id in ids else 0
        return entry_id


# --------------------------------------------------------------------------------------------
# Check-in, import, export


def check_in(client: IntakeClient, serial: str, returned_by: str, signed_lines: int,
             skipped: str, declaration: list[str]) -> dict:
    return client.request("POST", f"/v1/intake/sections/{serial.strip().upper()}/checkin", json={
        "returned_by": returned_by, "signed_lines": signed_lines, "skipped_lines": skipped,
        "declaration": declaration}).json()


def reconciliation(client: IntakeClient) -> dict:
    return client.request("GET", "/v1/intake/reconciliation").json()


def export_readiness(client: IntakeClient) -> str:
    """What the filing export will be, said before the download (GET /v1/filing/check): the
    final file, or a DRAFT while the filing check finds things to fix (the server names the
    file filing-DRAFT.csv then and marks it inside)."""
    check = client.request("GET", "/v1/filing/check").json()
    if check["final"]:
        return tr("intake.export.final")
    return tr("intake.export.draft", count=f"{check['blocking']:,}")


def import_file(client: IntakeClient, name: str, data: bytes, mapping: dict[str, str] | None = None,
                wait: bool = False) -> dict:
    form = {"wait": "true" if wait else "false"}
    if mapping:
        form["mapping"] = json.dumps(mapping)
    return client.request("POST", "/v1/intake/imports", data=form,
                          files={"file": (name, data, "application/octet-stream")}).json()


def import_status(client: IntakeClient, job_id: str) -> dict:
    return client.request("GET", f"/v1/intake/imports/{job_id}").json()


def preview_import(client: IntakeClient, name: str, data: bytes,
                   mapping: dict[str, str] | None = None) -> dict:
    form = {"mapping": json.dumps(mapping)} if mapping is not None else {}
    return client.request("POST", "/v1/intake/imports/preview", data=form,
                          files={"file": (name, data, "application/octet-stream")}).json()


# --------------------------------------------------------------------------------------------
# Import: choose a file -> map columns -> preview -> import with progress -> counts


CHOOSE, MAPPING, RUNNING, DONE, FAILED = "choose", "mapping", "running", "done", "failed"
NO_COLUMN = ""  # a field the import leaves empty


@dataclass
class PreviewRow:
    row: int
    cells: list[str]  # the mapped values, in the order of ImportState.shown_fields()
    errors: list[str]  # "field: reason" in the staff language (empty = the row imports)
    blank: bool = False


class ImportState:
    """The import panel without Flet. ``choose`` asks the server's preview endpoint for its
    mapping guess and the first rows; ``set_column`` changes one field's column (the preview is
    then asked again with the staff member's mapping); ``start`` starts the job and ``poll``
    follows it. ``clock`` (monotonic seconds) gives the rows per second."""

    def __init__(self, client: IntakeClient, clock: Callable[[], float] = time.monotonic) -> None:
        self.client, self.clock = client, clock
        self.reset()

    def reset(self) -> None:
        self.step = CHOOSE
        self.file_name, self.data = "", b""
        self.headers: list[str] = []
        self.fields: list[str] = []
        self.mapping: dict[str, str] = {}  # field -> header
        self.missing: list[str] = []
        self.rows: list[dict] = []
        self.total_rows = 0
        self.job: dict = {}
        self.started = 0.0
        self.finished = 0.0
        self.error = ""

    # ---- mapping and preview -----------------------------------------------------------
    def choose(self, name: str, data: bytes) -> None:
        """A file was picked: the server guesses the mapping and previews the first rows."""
        self.reset()
        self.file_name, self.data = name, data
        self._take_preview(preview_import(self.client, name, data))
        self.step = MAPPING

    def _take_preview(self, answer: dict) -> None:
        self.headers = list(answer["headers"])
        self.fields = list(answer["fields"])
        self.mapping = dict(answer["mapping"])
        self.missing = list(answer["missing"])
        self.rows = list(answer["rows"])
        self.total_rows = int(answer.get("total_rows") or 0)

    def set_column(self, target: str, header: str) -> None:
        """Feed ``target`` from column ``header`` (NO_COLUMN: leave it empty); the preview is
        refreshed with the new mapping."""
        if target not in self.fields or (header != NO_COLUMN and header not in self.headers):
            raise ValueError("no such field or column")
        mapping = {k: v for k, v in self.mapping.items() if k != target}
        if header != NO_COLUMN:
            mapping[target] = header
        self._take_preview(preview_import(self.client, self.file_name, self.data, mapping))

    def column_of(self, target: str) -> str:
        return self.mapping.get(target, NO_COLUMN)

    @property
    def can_import(self) -> bool:
        return self.step == MAPPING and not self.missing

    def missing_text(self) -> str:
        if not self.missing:
            return ""
        return tr("intake.import.missing", fields=", ".join(field_label(f) for f in self.missing))

    def shown_fields(self) -> list[str]:
        """The mapped fields, in the entry's field order (the preview's columns)."""
        return [f for f in self.fields if f in self.mapping]

    def preview_rows(self) -> list[PreviewRow]:
        shown = self.shown_fields()
        out = []
        for row in self.rows:
            values = row.get("values") or {}
            errors = [f"{field_label(e['field'])}: {reason_text(e.get('reason_code'), e.get('reason', ''))}"
                      for e in row.get("errors") or []]
            out.append(PreviewRow(int(row["row"]), [str(values.get(f, "")) for f in shown], errors,
                                  bool(row.get("blank"))))
        return out

    def preview_summary(self) -> str:
        rows = self.preview_rows()
        bad = sum(1 for r in rows if r.errors and not r.blank)
        return tr("intake.import.preview_summary", shown=len(rows), total=self.total_rows, bad=bad)

    # ---- the import job ------------------------------------------------------------------
    def start(self) -> None:
        if not self.can_import:
            raise IntakeError(self.missing_text() or tr("intake.import.choose_first"))
        self.started = self.clock()
        self.error = ""
        self._take_job(import_file(self.client, self.file_name, self.data, self.mapping))

    def poll(self) -> None:
        if self.step == RUNNING:
            self._take_job(import_status(self.client, self.job["job_id"]))

    def _take_job(self, job: dict) -> None:
        self.job = job
        state = job.get("state")
        self.step = RUNNING if state == "running" else DONE if state == "done" else FAILED
        if self.step != RUNNING and not self.finished:
            self.finished = self.clock()
        if self.step == FAILED:
            self.error = tr("intake.import.failed")

    @property
    def rows_done(self) -> int:
        return int(self.job.get("rows_done") or 0)

    @property
    def rows_total(self) -> int:
        return int(self.job.get("total_rows") or self.total_rows or 0)

    @property
    def fraction(self) -> float:
        if self.step == DONE:
            return 1.0
        return min(1.0, self.rows_done / self.rows_total) if self.rows_total else 0.0

    def rate(self) -> float:
        """Rows per second since the import started."""
        end = self.finished or self.clock()
        elapsed = end - self.started
        return self.rows_done / elapsed if elapsed > 0 else 0.0

    def progress_text(self) -> str:
        if not self.job:
            return ""
        return tr("intake.import.progress", done=self.rows_done, total=self.rows_total,
                  rate=f"{self.rate():,.0f}")

    def finished_text(self) -> str:
        """The end of an import: the rows that reached the drive, not the rows read (a rejected
        or blank row is read but not imported, and saying "imported 8 of 8" then "rejected: 4"
        contradicted itself)."""
        c = self.counts()
        total = c["total"] or self.rows_done
        imported = max(0, total - c["rejected"] - c["blank"])
        return tr("intake.import.finished", imported=f"{imported:,}", total=f"{total:,}",
                  rejected=f"{c['rejected']:,}", blank=f"{c['blank']:,}",
                  rate=f"{self.rate():,.0f}")

    def counts(self) -> dict[str, int]:
        """Where the rows went: new, already received, duplicates (possible ones are queued for
        review), rejected (in the rejection file), blank. They add up to the rows read."""
        c = self.job.get("counts") or {}
        return {"new": c.get("accepted", 0), "already_received": c.get("already_received", 0),
                "duplicates": c.get("duplicate", 0) + c.get("possible_duplicate", 0),
                "review": c.get("possible_duplicate", 0),
                "rejected": int(self.job.get("rejected_rows") or 0), "blank": c.get("blank", 0),
                "total": c.get("total", 0)}

    def counts_text(self) -> str:
        return tr("intake.import.counts", **self.counts())

    @property
    def has_rejections(self) -> bool:
        return self.step == DONE and self.counts()["rejected"] > 0

    def rejections_name(self) -> str:
        """The name of the rejection file (original cells plus row, reason code, field and
        reason), as the server names it; the file itself is a download link
        (canvass.staff.downloads)."""
        return f"rejections-{self.job['job_id'][:8]}.csv"


# --------------------------------------------------------------------------------------------
# Check-in and reconciliation

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
