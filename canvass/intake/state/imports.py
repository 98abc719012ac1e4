"""Import: choose a file -> map columns -> preview -> import with progress -> counts."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from canvass.intake.state.client import IntakeClient, IntakeError
from canvass.intake.state.labels import field_label, reason_text
from canvass.staff.text import tr


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
