"""Canvass: the Flet client (circulator app, staff views) and the device's encrypted store."""

__version__ = "0.1.0"
