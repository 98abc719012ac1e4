"""Import of a file of lines: upload, column mapping, preview, a job with progress."""

from __future__ import annotations

import asyncio

import flet as ft

from canvass.intake.state import (
    NO_COLUMN,
    RUNNING,
    ImportState,
    IntakeClient,
    IntakeError,
    field_label,
)
from canvass.intake.views.common import (
    NONE_KEY,
    POLL_SECONDS,
)
from canvass.staff.downloads import Downloader
from canvass.staff.text import tr


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
