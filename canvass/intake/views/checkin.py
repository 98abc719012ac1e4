"""Check-in of paper sections: serial, circulator, lines, the declaration."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import flet as ft

from canvass.intake.state import (
    CheckInState,
    IntakeClient,
    IntakeError,
    line_list,
)
from canvass.staff.text import tr
from sync.intake.reconcile import DECLARATION_PARTS


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
