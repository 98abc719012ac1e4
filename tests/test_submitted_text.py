"""A field's Enter reads the text the submit event carries, not the last change event seen.

The browser tests type and press Enter as people do; this pins the rule itself: the event's
text wins (the change event of the last keystroke may still be queued), and a Flet that sends
no text falls back to what the change events delivered."""

from types import SimpleNamespace

from canvass.views.common import submitted_text


def test_the_submit_event_text_wins_over_a_stale_change():
    event = SimpleNamespace(data="246810")
    assert submitted_text(event, lambda: "24681") == "246810"


def test_an_empty_submit_is_empty_even_if_an_old_value_lingers():
    assert submitted_text(SimpleNamespace(data=""), lambda: "old") == ""


def test_no_text_on_the_event_falls_back_to_the_changes():
    assert submitted_text(SimpleNamespace(data=None), lambda: "1357") == "1357"
    assert submitted_text(SimpleNamespace(), lambda: None) == ""
