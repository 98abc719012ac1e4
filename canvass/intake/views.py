"""Office intake panels of the staff app (Flet 1.0): keying form, review queue, check-in,
import, export. The staff app (canvass.staff.app) logs in once and opens them by role.

Keyboard first: every field is reached by Tab, Enter saves the line from any field, the next
line number is filled in and the cursor goes back to the first name. In review, D / N / S
decide duplicate / not a duplicate / skip. Network calls run in worker threads."""

from __future__ import annotations

import asyncio

import flet as ft

from canvass.intake.state import (
    COMPARED_FIELDS,
    FORM_FIELDS,
    IntakeClient,
    IntakeError,
    KeyingForm,
    ReviewState,
    check_in,
    export_filing,
    import_file,
    import_status,
    reconciliation,
)
from sync.intake.reconcile import DECLARATION_LABELS, DECLARATION_PARTS

STATUS_TEXT = {
    "accepted": "saved",
    "already_received": "already saved (no change)",
    "duplicate": "saved: same signer as an earlier line (duplicate)",
    "possible_duplicate": "saved: may repeat an earlier signer (queued for review)",
    "rejected": "refused",
    "conflict": "refused (conflict)",
    "invalid": "not saved",
}


class KeyingView(ft.Column):
    def __init__(self, form: KeyingForm) -> None:
        self.form = form
        self.touched: set[str] = set()
        self.fields: dict[str, ft.TextField] = {}
        for name, label in FORM_FIELDS:
            self.fields[name] = ft.TextField(
                label=label, value=form.values[name], width=260 if name != "street" else 400,
                autofocus=name == "section", on_submit=self._save,
                on_change=lambda e, n=name: self._changed(n, e.control.value),
                on_blur=lambda e, n=name: self._blurred(n))
        self.same = ft.Checkbox(label="Same address as previous line", value=False,
                                on_change=self._same_changed)
        self.status = ft.Text("", semantics_label="", size=16)
        self.saved_count = ft.Text("Lines saved: 0")
        f = self.fields
        super().__init__(controls=[
            ft.Text("Key paper lines", size=22, weight=ft.FontWeight.BOLD),
            ft.Text("Tab moves between fields; Enter saves the line."),
            ft.Row([f["section"], f["line"]]),
            ft.Row([f["first_name"], f["middle_name"], f["last_name"], f["suffix"]], wrap=True),
            self.same,
            ft.Row([f["street"], f["unit"]]),
            ft.Row([f["city"], f["zip"]]),
            ft.Row([f["phone"], f["email"]]),
            ft.Button(content="Save line", on_click=self._save),
            self.status, self.saved_count,
        ], spacing=10)

    def _show_error(self, name: str) -> bool:
        """Set the field's error; True when it changed (only then is the field redrawn, so a
        keystroke never round-trips the whole form while the clerk types)."""
        if name not in self.touched:
            return False
        error = self.form.field_error(name) or None
        if error == self.fields[name].error:
            return False
        self.fields[name].error = error
        return True

    def _changed(self, name: str, value: str) -> None:
        self.form.set(name, value or "")
        # A field shows its error once visited; while typing, only an error going away is shown.
        if name in self.touched and not self.form.field_error(name) and self._show_error(name):
            self.fields[name].update()

    def _blurred(self, name: str) -> None:
        self.touched.add(name)
        if self._show_error(name):
            self.fields[name].update()

    def _same_changed(self, e) -> None:
        self.form.set_same_address(bool(e.control.value))
        self._refresh_values()
        self.update()

    def _refresh_values(self) -> None:
        for name, control in self.fields.items():
            control.value = self.form.values[name]

    async def _save(self, _e=None) -> None:
        try:
            saved = await asyncio.to_thread(self.form.save)
        except IntakeError as exc:
            self.status.value = str(exc)
            self.update()
            return
        text = f"Line {saved.line} of section {saved.section}: {STATUS_TEXT.get(saved.status, saved.status)}"
        if saved.field and saved.status in ("invalid", "rejected"):
            label = dict(FORM_FIELDS).get(saved.field, saved.field)
            text += f" ({label}: {saved.reason or 'check this field'})"
            self.touched.add(saved.field)
            self._show_error(saved.field)
        self.status.value = text
        self.status.semantics_label = text
        if saved.status not in ("invalid", "rejected", "conflict"):
            self.touched.clear()
            for control in self.fields.values():
                control.error = None
            self._refresh_values()
            done = sum(1 for h in self.form.history if h.status != "rejected")
            self.saved_count.value = f"Lines saved: {done}"
            self.update()
            await self.fields["first_name"].focus()
            return
        self.update()
        if saved.field in self.fields:
            await self.fields[saved.field].focus()


class ReviewView(ft.Column):
    def __init__(self, state: ReviewState) -> None:
        self.state = state
        self.body = ft.Column(spacing=6)
        self.status = ft.Text("")
        super().__init__(controls=[
            ft.Text("Review possible duplicates", size=22, weight=ft.FontWeight.BOLD),
            ft.Text("D: duplicate   N: not a duplicate   S: skip"),
            ft.Row([self._button("Duplicate (D)", "duplicate"),
                    self._button("Not a duplicate (N)", "not_duplicate"),
                    self._button("Skip (S)", "skip")]),
            self.status, self.body], spacing=10)

    def _button(self, text: str, decision: str) -> ft.Button:
        async def click(_e=None) -> None:
            await self.decide(decision)

        return ft.Button(content=text, on_click=click)

    def render(self) -> None:
        item = self.state.current
        self.body.controls.clear()
        left = len(self.state.items)
        if item is None:
            self.body.controls.append(ft.Text("No possible duplicates are waiting."))
            self.status.value = f"Review queue empty. Decided: {self.state.decided}"
            return
        self.status.value = f"Items waiting: {left}. Decided: {self.state.decided}"
        differs = set(self.state.differences())
        entry, cand = item["entry"], item.get("candidate") or {"fields": {}, "section": "", "line": ""}
        self.body.controls.append(ft.Row([
            ft.Text("Field", width=140, weight=ft.FontWeight.BOLD),
            ft.Text(f"New: section {entry['section']} line {entry['line']}", width=300,
                    weight=ft.FontWeight.BOLD),
            ft.Text(f"Earlier: section {cand['section']} line {cand['line']}", width=300,
                    weight=ft.FontWeight.BOLD)]))
        for name in COMPARED_FIELDS:
            a, b = entry["fields"].get(name, ""), cand["fields"].get(name, "")
            if not a and not b:
                continue
            mark = name in differs
            label = dict(FORM_FIELDS).get(name, name)
            self.body.controls.append(ft.Container(
                bgcolor=ft.Colors.AMBER_100 if mark else None, padding=4,
                content=ft.Row([ft.Text(label + (" (differs)" if mark else ""), width=140),
                                ft.Text(a, width=300), ft.Text(b, width=300)])))

    async def load(self) -> None:
        try:
            await asyncio.to_thread(self.state.load)
        except IntakeError as exc:
            self.status.value = str(exc)
            self.update()
            return
        self.render()
        self.update()

    async def decide(self, decision: str) -> None:
        if self.state.current is None:
            return
        try:
            await asyncio.to_thread(self.state.decide, decision)
        except IntakeError as exc:
            self.status.value = str(exc)
            self.update()
            return
        self.render()
        self.status.value = f"Last decision: {self.state.last}. " + self.status.value
        self.update()


class CheckInView(ft.Column):
    def __init__(self, client: IntakeClient) -> None:
        self.client = client
        self.serial = ft.TextField(label="Section serial", autofocus=True, on_submit=self._submit)
        self.returned_by = ft.TextField(label="Returned by", on_submit=self._submit)
        self.lines = ft.TextField(label="Signed lines on paper", on_submit=self._submit)
        self.skipped = ft.TextField(label="Blank or struck lines (e.g. 3, 7-9)", on_submit=self._submit)
        self.parts = {p: ft.Checkbox(label=DECLARATION_LABELS[p], value=False) for p in DECLARATION_PARTS}
        self.result = ft.Text("")
        self.blockers = ft.Text("")
        super().__init__(controls=[
            ft.Text("Section check-in", size=22, weight=ft.FontWeight.BOLD),
            self.serial, self.returned_by, self.lines, self.skipped,
            ft.Text("Circulator's declaration (Elections Code 104) has:"),
            *self.parts.values(),
            ft.Row([ft.Button(content="Check in", on_click=self._submit),
                    ft.Button(content="Show what blocks filing", on_click=self._blockers)]),
            self.result, self.blockers], spacing=8)

    async def _submit(self, _e=None) -> None:
        try:
            lines = int(self.lines.value or "")
        except ValueError:
            self.lines.error = "Type the number of signed lines"
            self.update()
            return
        self.lines.error = None
        try:
            report = await asyncio.to_thread(
                check_in, self.client, self.serial.value or "", self.returned_by.value or "", lines,
                self.skipped.value or "", [p for p, box in self.parts.items() if box.value])
        except IntakeError as exc:
            self.result.value = str(exc)
        else:
            self.result.value = (
                f"Section {report['serial']}: {report['status']}. Missing lines (key them in): "
                f"{report['missing_lines'] or 'none'}. Entries with no paper line (investigate): "
                f"{report['extra_lines'] or 'none'}. Declaration missing: "
                f"{', '.join(report['declaration_missing']) or 'nothing'}.")
        self.update()

    async def _blockers(self, _e=None) -> None:
        try:
            data = await asyncio.to_thread(reconciliation, self.client)
        except IntakeError as exc:
            self.blockers.value = str(exc)
        else:
            if data["ready"]:
                self.blockers.value = "Every section is ready to file."
            else:
                self.blockers.value = "Blocks filing: " + "; ".join(
                    f"{b['serial']}: {b['blocker'].replace('_', ' ')}" for b in data["blockers"])
        self.update()


class ImportView(ft.Column):
    def __init__(self, client: IntakeClient, picker: ft.FilePicker) -> None:
        self.client, self.picker = client, picker
        self.progress = ft.ProgressBar(value=0, width=400)
        self.status = ft.Text("")
        super().__init__(controls=[
            ft.Text("Import CSV or XLSX", size=22, weight=ft.FontWeight.BOLD),
            ft.Text("Columns are matched by their headers; rejected rows go to a file you can download."),
            ft.Button(content="Choose file and import", on_click=self._pick),
            self.progress, self.status], spacing=10)

    async def _pick(self, _e=None) -> None:
        files = await self.picker.pick_files(allowed_extensions=["csv", "xlsx"], with_data=True)
        if not files or files[0].bytes is None:
            return
        try:
            job = await asyncio.to_thread(import_file, self.client, files[0].name, files[0].bytes)
            while job["state"] == "running":
                total = job["total_rows"] or 1
                self.progress.value = job["rows_done"] / total
                self.status.value = f"Imported {job['rows_done']} of {job['total_rows']} rows"
                self.update()
                await asyncio.sleep(1)
                job = await asyncio.to_thread(import_status, self.client, job["job_id"])
        except IntakeError as exc:
            self.status.value = str(exc)
        else:
            self.progress.value = 1
            c = job["counts"]
            self.status.value = (f"Import {job['state']}: {c.get('total', 0)} rows, "
                                 f"{c.get('accepted', 0)} new, {c.get('already_received', 0)} already "
                                 f"received, {job['rejected_rows']} rejected.")
        self.update()


class ExportView(ft.Column):
    def __init__(self, client: IntakeClient, picker: ft.FilePicker) -> None:
        self.client, self.picker = client, picker
        self.status = ft.Text("")
        controls: list[ft.Control] = [ft.Text("Export for filing", size=22, weight=ft.FontWeight.BOLD)]
        if client.role == "admin":
            controls += [ft.Text("Per-section line counts, totals and duplicate lines. "
                                 "The export is recorded in the audit log."),
                         ft.Button(content="Download filing export", on_click=self._export)]
        else:
            controls.append(ft.Text("Only an admin can export signer data for filing."))
        super().__init__(controls=controls + [self.status], spacing=10)

    async def _export(self, _e=None) -> None:
        try:
            data = await asyncio.to_thread(export_filing, self.client)
        except IntakeError as exc:
            self.status.value = str(exc)
            self.update()
            return
        await self.picker.save_file(file_name="filing.csv", src_bytes=data)
        self.status.value = "Filing export downloaded."
        self.update()
