"""Shared look: high contrast, touch targets of at least 48 px, labelled controls; and the
one way views keep what is typed in a field (``use_text``)."""

from __future__ import annotations

import flet as ft

from canvass.views.palette import DANGER, ERROR_SIZE, OK_FG, PRIMARY, WARN_BG, WARN_FG  # noqa: F401

TOUCH = 48


def button(text: str, on_click, *, primary: bool = True, key: str | None = None,
           expand: bool | int | None = None, disabled: bool = False) -> ft.Control:
    style = ft.ButtonStyle(
        bgcolor=PRIMARY if primary else ft.Colors.WHITE,
        color=ft.Colors.WHITE if primary else PRIMARY,
        side=None if primary else ft.BorderSide(2, PRIMARY),
        shape=ft.RoundedRectangleBorder(radius=8),
        text_style=ft.TextStyle(size=16, weight=ft.FontWeight.W_600),
        padding=ft.Padding.symmetric(horizontal=16, vertical=12),
    )
    return ft.Button(content=text, on_click=on_click, style=style, height=TOUCH, key=key,
                     expand=expand, disabled=disabled, tooltip=None)


def field(label: str, value: str, *, on_change=None, on_submit=None, error: str | None = None,
          password: bool = False, reveal: bool = True, ref=None, autofocus: bool = False,
          keyboard=None, expand: bool | int | None = None, key: str | None = None,
          width: float | None = None,
          capitalization=None) -> ft.TextField:
    return ft.TextField(
        label=label, value=value, on_change=on_change, on_submit=on_submit,
        error=error or None, password=password, can_reveal_password=password and reveal, ref=ref,
        autofocus=autofocus, keyboard_type=keyboard, expand=expand, key=key, width=width,
        text_size=18, border_color=ft.Colors.BLACK_54, focused_border_color=PRIMARY,
        focused_border_width=3, capitalization=capitalization, error_max_lines=4,
        error_style=ft.TextStyle(size=ERROR_SIZE, color=DANGER, weight=ft.FontWeight.W_600),
    )


def message(text: str | None, *, color: str = DANGER, key: str | None = None) -> ft.Control:
    if not text:
        return ft.Container(height=0, key=key)
    return ft.Text(text, color=color, size=16, weight=ft.FontWeight.W_600, key=key,
                   semantics_label=text)


def use_text(initial: str = ""):
    """A text field's value for a component: ``(value, on_change, current, clear)``.

    ``value`` renders the field; ``current()`` is what was typed last, for handlers. A
    keystroke redraws nothing: a redraw per key sent the text of the key before back into the
    box being typed in (the measure in canvass.state.capture), and under load a PIN typed at 40
    ms a key was not unlocked by its Enter. A redraw for another reason renders what was typed
    last, which is what the field's control already holds (its change events set it), so the
    redraw sends the field nothing. ``clear()`` empties the box (a redraw). Handlers must not
    read ``value`` from their closure: they would get the text of the last redraw, not what
    was typed since."""
    latest = ft.use_ref(initial)
    redraws, set_redraws = ft.use_state(0)

    def on_change(e) -> None:
        latest.current = e.control.value or ""

    def current() -> str:
        return latest.current or ""

    def clear() -> None:
        latest.current = ""
        set_redraws(redraws + 1)

    return current(), on_change, current, clear


def submitted_text(event, fallback) -> str:
    """For a field's ``on_submit``: the text the field held when Enter was pressed. The submit
    event carries it, while the change event of the last keystroke may still be queued behind
    it (a PIN typed and submitted at once read as empty: "Enter your PIN."). ``fallback()``
    answers if a Flet version sends no text with the event."""
    data = getattr(event, "data", None)
    return data if isinstance(data, str) else (fallback() or "")
