"""Office intake panels of the staff app (Flet 1.0): keying form, review queue, check-in,
import, export. The staff app (canvass.staff.app) logs in once and opens them by role.

Keyboard first: every field is reached by Tab, Enter saves the line from any field, the next
line number is filled in and the cursor goes back to the first name. In review, D / N / S
decide duplicate / not a duplicate / skip. Network calls run in worker threads."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import flet as ft

from canvass.i18n import t
from canvass.intake.state import (
    COMPARED_FIELDS,
    FORM_FIELDS,
    NO_COLUMN,
    RUNNING,
    SAVED_OK,
    CheckInState,
    ImportState,
    IntakeClient,
    IntakeError,
    KeyingForm,
    ReviewState,
    field_label,
    line_list,
    reason_text,
)
from canvass.staff.downloads import Downloader
from canvass.staff.text import staff_lang, tr
from canvass.state.carry import KeyCarry
from canvass.views.common import submitted_text
from canvass.views.palette import DANGER, OK_FG
from sync.intake.reconcile import DECLARATION_PARTS

POLL_SECONDS = 0.5
NONE_KEY = "__none__"  # the dropdown choice "no column"
SAVED_STATUSES = ("accepted", "already_received", "duplicate", "possible_duplicate", "rejected",
                  "conflict", "invalid")


NOTICE_SIZE = 18


def keys_hint() -> str:
    """The keyboard convention, in the words of the circulator app's form (one string)."""
    return t("capture.keys_hint", staff_lang())


def saved_text(status: str) -> str:
    return tr(f"intake.saved.{status}") if status in SAVED_STATUSES else status


# The keying form's fields in Tab order ("same" is the "Same address as previous line" box,
# a stop of its own): the carry follows Tabs typed before the focus lands (canvass.state.carry).
_TAB_ORDER = (*FORM_FIELDS[FORM_FIELDS.index("first_name"):FORM_FIELDS.index("street")], "same",
              *FORM_FIELDS[FORM_FIELDS.index("street"):])


class KeyingView(ft.Column):
    """The office keying form, with the circulator app's keyboard convention (and its hint on
    screen): Tab moves to the next field, Enter saves the line.

    A fast clerk types the next line right after the Enter, so the Enter moves the form to
    the next line at once (fields cleared, the focus sent to First name) and the line is sent
    afterwards: a focus move or a redraw after the server's answer raced the next line's keys
    (issue 21, the circulator app's lost first letters). The fields are the same controls from
    line to line; a refused line comes back into the form with its error. The keys typed
    before the focus reaches First name are carried into it (canvass.state.carry), from the
    page's keyboard listener (``key_pressed``)."""

    def __init__(self, form: KeyingForm) -> None:
        self.form = form
        self.carry = KeyCarry()
        self.touched: set[str] = set()
        self.fields: dict[str, ft.TextField] = {}
        self.sending = asyncio.Lock()  # lines reach the server in the order they were keyed
        first = "first_name" if form.queue else "section"
        for name in FORM_FIELDS:
            self.fields[name] = ft.TextField(
                label=field_label(name), value=form.values[name],
                width=260 if name != "street" else 400,
                autofocus=name == first, on_submit=lambda e, n=name: self._enter(n, e),
                on_change=lambda e, n=name: self._changed(n, e.control.value),
                on_blur=lambda e, n=name: self._blurred(n))
        self.same = ft.Checkbox(label=tr("intake.key.same_address"), value=False,
                                on_change=self._same_changed)
        # The notice of the last line: large, bold and dark (palette: >= 7:1 on white).
        self.status = ft.Text("", semantics_label="", size=NOTICE_SIZE, weight=ft.FontWeight.BOLD,
                              color=OK_FG)
        self.saved_count = ft.Text(tr("intake.key.saved_count", count=0), size=15)
        self.queue_text = ft.Text(self._queue_text())
        f = self.fields
        super().__init__(controls=[
            ft.Text(tr("intake.key.title"), size=22, weight=ft.FontWeight.BOLD),
            ft.Text(keys_hint(), size=15, color=ft.Colors.BLACK_87),
            self.queue_text,
            ft.Row([f["section"], f["line"]]),
            ft.Row([f["first_name"], f["middle_name"], f["last_name"], f["suffix"]], wrap=True),
            self.same,
            ft.Row([f["street"], f["unit"]]),
            ft.Row([f["city"], f["zip"]]),
            ft.Row([f["phone"], f["email"]]),
            ft.Button(content=tr("intake.key.save"), on_click=lambda _e: self._save()),
            self.status, self.saved_count,
        ], spacing=10)

    def _queue_text(self) -> str:
        if not self.form.queue:
            return ""
        return tr("intake.key.queue", section=self.form.values["section"],
                  lines=line_list(self.form.queue))

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
        self.form.set(name, self.carry.change(name, value or ""))
        misplaced = self.carry.take_misplaced()
        if misplaced in self.fields:  # a Tab went nowhere: the focus goes where the keys are
            self.page.run_task(self.fields[misplaced].focus)
        self._show_carried()
        # A field shows its error once visited; while typing, only an error going away is shown.
        if name in self.touched and not self.form.field_error(name) and self._show_error(name):
            self.fields[name].update()

    def key_pressed(self, label: str, shift: bool = False) -> None:
        """A key pressed anywhere on the page (the staff app's keyboard listener)."""
        left = self.carry.key(label, shift)
        if left is not None and left in self.fields and self.carry.value(left) is not None:
            self.form.set(left, self.carry.value(left))
        self._show_carried()

    def _show_carried(self) -> None:
        # Fields the typist has left with keys they never got: no one types in them, so
        # setting them replaces nothing.
        for name in self.carry.to_show():
            whole = self.carry.value(name)
            self.carry.shown(name)
            if whole is None or name not in self.fields:
                continue
            self.form.set(name, whole)
            self.fields[name].value = whole
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
            if control.value != self.form.values[name]:
                control.value = self.form.values[name]

    def _enter(self, name: str, e) -> None:
        # The submit event carries the field's text; its last change event may still be
        # queued behind it (canvass.views.common.submitted_text).
        typed = submitted_text(e, lambda: self.form.values[name])
        value = self.carry.change(name, typed)
        if value != self.form.values[name]:  # the last keystroke's change not seen yet
            self.form.set(name, value)
        self._save()

    def _save(self) -> None:
        """Enter (or the button): take the line as it is now, and send it."""
        line = dict(self.form.values)
        if self.form.errors(line):
            self.page.run_task(self._send, line, False)
            return
        self.form.advance(line)
        self.touched.clear()
        for control in self.fields.values():
            control.error = None
        self._refresh_values()
        self.queue_text.value = self._queue_text()
        self.update()
        self.page.run_task(self.fields["first_name"].focus)
        self.carry.arm("first_name", order=_TAB_ORDER)
        self.page.run_task(self._send, line, True)

    async def _send(self, line: dict[str, str], advanced: bool) -> None:
        async with self.sending:
            try:
                saved = await asyncio.to_thread(self.form.send, line)
            except IntakeError as exc:
                saved = None
                text = str(exc)
            else:
                text = tr("intake.key.result", line=saved.line, section=saved.section,
                          status=saved_text(saved.status))
        ok = saved is not None and saved.status in SAVED_OK
        if saved is not None and saved.field and saved.status in ("invalid", "rejected"):
            reason = (saved.reason if saved.status == "invalid"
                      else reason_text(saved.code, saved.reason or ""))
            text += f" ({field_label(saved.field)}: {reason or tr('intake.key.check_field')})"
        self.status.value = self.status.semantics_label = text
        self.status.color = OK_FG if ok else DANGER
        if ok:
            done = sum(1 for h in self.form.history if h.status in SAVED_OK)
            self.saved_count.value = tr("intake.key.saved_count", count=done)
            self.update()
            return
        # Not saved: the line is back in the form (what was typed since is replaced: the
        # notice says which line needs the clerk), with the focus on the field to correct.
        if advanced:
            self.carry.disarm()
            self.form.restore(line)
            self._refresh_values()
            self.queue_text.value = self._queue_text()
        target = saved.field if saved is not None and saved.field in self.fields else None
        self.carry.disarm()  # the clerk stops to read: the focus goes to the field to correct
        if target:
            self.touched.add(target)
            self._show_error(target)
        self.update()
        if target:
            await self.fields[target].focus()


class ReviewView(ft.Column):
    def __init__(self, state: ReviewState) -> None:
        self.state = state
        self.body = ft.Column(spacing=6)
        self.status = ft.Text("", size=15)
        self.undo_button = ft.OutlinedButton(content=tr("intake.review.undo"),
                                             on_click=lambda _e: self.page.run_task(self.undo),
                                             visible=False)
        super().__init__(controls=[
            ft.Text(tr("intake.review.title"), size=22, weight=ft.FontWeight.BOLD),
            ft.Text(tr("intake.review.keys")),
            ft.Row([self._button(tr("intake.review.duplicate"), "duplicate"),
                    self._button(tr("intake.review.not_duplicate"), "not_duplicate"),
                    self._button(tr("intake.review.skip"), "skip"), self.undo_button], wrap=True),
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
            self.body.controls.append(ft.Text(tr("intake.review.nothing")))
            self.status.value = tr("intake.review.empty", decided=self.state.decided)
            return
        self.status.value = tr("intake.review.waiting", left=left, decided=self.state.decided)
        differs = set(self.state.differences())
        entry, cand = item["entry"], item.get("candidate") or {"fields": {}, "section": "", "line": ""}
        self.body.controls.append(ft.Row([
            ft.Text(tr("intake.review.field"), width=140, weight=ft.FontWeight.BOLD),
            ft.Text(tr("intake.review.new", section=entry["section"], line=entry["line"]), width=300,
                    weight=ft.FontWeight.BOLD),
            ft.Text(tr("intake.review.earlier", section=cand["section"], line=cand["line"]),
                    width=300, weight=ft.FontWeight.BOLD)]))
        for name in COMPARED_FIELDS:
            a, b = entry["fields"].get(name, ""), cand["fields"].get(name, "")
            if not a and not b:
                continue
            mark = name in differs
            label = tr("intake.review.differs", field=field_label(name)) if mark else field_label(name)
            self.body.controls.append(ft.Container(
                bgcolor=ft.Colors.AMBER_100 if mark else None, padding=4,
                content=ft.Row([ft.Text(label, width=140),
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
        last = self.state.last
        self.status.value = tr("intake.review.last", decision=saved_text(last) if last != "skipped"
                               else tr("intake.review.skipped")) + " " + self.status.value
        self.undo_button.visible = bool(self.state.undoable)
        self.update()

    async def undo(self) -> None:
        """Undo (U): this staff member's last decision, within the server's window."""
        if not self.state.undoable:
            return
        try:
            await asyncio.to_thread(self.state.undo)
        except IntakeError as exc:
            self.state.undoable = ""
            self.undo_button.visible = False
            self.status.value = str(exc)
            self.update()
            return
        self.render()
        self.undo_button.visible = False
        self.status.value = tr("intake.review.undone") + " " + self.status.value
        self.update()


class CheckInView(ft.Column):
    """Check a returned section in, then every section's status and what still blocks filing;
    lines on paper with no entry have a button that opens the keying form on those lines."""

    def __init__(self, client: IntakeClient,
                 on_key_lines: Callable[[str, list[int]], None] | None = None) -> None:
        self.state = CheckInState(client)
        self.on_key_lines = on_key_lines
        self.serial = ft.TextField(label=tr("intake.checkin.serial"), autofocus=True,
                                   on_submit=self._submit)
        self.returned_by = ft.TextField(label=tr("intake.checkin.returned_by"), on_submit=self._submit)
        self.lines = ft.TextField(label=tr("intake.checkin.lines"), on_submit=self._submit)
        self.skipped = ft.TextField(label=tr("intake.checkin.skipped"), on_submit=self._submit)
        self.parts = {p: ft.Checkbox(label=tr(f"intake.decl.{p}"), value=False)
                      for p in DECLARATION_PARTS}
        self.result = ft.Text("")
        self.headline = ft.Text("", size=16, weight=ft.FontWeight.BOLD)
        self.totals = ft.Text("")
        self.sections = ft.Column(spacing=6)
        super().__init__(controls=[
            ft.Text(tr("intake.checkin.title"), size=22, weight=ft.FontWeight.BOLD),
            self.serial, self.returned_by, self.lines, self.skipped,
            ft.Text(tr("intake.checkin.declaration")),
            *self.parts.values(),
            ft.Button(content=tr("intake.checkin.submit"), on_click=self._submit),
            self.result,
            ft.Divider(height=1),
            ft.Row([ft.Text(tr("intake.recon.title"), size=20, weight=ft.FontWeight.BOLD),
                    ft.OutlinedButton(content=tr("intake.recon.refresh"), on_click=self._load)],
                   wrap=True),
            self.headline, self.totals, self.sections], spacing=8)

    def did_mount(self) -> None:
        self.page.run_task(self._load)

    async def _submit(self, _e=None) -> None:
        self.lines.error = None
        try:
            await asyncio.to_thread(
                self.state.check_in, self.serial.value or "", self.returned_by.value or "",
                self.lines.value or "", self.skipped.value or "",
                [p for p, box in self.parts.items() if box.value])
        except IntakeError as exc:
            if not (self.lines.value or "").strip().isdigit():
                self.lines.error = str(exc)
            self.result.value = str(exc)
            self.update()
            return
        self.result.value = self.state.report_text()
        await self._load()

    async def _load(self, _e=None) -> None:
        try:
            await asyncio.to_thread(self.state.load)
        except IntakeError as exc:
            self.headline.value = str(exc)
            self.update()
            return
        self.headline.value = self.state.headline()
        self.totals.value = self.state.totals_text()
        self.sections.controls = [self._section(row) for row in self.state.rows()]
        self.update()

    def _section(self, row) -> ft.Control:
        lines: list[ft.Control] = [
            ft.Text(tr("intake.recon.section", serial=row.serial, status=row.status,
                       paper=row.paper_lines, entries=row.entry_lines), weight=ft.FontWeight.BOLD)]
        for block in row.blocks:
            lines.append(ft.Text(tr("intake.recon.blocks", what=block)))
        if not row.blocks:
            lines.append(ft.Text(tr("intake.recon.section_ready")))
        if row.to_key and self.on_key_lines is not None:
            label = tr("intake.recon.key_lines", serial=row.serial, lines=line_list(row.to_key))
            lines.append(ft.TextButton(
                content=label, on_click=lambda _e, s=row.serial, n=row.to_key: self.on_key_lines(s, n)))
        return ft.Container(content=ft.Column(lines, spacing=2), padding=8,
                            border=ft.Border.all(1, ft.Colors.GREY_300), border_radius=6)


class ImportView(ft.Column):
    """Choose a file, map its columns (the server's guess, changed with dropdowns), see the first
    rows with their errors, import with progress, then the counts and the rejected rows."""

    def __init__(self, client: IntakeClient, picker: ft.FilePicker, downloader: Downloader) -> None:
        self.state, self.picker, self.downloader = ImportState(client), picker, downloader
        self.file_text = ft.Text("")
        self.mapping_area = ft.Column(spacing=6, visible=False)
        self.preview_area = ft.Column(spacing=4, visible=False)
        self.start_button = ft.Button(content=tr("intake.import.start"), on_click=self._start,
                                      visible=False)
        self.progress = ft.ProgressBar(value=0, width=400, visible=False,
                                       semantics_label=tr("intake.import.progress_label"))
        self.status = ft.Text("")
        self.counts = ft.Text("", size=16, weight=ft.FontWeight.BOLD)
        self.rejections_button = ft.Button(content=tr("intake.import.download_rejected"),
                                           on_click=self._download, visible=False)
        self.download_note = ft.Text("")  # what the download did; the import's result stays
        super().__init__(controls=[
            ft.Text(tr("intake.import.title"), size=22, weight=ft.FontWeight.BOLD),
            ft.Text(tr("intake.import.help")),
            ft.Button(content=tr("intake.import.choose"), on_click=self._pick),
            self.file_text, self.mapping_area, self.preview_area, self.start_button,
            self.progress, self.status, self.counts, self.rejections_button, self.download_note],
            spacing=10)

    async def _pick(self, _e=None) -> None:
        files = await self.picker.pick_files(allowed_extensions=["csv", "xlsx"], with_data=True)
        if not files or files[0].bytes is None:
            return
        self.status.value = tr("intake.import.reading")
        self.download_note.value = ""
        self.update()
        try:
            await asyncio.to_thread(self.state.choose, files[0].name, files[0].bytes)
        except IntakeError as exc:
            self.status.value = str(exc)
        else:
            self.status.value = ""
        self._show()

    async def _column_changed(self, target: str, header: str) -> None:
        try:
            await asyncio.to_thread(self.state.set_column, target, header)
        except (IntakeError, ValueError) as exc:
            self.status.value = str(exc)
        self._show()

    def _show(self) -> None:
        st = self.state
        mapping = st.step == "mapping"
        self.file_text.value = tr("intake.import.file", name=st.file_name, rows=st.total_rows) \
            if st.file_name else ""
        self.mapping_area.visible = self.preview_area.visible = mapping
        self.start_button.visible = mapping
        self.start_button.disabled = not st.can_import
        if mapping:
            self._fill_mapping()
            self._fill_preview()
        running = st.step in (RUNNING, "done", "failed")
        self.progress.visible = running
        self.progress.value = st.fraction
        self.status.value = st.error or st.progress_text() or self.status.value
        self.counts.value = st.counts_text() if st.step == "done" else ""
        self.rejections_button.visible = st.has_rejections
        self._redraw()

    def _redraw(self) -> None:
        # The panel may be off screen (the clerk opened another one while the import runs):
        # the state goes on, and the controls show it when the panel is shown again.
        try:
            self.update()
        except RuntimeError:
            pass

    def _fill_mapping(self) -> None:
        st = self.state
        none = tr("intake.import.no_column")
        boxes: list[ft.Control] = []
        for target in st.fields:
            options = [ft.DropdownOption(key=NONE_KEY, text=none)]
            options += [ft.DropdownOption(key=h, text=h) for h in st.headers if h]
            column = st.column_of(target)
            # The dropdown's own button has no accessible name: a Semantics label gives it one
            # ("Section column: Booklet No"), for screen readers and for the browser tests.
            boxes.append(ft.Semantics(
                label=tr("intake.import.column_of", field=field_label(target),
                         column=column or none),
                content=ft.Dropdown(
                    label=field_label(target), value=column or NONE_KEY, options=options,
                    width=220, dense=True,
                    on_select=lambda e, t=target: self.page.run_task(
                        self._column_changed, t,
                        NO_COLUMN if e.control.value in (None, NONE_KEY) else e.control.value))))
        self.mapping_area.controls = [
            ft.Text(tr("intake.import.mapping_title"), size=18, weight=ft.FontWeight.BOLD),
            ft.Text(tr("intake.import.mapping_help")),
            ft.Row(boxes, wrap=True, spacing=8, run_spacing=8),
            ft.Text(st.missing_text(), color=ft.Colors.RED_800)]

    def _fill_preview(self) -> None:
        st = self.state
        shown = st.shown_fields()
        header = ft.Row([ft.Text(tr("intake.import.row"), width=50, weight=ft.FontWeight.BOLD)]
                        + [ft.Text(field_label(f), width=120, weight=ft.FontWeight.BOLD)
                           for f in shown], wrap=False)
        lines: list[ft.Control] = [
            ft.Text(tr("intake.import.preview_title"), size=18, weight=ft.FontWeight.BOLD),
            ft.Text(st.preview_summary()), header]
        for row in st.preview_rows():
            cells = [ft.Text(str(row.row), width=50)] + [
                ft.Text(v, width=120, no_wrap=True) for v in row.cells]
            note = tr("intake.import.blank_row") if row.blank else "; ".join(row.errors)
            lines.append(ft.Container(
                bgcolor=ft.Colors.RED_50 if row.errors and not row.blank else None, padding=2,
                content=ft.Column([ft.Row(cells, wrap=False),
                                   *([ft.Text(tr("intake.import.row_error", row=row.row, errors=note),
                                              color=ft.Colors.RED_800, size=13)] if note else [])],
                                  spacing=0)))
        self.preview_area.controls = [ft.Row([ft.Column(lines, spacing=4)],
                                             scroll=ft.ScrollMode.AUTO)]

    async def _start(self, _e=None) -> None:
        self.start_button.disabled = True
        self.update()
        try:
            await asyncio.to_thread(self.state.start)
            self._show()
            while self.state.step == RUNNING:
                await asyncio.sleep(POLL_SECONDS)
                await asyncio.to_thread(self.state.poll)
                self._show()
        except IntakeError as exc:
            self.status.value = str(exc)
            self._redraw()
            return
        self.status.value = self.state.error or self.state.finished_text()
        self._redraw()

    async def _download(self, _e=None) -> None:
        job_id = (self.state.job or {}).get("job_id")
        if not job_id:
            return
        self.download_note.value = await self.downloader.download(
            self.state.client, "rejections", self.state.rejections_name(), job_id=job_id)
        self._redraw()


class ExportView(ft.Column):
    def __init__(self, client: IntakeClient, downloader: Downloader) -> None:
        self.client, self.downloader = client, downloader
        self.status = ft.Text("")
        controls: list[ft.Control] = [
            ft.Text(tr("intake.export.title"), size=22, weight=ft.FontWeight.BOLD)]
        if client.role == "admin":
            controls += [ft.Text(tr("intake.export.help")),
                         ft.Button(content=tr("intake.export.download"), on_click=self._export)]
        else:
            controls.append(ft.Text(tr("intake.export.admin_only")))
        super().__init__(controls=controls + [self.status], spacing=10)

    async def _export(self, _e=None) -> None:
        self.status.value = await self.downloader.download(
            # Not a file name: filing.csv, or filing-DRAFT.csv while the filing check blocks.
            self.client, "filing", tr("download.filing"))
        self.update()
