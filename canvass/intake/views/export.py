"""Export: the filing export download."""

from __future__ import annotations

import asyncio

import flet as ft

from canvass.intake.state import IntakeClient, IntakeError, export_readiness
from canvass.staff.downloads import Downloader
from canvass.staff.text import tr


class ExportView(ft.Column):
    def __init__(self, client: IntakeClient, downloader: Downloader) -> None:
        self.client, self.downloader = client, downloader
        self.status = ft.Text("")
        # Final or DRAFT, said before the click (the filing check's count), not only in the
        # downloaded file's name.
        self.readiness = ft.Text(tr("intake.export.checking"), size=16, weight=ft.FontWeight.BOLD)
        controls: list[ft.Control] = [
            ft.Text(tr("intake.export.title"), size=22, weight=ft.FontWeight.BOLD)]
        if client.role == "admin":
            controls += [ft.Text(tr("intake.export.help")), self.readiness,
                         ft.Button(content=tr("intake.export.download"), on_click=self._export)]
        else:
            controls.append(ft.Text(tr("intake.export.admin_only")))
        super().__init__(controls=controls + [self.status], spacing=10)

    def did_mount(self) -> None:
        if self.client.role == "admin":
            self.page.run_task(self._readiness)

    async def _readiness(self) -> None:
        try:
            self.readiness.value = await asyncio.to_thread(export_readiness, self.client)
        except IntakeError as exc:
            self.readiness.value = str(exc)
        self.update()

    async def _export(self, _e=None) -> None:
        self.status.value = await self.downloader.download(
            # Not a file name: filing.csv, or filing-DRAFT.csv while the filing check blocks.
            self.client, "filing", tr("download.filing"))
        self.update()
