"""The app's colors and text sizes, chosen to be read outdoors: every status, error and
warning color has a WCAG contrast of at least 7:1 (level AAA) on the background it is drawn
on, and error text is at least 14 px (tests/test_palette.py computes both)."""

from __future__ import annotations

PRIMARY = "#0B3D91"  # dark blue: 10:1 on white
DANGER = "#8A0018"  # dark red: 10:1 on white (#B00020 was 6.5:1 on the status bar)
WARN_BG = "#FFF4CE"
WARN_FG = "#5C3B00"
OK_FG = "#07521F"  # dark green: 9.4:1 on white (#0B6B2B was 5.9:1 on the status bar)
STATUS_BG = "#EEF2FA"
WHITE = "#FFFFFF"
ERROR_SIZE = 15  # field errors; Flutter's default is 12

# (text, background) pairs the views draw; all must reach AAA.
TEXT_ON = {
    "status": [(OK_FG, STATUS_BG), (DANGER, STATUS_BG), ("#000000", STATUS_BG)],
    "errors": [(DANGER, WHITE)],
    "warnings": [(WARN_FG, WARN_BG)],
    "notices": [(OK_FG, WHITE), (PRIMARY, WHITE)],
}


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(color: str) -> float:
    h = color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _linear(r) + 0.7152 * _linear(g) + 0.0722 * _linear(b)


def contrast(fg: str, bg: str) -> float:
    """WCAG 2 contrast ratio, 1 to 21."""
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)
