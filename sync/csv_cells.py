"""CSV files the project writes, safe to open in a spreadsheet (OWASP "CSV injection").

A text cell starting with ``= + - @``, a tab or a carriage return is taken for a formula by
Excel, LibreOffice and Google Sheets; such a cell is written with a leading apostrophe, which
the spreadsheet shows as text and does not store. Numbers stay numbers. ``csv_writer`` is the
one writer every CSV export uses (dashboard, filing, rejections, synthetic voter files);
``unescape_cell`` undoes the apostrophe when a file we wrote (a rejection file, fixed by
staff) is imported again, so nothing typed is lost on the round trip.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


_ESCAPED = (*FORMULA_START, "'")


def neutralize(value):
    """``value`` as a spreadsheet will show it, never run it: text that would start a formula
    gets a leading apostrophe (as does text starting with one, so ``unescape_cell`` restores
    every text exactly); everything else is returned unchanged."""
    if isinstance(value, str) and value.startswith(_ESCAPED):
        return "'" + value
    return value


def unescape_cell(text: str) -> str:
    """The inverse of ``neutralize`` for a cell read back from a CSV file."""
    if text.startswith("'") and text[1:].startswith(_ESCAPED):
        return text[1:]
    return text


class SafeWriter:
    """``csv.writer`` with every cell passed through ``neutralize`` (CRLF line ends)."""

    def __init__(self, fh, **kwargs) -> None:
        kwargs.setdefault("lineterminator", "\r\n")
        self._writer = csv.writer(fh, **kwargs)

    def writerow(self, row: Iterable) -> None:
        self._writer.writerow([neutralize(v) for v in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(fh, **kwargs) -> SafeWriter:
    return SafeWriter(fh, **kwargs)
