"""The working screen: status bar, section, capture form, this section's lines."""

from __future__ import annotations

import asyncio

import flet as ft

from canvass.i18n import field_message, t
from canvass.state.app_state import CirculatorApp
from canvass.state.capture import ALL_FIELDS, MORE_FIELDS, PAPER_FIELDS, CaptureForm
from canvass.state.language import Language
from canvass.state.lines import SectionLines
from canvass.state.sections import Sections
from canvass.state.status import StatusBar
from canvass.views.common import (
    DANGER,
    OK_FG,
    PRIMARY,
    TOUCH,
    WARN_BG,
    WARN_FG,
    button,
    field,
    message,
    submitted_text,
    use_text,
)
from canvass.views.palette import STATUS_BG

_KEYBOARDS = {"zip": ft.KeyboardType.NUMBER, "phone": ft.KeyboardType.PHONE,
              "email": ft.KeyboardType.EMAIL}
_WORDS = ft.TextCapitalization.WORDS


@ft.component
def StatusBarView(app: CirculatorApp, status: StatusBar, language: Language) -> ft.Control:
    lang = language.lang
    sync_text = status.sync_text(lang)
    offline = status.state in ("offline", "error", "needs_reenroll")
    chips = [ft.Text(text, size=15, weight=ft.FontWeight.W_600, color=ft.Colors.BLACK,
                     semantics_label=text) for text in status.counts_text(lang)]
    activity = status.activity_text(lang)
    if activity:
        chips.insert(0, ft.Text(activity, size=15, weight=ft.FontWeight.BOLD, color=OK_FG,
                                semantics_label=activity))
    chips.append(ft.Text(sync_text, size=15, weight=ft.FontWeight.BOLD,
                         color=DANGER if offline else OK_FG, semantics_label=sync_text))
    return ft.Container(
        content=ft.Row([
            ft.Row(chips, wrap=True, spacing=16, run_spacing=4, expand=True),
            button(t("status.sync_now", lang), lambda _: app.sync_now(), primary=False),
        ], vertical_alignment=ft.CrossAxisAlignment.CENTER),
        bgcolor=STATUS_BG, padding=8, border_radius=8,
    )


@ft.component
def SectionPicker(app: CirculatorApp, sections: Sections, language: Language) -> ft.Control:
    lang = language.lang
    serial, on_serial, current_serial, clear_serial = use_text()

    def start(serial_text: str):
        if app.start_section(serial_text):
            clear_serial()

    def start_typed(event):
        start(submitted_text(event, current_serial))

    resume = [button(t("section.resume", lang, serial=s), lambda _, s=s: app.select_section(s),
                     primary=False) for s in sections.open_serials]
    return ft.Column([
        message(sections.notice.render(lang) if sections.notice else None, color=OK_FG),
        ft.Text(t("section.none", lang), size=16),
        field(t("section.serial", lang), serial, on_change=on_serial,
              on_submit=start_typed, error=sections.error.render(lang) if sections.error else None,
              autofocus=True, capitalization=ft.TextCapitalization.CHARACTERS),
        button(t("section.start", lang), lambda _: start(current_serial())),
        *([ft.Text(t("section.open_list", lang), size=16, weight=ft.FontWeight.BOLD)] if resume else []),
        *resume,
    ], spacing=12)


@ft.component
def ClosePanel(app: CirculatorApp, sections: Sections, language: Language) -> ft.Control:
    lang = language.lang
    dates, on_dates, current_dates, _ = use_text()
    place, on_place, current_place, _ = use_text()
    errors = sections.close_errors
    return ft.Container(content=ft.Column([
        ft.Text(t("section.close_title", lang, serial=sections.current), size=18,
                weight=ft.FontWeight.BOLD),
        field(t("section.dates", lang), dates, on_change=on_dates,
              error=errors["dates"].render(lang) if "dates" in errors else None, autofocus=True),
        field(t("section.place", lang), place, on_change=on_place,
              error=errors["place"].render(lang) if "place" in errors else None),
        ft.Row([button(t("section.close_confirm", lang),
                       lambda _: app.close_section(dates_gathered=current_dates(),
                                                          place_signed=current_place())),
                button(t("section.cancel", lang), lambda _: sections.cancel_close(), primary=False)],
               wrap=True),
    ], spacing=10), border=ft.Border.all(2, PRIMARY), padding=12, border_radius=8)


@ft.component
def CaptureFormView(app: CirculatorApp, capture: CaptureForm, language: Language,
                    page_scroll=None) -> ft.Control:
    lang = language.lang
    refs = {name: ft.use_ref(None) for name in ("line", *ALL_FIELDS)}
    sent = ft.use_ref(None)  # field -> capture.pushes(field) when its value was last sent
    if sent.current is None:
        sent.current = {}

    async def move_focus():
        # A second try only when the first could not be made (a freshly mounted field not yet
        # on the client): a second focus() sent anyway landed after a fast typist's Tab and
        # pulled the focus back, and every later field of that signer went one field up.
        for _ in range(2):
            target = refs.get(capture.focus)
            if target is not None and target.current is not None:
                try:
                    await target.current.focus()
                    break
                except Exception:  # the control was just replaced; the next render focuses
                    pass
            await asyncio.sleep(0.15)

    async def bring_warning():
        # The check stopped the save (Enter, the form's button or the bar): bring its warning
        # and the save action into sight (on a phone they sat below the fold, under the ZIP).
        # The person has stopped to read, so this scroll races no typing. Once more a moment
        # later: after an Enter the ZIP field gets the focus back and scrolls itself into sight
        # when the client attaches its caret, which can come after the first scroll and took
        # the warning out of sight (once in CI).
        for pause in (0.0, 0.4):
            await asyncio.sleep(pause)
            if not capture.confirm or page_scroll is None or page_scroll.current is None:
                break
            try:
                await page_scroll.current.scroll_to(scroll_key="warning", duration=150)
            except Exception:  # the page was just replaced (a lock): nothing to bring in
                break

    ft.use_effect(move_focus, [capture.focus_seq])
    ft.use_effect(bring_warning, [capture.confirm])

    def err(name: str) -> str | None:
        problem = capture.errors.get(name)
        if problem is None:
            return None
        if hasattr(problem, "render"):
            return problem.render(lang)
        return field_message(problem, lang)

    def on_change(name: str):
        def handler(e):
            app.touch()
            capture.typed(name, e.control.value)
        return handler

    def on_submit(name: str):
        def handler(e):
            app.touch()
            typed = submitted_text(e, lambda: capture.values[name])
            value = capture.carry.change(name, typed)
            if value != capture.values[name]:  # the last keystroke's change not seen yet
                capture.set(name, value)
            capture.enter(name)  # Enter in any field: this signer is done
        return handler

    # Each signer gets new field controls (keys follow capture.signer_seq): with the same
    # controls reused, the accessibility tree kept the saved signer's name and street while the
    # screen showed empty fields. New controls used to cost keys typed right after a Tab at
    # 40 ms ("Ong Beach"); the key carry (canvass.state.carry) puts those back, measured 60 of
    # 60 lines right. The fields send no focus events: an on_focus handler on each lost keys.
    def value_of(name: str) -> str:
        # What the screen's field holds, unless the app has set the field since it was last
        # sent (capture.pushes: a redraw must not replace the newest keys with older text).
        shown = refs[name].current
        if shown is not None and sent.current.get(name) == capture.pushes(name):
            return shown.value or ""
        sent.current[name] = capture.pushes(name)
        return capture.values[name]

    def make(name: str, *, expand: int | None = None) -> ft.Control:
        tf = field(t(f"field.{name}", lang), value_of(name), on_change=on_change(name),
                   on_submit=on_submit(name), error=err(name), keyboard=_KEYBOARDS.get(name),
                   expand=expand, key=f"f-{name}-{capture.signer_seq}",
                   autofocus=name == capture.focus,
                   capitalization=None if name in ("zip", "email", "phone") else _WORDS)
        refs[name].current = tf
        return tf

    line_field = field(t("field.line", lang), capture.line_text, key="f-line", width=150,
                       on_change=lambda e: capture.set_line(e.control.value),
                       on_submit=lambda _: (app.touch(), capture.enter("line")), error=err("line"),
                       keyboard=ft.KeyboardType.NUMBER)
    refs["line"].current = line_field

    rows: list[ft.Control] = [
        ft.Row([ft.Text(t("capture.correcting", lang, line=capture.line) if capture.correcting
                        else t("capture.title", lang, line=capture.line),
                        size=20, weight=ft.FontWeight.BOLD, color=PRIMARY, expand=True),
                line_field]),
        ft.Text(t("capture.keys_hint", lang), size=15, color=ft.Colors.BLACK_87),
    ]
    if capture.notice is not None:
        notice = capture.notice.render(lang)
        rows.append(ft.Text(notice, size=18, weight=ft.FontWeight.BOLD, color=OK_FG,
                            semantics_label=notice, key="notice"))
    rows += [
        ft.ResponsiveRow([ft.Container(make(n), col={"xs": 12, "sm": 6, "md": 3})
                          for n in PAPER_FIELDS[:4]]),
        ft.ResponsiveRow([ft.Container(make(n), col=c) for n, c in (
            # ZIP gets 3 of 12 columns on a tablet: at 2 its error ("Enter a 5-digit ZIP code,
            # for example 90012.") was cut off after three lines.
            ("street", {"xs": 12, "sm": 8, "md": 4}), ("unit", {"xs": 12, "sm": 4, "md": 2}),
            ("city", {"xs": 12, "sm": 8, "md": 3}), ("zip", {"xs": 12, "sm": 4, "md": 3}))]),
    ]
    if capture.show_more:
        rows.append(ft.ResponsiveRow([ft.Container(make(n), col={"xs": 12, "md": 4})
                                      for n in MORE_FIELDS]))
    # What the check before the save says sits right above the save action, where the eyes
    # are when Enter or the tap did not save.
    rows += _check_block(capture, lang)
    rows.append(message(capture.error.render(lang) if capture.error else None))
    actions = [
        button(capture.save_action_text().render(lang),
               lambda _: (app.touch(), capture.request_save())),
        button(t("capture.less" if capture.show_more else "capture.more", lang),
               lambda _: capture.toggle_more(), primary=False),
    ]
    if capture.correcting is not None:
        actions.append(button(t("capture.cancel_correction", lang), lambda _: capture.cancel_correction(),
                              primary=False))
    rows.append(ft.Row(actions, wrap=True, spacing=8, run_spacing=8))
    return ft.Column(rows, spacing=10)


def _check_block(capture: CaptureForm, lang: str) -> list[ft.Control]:
    """The warnings of the check before the save (with, once a save was stopped by them, how
    to save anyway), then the registration answer when it is not one of the warnings."""
    blocks: list[ft.Control] = []
    texts = [w.render(lang) for w in capture.warning_texts()]
    if texts:
        lines: list[ft.Control] = [
            ft.Row([ft.Icon(ft.Icons.WARNING_AMBER, color=WARN_FG),
                    ft.Text(text, size=17, weight=ft.FontWeight.BOLD, color=WARN_FG, expand=True,
                            semantics_label=text)]) for text in texts]
        hint = "capture.warn.confirm" if capture.confirm else "capture.warn.hint"
        lines.append(ft.Text(t(hint, lang, line=capture.line), color=WARN_FG, size=15))
        blocks.append(ft.Container(content=ft.Column(lines, spacing=4), bgcolor=WARN_BG,
                                   padding=10, border_radius=8, border=ft.Border.all(2, WARN_FG),
                                   key=ft.ScrollKey("warning")))
    registration = capture.registration_text()
    if registration is not None and "registration" not in capture.warnings:
        text = registration.render(lang)
        icon, color = {"registered_here": (ft.Icons.HOW_TO_REG, OK_FG),
                       "registered_elsewhere": (ft.Icons.INFO_OUTLINE, WARN_FG)}.get(
            capture.registration, (ft.Icons.PERSON_SEARCH, DANGER))
        blocks.append(ft.Row([ft.Icon(icon, color=color),
                              ft.Text(text, size=16, weight=ft.FontWeight.W_600, color=color,
                                      expand=True, semantics_label=text)], key="registration"))
    return blocks


@ft.component
def LinesView(capture: CaptureForm, lines: SectionLines, language: Language) -> ft.Control:
    lang = language.lang
    items: list[ft.Control] = [ft.Text(t("lines.title", lang), size=18, weight=ft.FontWeight.BOLD)]
    if not lines.rows:
        items.append(ft.Text(t("lines.empty", lang), size=16))
    for row in lines.rows:
        label = t("lines.row", lang, line=row.line, name=row.name)
        outcome = row.outcome.render(lang)
        color = {"accepted": OK_FG, "already_received": OK_FG, "rejected": DANGER,
                 "conflict": DANGER, "duplicate": DANGER}.get(row.status, ft.Colors.BLACK_87)
        # A worded button, not a bare pencil: circulators read it, screen readers announce it.
        trailing = (ft.TextButton(content=t("lines.correct", lang, line=row.line), height=48,
                                  icon=ft.Icons.EDIT,
                                  style=ft.ButtonStyle(color=PRIMARY, text_style=ft.TextStyle(
                                      size=15, weight=ft.FontWeight.W_600)),
                                  on_click=lambda _, i=row.entry_id: capture.begin_correction(i))
                    if row.can_correct else None)
        items.append(ft.ListTile(
            title=ft.Text(label, size=16, weight=ft.FontWeight.W_600),
            subtitle=ft.Text(outcome, color=color, size=15, semantics_label=f"{label}: {outcome}"),
            trailing=trailing, key=row.entry_id, min_height=56,
        ))
    return ft.Column(items, spacing=2)


@ft.component
def Workspace(app: CirculatorApp, sections: Sections, capture: CaptureForm, lines: SectionLines,
              status: StatusBar, language: Language, page_scroll=None) -> ft.Control:
    lang = language.lang
    if sections is None or capture is None:
        return ft.ProgressRing()
    top = StatusBarView(app, status, language)
    if sections.current is None:
        return ft.Column([top, SectionPicker(app, sections, language)], spacing=12)
    header = ft.Column([
        ft.Text(t("section.current", lang, serial=sections.current), size=20, weight=ft.FontWeight.BOLD),
        ft.Text(t("section.lines_used", lang, count=sections.lines_used), size=15),
        ft.Row([button(t("section.change", lang), lambda _: app.leave_section(), primary=False),
                button(t("section.close", lang), lambda _: sections.begin_close(), primary=False)],
               wrap=True, spacing=8, run_spacing=8),
    ], spacing=4)
    body: list[ft.Control] = [top, header]
    if sections.closing:
        body.append(ClosePanel(app, sections, language))
    body.append(ft.ResponsiveRow([
        ft.Container(CaptureFormView(app, capture, language, page_scroll), col={"xs": 12, "lg": 8}),
        ft.Container(LinesView(capture, lines, language), col={"xs": 12, "lg": 4}),
    ], spacing=16))
    return ft.Column(body, spacing=12)


@ft.component
def SaveBar(app: CirculatorApp, sections: Sections | None, capture: CaptureForm | None,
            language: Language) -> ft.Control:
    """The save action at the bottom of the window, outside the scrolling page: on a phone the
    form's own save button sits below the fold while the person is in the first fields. The
    same words and the same action as that button (``CaptureForm.save_action_text``,
    ``request_save``); once the check has stopped a save it reads "Save line N anyway", in the
    warning's colours.

    Not focusable, on purpose: Flutter's Tab follows reading order, and a focusable bar pinned
    below the visible fields came ahead of a ZIP field further down the page (City -> bar,
    tried). And nothing in it for screen readers: they have the form's own button, in its place
    in the form, and one save action is enough to find. Its semantics node carries only an
    identifier (never announced), so that a test can find where it is drawn."""
    if sections is None or capture is None or sections.current is None:
        return ft.Container(height=0)
    label = capture.save_action_text().render(language.lang)
    fg, bg = (WARN_FG, WARN_BG) if capture.confirm else (ft.Colors.WHITE, PRIMARY)
    face = ft.Container(
        content=ft.Text(label, size=17, weight=ft.FontWeight.BOLD, color=fg,
                        text_align=ft.TextAlign.CENTER),
        bgcolor=bg, border_radius=8, height=TOUCH, alignment=ft.Alignment.CENTER,
        border=ft.Border.all(2, WARN_FG if capture.confirm else PRIMARY),
        padding=ft.Padding.symmetric(horizontal=16))
    tap = ft.GestureDetector(content=face, on_tap=lambda _: (app.touch(), capture.request_save()),
                             mouse_cursor=ft.MouseCursor.CLICK, exclude_from_semantics=True)
    return ft.Semantics(identifier="save-bar", exclude_semantics=True, content=ft.Container(
        content=tap, padding=ft.Padding.only(top=8),
        bgcolor=ft.Colors.WHITE, border=ft.Border.only(top=ft.BorderSide(1, ft.Colors.BLACK_26))))
