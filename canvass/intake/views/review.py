"""The review queue: possible duplicates side by side; D / N / S decide."""

from __future__ import annotations

import asyncio

import flet as ft

from canvass.intake.state import (
    COMPARED_FIELDS,
    IntakeError,
    ReviewState,
    field_label,
)
from canvass.intake.views.common import (
    saved_text,
)
from canvass.staff.text import tr


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
