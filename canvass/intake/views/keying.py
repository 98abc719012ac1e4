"""The keying form: a clerk types paper lines; Tab moves, Enter saves, the next line follows."""

from __future__ import annotations

import asyncio

import flet as ft

from canvass.intake.state import (
    FORM_FIELDS,
    SAVED_OK,
    IntakeError,
    KeyingForm,
    field_label,
    line_list,
    reason_text,
)
from canvass.intake.views.common import (
    NOTICE_SIZE,
    keys_hint,
    saved_text,
)
from canvass.staff.text import tr
from canvass.state.carry import KeyCarry
from canvass.views.common import submitted_text
from canvass.views.palette import DANGER, OK_FG

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
