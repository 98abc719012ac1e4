"""Reading an imported file: one streaming reader for CSV (UTF-8 or Windows-1252, any common
delimiter) and XLSX (openpyxl read-only): the header row, then the data rows as lists of
strings, within limits a small hostile file cannot get past.

Step 1 of an import (sync/intake/importer.py tells the whole way). Nothing here logs or raises
with a cell's value."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sync.csv_cells import unescape_cell

# Limits on what an uploaded file may make the server do (issue 16): a small file must not
# unpack into gigabytes, a million shared strings or 16,384-cell rows. Far above any petition
# drive's file (the largest test imports 100,000 rows of 12 columns).
MAX_IMPORT_ROWS = 1_000_000
MAX_IMPORT_COLUMNS = 100
MAX_XLSX_UNCOMPRESSED = 400_000_000  # bytes, all members of the XLSX (ZIP) together
MAX_SHARED_STRINGS = 2_000_000


class ImportLimitError(ValueError):
    """The file exceeds an import limit (the message names the limit, never a cell)."""


def _limited(rows: Iterator[list[str]], *, header_row: bool = True) -> Iterator[list[str]]:
    """Rows, stopping with ImportLimitError past MAX_IMPORT_ROWS or MAX_IMPORT_COLUMNS."""
    for number, row in enumerate(rows, start=1):
        if number > MAX_IMPORT_ROWS:
            raise ImportLimitError(f"the file has more than {MAX_IMPORT_ROWS} rows")
        if len(row) > MAX_IMPORT_COLUMNS:
            while row and row[-1] in ("", None):  # trailing empty cells are not columns
                row = row[:-1]
            if len(row) > MAX_IMPORT_COLUMNS:
                raise ImportLimitError(f"a row has more than {MAX_IMPORT_COLUMNS} columns")
        yield row


def _check_xlsx(source: Path | bytes) -> None:
    """Refuse a ZIP that unpacks too large or a shared-string table too long, before openpyxl
    reads any of it (it loads every shared string when the workbook is opened). The sizes in
    the ZIP directory bound what can be read: zipfile stops at the declared size."""
    import zipfile
    from xml.etree.ElementTree import iterparse

    with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as archive:
        members = archive.infolist()
        if sum(m.file_size for m in members) > MAX_XLSX_UNCOMPRESSED:
            raise ImportLimitError(f"the file unpacks to more than {MAX_XLSX_UNCOMPRESSED} bytes")
        names = {m.filename for m in members}
        if "xl/sharedStrings.xml" not in names:
            return
        count = 0
        with archive.open("xl/sharedStrings.xml") as fh:
            for _event, element in iterparse(fh, events=("end",)):
                if element.tag.endswith("}si") or element.tag == "si":
                    count += 1
                    if count > MAX_SHARED_STRINGS:
                        raise ImportLimitError(
                            f"the file has more than {MAX_SHARED_STRINGS} shared strings")
                    element.clear()


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[list[str]]  # data rows, cells as text
    total_rows: int | None  # data rows, when known up front (for progress)
    kind: str  # "csv" or "xlsx"


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")  # every byte decodes; a wrong letter beats a lost row


def _csv_table(raw: bytes) -> Table:
    text = _decode(raw)
    sample = text[:16384]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    headers = next(reader, [])
    # Count records (not physical lines: a quoted cell may hold a newline) for progress; the
    # limits are checked in this pass, so a file over them is refused when opened.
    total = sum(1 for _ in _limited(csv.reader(io.StringIO(text, newline=""), dialect)))
    total -= 1 if headers else 0

    rows = ([unescape_cell(cell) for cell in row] for row in reader)
    return Table(headers=[unescape_cell(h.strip()) for h in headers], rows=rows,
                 total_rows=max(total, 0), kind="csv")


def _count_row_elements(sheet) -> int | None:
    """Data rows for progress, from the sheet's <row> elements (a byte scan: far cheaper than
    parsing the cells); None when the read-only sheet does not expose its source."""
    try:
        source = sheet._get_source()  # openpyxl's read-only sheet: its XML member
    except Exception:  # noqa: BLE001 - only the progress figure is lost
        return None
    count, tail = 0, b""
    with source:
        while chunk := source.read(1 << 20):
            data = tail + chunk
            count += data.count(b"<row ") + data.count(b"<row>")
            tail = data[-5:]
            count -= tail.count(b"<row ") + tail.count(b"<row>")  # counted again next time
    count += tail.count(b"<row ") + tail.count(b"<row>")
    return max(count - 1, 0)


def _xlsx_table(source: Path | bytes) -> Table:
    from openpyxl import load_workbook

    _check_xlsx(source)
    handle = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    workbook = load_workbook(handle, read_only=True, data_only=True)
    sheet = workbook.worksheets[0]
    # The sheet's <dimension> is whatever the file claims (A1:XFD1048576 made every row
    # 16,384 cells): ignored, so rows are as long as their cells and counted as they come.
    sheet.reset_dimensions()
    iterator = _limited(sheet.iter_rows(values_only=True))
    first = next(iterator, None)
    headers = [_cell_text(v).strip() for v in (first or ())]
    total = _count_row_elements(sheet)

    def rows() -> Iterator[list[str]]:
        try:
            for values in iterator:
                yield [_cell_text(v) for v in values]
        finally:
            workbook.close()

    return Table(headers=headers, rows=rows(), total_rows=total, kind="xlsx")


def sniff_kind(name: str, head: bytes) -> str:
    if head[:4] == b"PK\x03\x04" or name.lower().endswith((".xlsx", ".xlsm")):
        return "xlsx"
    return "csv"


def open_table(source: Path | str | bytes, *, name: str = "") -> Table:
    """A CSV or XLSX file (path or bytes) as headers plus streamed rows."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        name = name or path.name
        with path.open("rb") as fh:
            head = fh.read(4)
        if sniff_kind(name, head) == "xlsx":
            return _xlsx_table(path)
        return _csv_table(path.read_bytes())
    if sniff_kind(name, source[:4]) == "xlsx":
        return _xlsx_table(source)
    return _csv_table(source)
