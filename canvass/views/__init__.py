"""Thin Flet 1.0 views of the circulator app. Behaviour lives in canvass.state."""

from canvass.views.root import AppRoot

__all__ = ["AppRoot"]
