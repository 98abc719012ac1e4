"""Importing signer lines from another source (CSV or XLSX) without losing any row.

Steps, each usable on its own:

1. ``open_table(path)`` reads the header row and streams the data rows as lists of strings
   (CSV in UTF-8 or Windows-1252 with any common delimiter; XLSX through openpyxl read-only).
2. ``guess_mapping(headers)`` proposes which column feeds which entry field; a staff member
   corrects it (or picks a ``PRESETS`` entry) before importing. ``check_mapping`` names what is
   still missing.
3. ``RowConverter.convert(row_number, cells)`` turns one row into a ``SignerEntry`` with a
   *stable* entry id (a keyed hash -- HMAC under the server's office-id sub-key -- of campaign,
   section, line and the row's normalized content: not of the file), or into a
   ``RowRejection`` with its reasons. Importing the same rows again (even
   from another file, another column order) yields the same ids, so the server's idempotency
   answers ``already_received`` and nothing is counted twice.
4. ``RejectionWriter`` collects rejected rows (the original cells plus row number, reason code,
   field and reason) into a CSV staff can download, fix and import again.

Pure logic: no database, no HTTP. Nothing here logs or raises with a cell's value.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path

from sync.csv_cells import csv_writer, unescape_cell
from sync.domain import PERSONAL_FIELDS, REQUIRED_FIELDS, SignerEntry
from sync.jurisdiction import Jurisdiction
from sync.protocol import REASON_TEXT, EntryResult, ReasonCode
from sync.validation import FieldError, validate_entry

# What a column can fill: where the line is, the signer's fields, when it was signed.
TARGET_FIELDS: tuple[str, ...] = ("section", "line", *PERSONAL_FIELDS, "captured_at")
REQUIRED_TARGETS: tuple[str, ...] = ("section", "line", *REQUIRED_FIELDS)
# Fields that make up a row's identity (its content), in a fixed order.
CONTENT_FIELDS: tuple[str, ...] = PERSONAL_FIELDS

# Header spellings seen in the wild -> target field. Compared after _norm_header.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "section": ("section", "section serial", "serial", "section no", "section number",
                "petition section", "booklet", "section id", "seccion"),
    "line": ("line", "line no", "line number", "line #", "ln", "row on page", "linea"),
    "first_name": ("first name", "first", "given name", "fname", "firstname", "nombre"),
    "middle_name": ("middle name", "middle", "middle initial", "mi", "middlename"),
    "last_name": ("last name", "last", "surname", "family name", "lname", "lastname",
                  "apellido"),
    "suffix": ("suffix", "name suffix", "sfx"),
    "street": ("street", "street address", "address", "residence address", "address 1",
               "address1", "addr", "residence", "direccion"),
    "unit": ("unit", "apt", "apartment", "apt unit", "address 2", "address2", "suite"),
    "city": ("city", "town", "residence city", "ciudad"),
    "zip": ("zip", "zip code", "zipcode", "postal code", "zip5", "postcode"),
    "phone": ("phone", "phone number", "telephone", "tel", "mobile", "cell", "telefono"),
    "email": ("email", "e mail", "email address", "correo"),
    "notes": ("notes", "note", "comments", "comment"),
    "captured_at": ("captured at", "date", "date signed", "signed on", "timestamp",
                    "signature date", "fecha"),
}

# Named mappings for sources the campaign uses often: target -> header as written.
PRESETS: dict[str, dict[str, str]] = {
    # Canvass's own CSV layout (wire field names as headers).
    "canvass": {name: name for name in TARGET_FIELDS},
    # A typical volunteer spreadsheet.
    "volunteer_sheet": {
        "section": "Section #", "line": "Line #", "first_name": "First Name",
        "middle_name": "Middle", "last_name": "Last Name", "street": "Residence Address",
        "unit": "Apt", "city": "City", "zip": "ZIP", "phone": "Phone", "email": "Email",
        "captured_at": "Date Signed",
    },
}


def _norm_header(text: str) -> str:
    text = re.sub(r"[_\-./:#]+", " ", str(text).strip().casefold())
    return re.sub(r"\s+", " ", text).strip()


def guess_mapping(headers: Sequence[str]) -> dict[str, int]:
    """target field -> column index, for the columns whose header is recognised.

    Each column feeds at most one field, and each field takes the first column that matches.
    """
    normalized = [_norm_header(h) for h in headers]
    mapping: dict[str, int] = {}
    used: set[int] = set()
    for target in TARGET_FIELDS:
        names = {_norm_header(n) for n in _SYNONYMS.get(target, ())} | {_norm_header(target)}
        for index, header in enumerate(normalized):
            if index not in used and header in names:
                mapping[target] = index
                used.add(index)
                break
    return mapping


def preset_mapping(preset: str, headers: Sequence[str]) -> dict[str, int]:
    """A named preset resolved against ``headers`` (case and spacing ignored)."""
    spec = PRESETS[preset]
    normalized = {_norm_header(h): i for i, h in reversed(list(enumerate(headers)))}
    return {target: normalized[_norm_header(header)] for target, header in spec.items()
            if _norm_header(header) in normalized}


def mapping_from_names(mapping: Mapping[str, str], headers: Sequence[str]) -> dict[str, int]:
    """target -> header name (as a staff member picked it) to target -> column index."""
    index = {h: i for i, h in reversed(list(enumerate(headers)))}
    out: dict[str, int] = {}
    for target, header in mapping.items():
        if target not in TARGET_FIELDS:
            raise ValueError(f"unknown field in mapping: {target}")
        if header in (None, ""):
            continue
        if header not in index:
            raise ValueError("a mapped column is not in the file")
        out[target] = index[header]
    return out


def check_mapping(mapping: Mapping[str, int]) -> list[str]:
    """Required fields the mapping leaves out (empty = ready to import)."""
    return [target for target in REQUIRED_TARGETS if target not in mapping]


# --------------------------------------------------------------------------------------------
# Reading files

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


# --------------------------------------------------------------------------------------------
# Rows to entries


@dataclass(frozen=True)
class RowRejection:
    row_number: int  # 1-based data row number (the header is row 0)
    cells: list[str]
    reasons: list[tuple[int, str, str]]  # (reason code, field, reason text)

    @property
    def first(self) -> tuple[int, str, str]:
        return self.reasons[0]


def _clean(text: str) -> str:
    return re.sub(r"[ \t]+", " ", text.strip())


def _parse_line(text: str) -> int | None:
    text = text.strip()
    if re.fullmatch(r"\d{1,6}(?:\.0+)?", text):
        return int(float(text))
    return None


_DATE_FORMATS = ("%m/%d/%Y", "%m/%d/%y", "%Y-%m-%d", "%m-%d-%Y")


def parse_captured_at(text: str) -> datetime | None:
    """ISO datetimes (naive = UTC) and common US dates (taken at noon UTC)."""
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            day = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        return datetime.combine(day, time(12, 0), tzinfo=UTC)
    return None


def stable_entry_id(id_key: bytes, campaign_id: str, section: str, line: int,
                    content: Mapping[str, str]) -> str:
    """A UUID (version 8, RFC 9562) of the row's meaning, not of its file: same key, campaign,
    section, line and content (case and spacing ignored) -> same id. Keyed (HMAC-SHA256 under
    ``id_key``): an unkeyed hash of the content, stored beside the row's section and line,
    would let a stolen database confirm a guessed signer."""
    parts = [campaign_id, section.strip().upper(), str(line)]
    parts += [_clean(content.get(name, "")).casefold() for name in CONTENT_FIELDS]
    digest = hmac.new(id_key, "\x1f".join(parts).encode("utf-8"), hashlib.sha256).digest()
    value = int.from_bytes(digest[:16], "big")
    value = (value & ~(0xF << 76)) | (0x8 << 76)  # version 8
    value = (value & ~(0b11 << 62)) | (0b10 << 62)  # variant 10
    return str(uuid.UUID(int=value))


def _reason(error: FieldError) -> tuple[int, str, str]:
    return int(error.code), error.field, REASON_TEXT[error.code]


class RowConverter:
    """Turns mapped rows into office entries (or rejections). Stateless apart from settings."""

    def __init__(self, mapping: Mapping[str, int], *, campaign_id: str, id_key: bytes,
                 default_captured_at: datetime, jurisdiction: Jurisdiction | None = None,
                 device_id: str = "") -> None:
        missing = check_mapping(mapping)
        if missing:
            raise ValueError("the column mapping leaves out: " + ", ".join(missing))
        self.mapping = dict(mapping)
        self.campaign_id = campaign_id
        self.id_key = id_key
        self.default_captured_at = default_captured_at
        self.jurisdiction = jurisdiction
        self.device_id = device_id

    def _cell(self, cells: Sequence[str], target: str) -> str:
        index = self.mapping.get(target)
        if index is None or index >= len(cells):
            return ""
        return cells[index] or ""

    def convert(self, row_number: int, cells: Sequence[str]) -> SignerEntry | RowRejection:
        content = {name: _clean(self._cell(cells, name)) for name in CONTENT_FIELDS}
        section = self._cell(cells, "section").strip().upper()
        line_text = self._cell(cells, "line")
        line = _parse_line(line_text)
        reasons: list[tuple[int, str, str]] = []
        captured_text = self._cell(cells, "captured_at")
        captured_at = parse_captured_at(captured_text) if captured_text.strip() else \
            self.default_captured_at
        if line is None:
            reasons.append((int(ReasonCode.INVALID_LINE_NUMBER), "line",
                            REASON_TEXT[ReasonCode.INVALID_LINE_NUMBER]))
        if captured_at is None:
            reasons.append((int(ReasonCode.INVALID_CAPTURED_AT), "captured_at",
                            REASON_TEXT[ReasonCode.INVALID_CAPTURED_AT]))
        entry = SignerEntry(
            section=section, line=line if line is not None else 1,
            entry_id=stable_entry_id(self.id_key, self.campaign_id, section, line or 0, content),
            device_id=self.device_id,
            captured_at=captured_at or self.default_captured_at, **content)
        errors = [e for e in validate_entry(entry, jurisdiction=self.jurisdiction)
                  if not (e.field == "line" and line is None)
                  and not (e.field == "captured_at" and captured_at is None)]
        reasons.extend(_reason(e) for e in errors)
        if reasons:
            order = {name: i for i, name in enumerate(TARGET_FIELDS)}
            reasons.sort(key=lambda r: order.get(r[1], len(order)))
            return RowRejection(row_number, list(cells), reasons)
        return entry


def is_blank(cells: Sequence[str]) -> bool:
    return all(not (c or "").strip() for c in cells)


# --------------------------------------------------------------------------------------------
# Rejection file


REJECTION_COLUMNS = ("row", "reason_code", "field", "reason")


class RejectionWriter:
    """The downloadable file of rejected rows: the original columns first (so it can be fixed
    and imported again with the same mapping), then row number, reason code, field and reason.
    """

    def __init__(self, headers: Sequence[str]) -> None:
        self.headers = list(headers)
        self._buffer = io.StringIO()
        # The rejected cells are echoed as typed: neutralised (unescape_cell on re-import).
        self._writer = csv_writer(self._buffer)
        self._writer.writerow(self.headers + [f"_{c}" for c in REJECTION_COLUMNS])
        self.count = 0

    def add(self, row_number: int, cells: Sequence[str], reason_code: int, field_name: str,
            reason: str, more: int = 0) -> None:
        padded = list(cells) + [""] * (len(self.headers) - len(cells))
        if more:
            reason = f"{reason} (+{more} more)"
        self._writer.writerow(padded[: max(len(self.headers), len(cells))]
                              + [row_number, reason_code, field_name, reason])
        self.count += 1

    def add_rejection(self, rejection: RowRejection) -> None:
        code, field_name, reason = rejection.first
        self.add(rejection.row_number, rejection.cells, code, field_name, reason,
                 more=len(rejection.reasons) - 1)

    def getvalue(self) -> str:
        return self._buffer.getvalue()


@dataclass
class ImportCounts:
    """Where every data row went. ``total == sum of the rest``: nothing is lost."""

    total: int = 0
    blank: int = 0
    invalid: int = 0  # rejected here, before the server (see the rejection file)
    accepted: int = 0
    already_received: int = 0
    duplicate: int = 0
    possible_duplicate: int = 0
    rejected: int = 0  # rejected by the server (line already used...), also in the file
    conflict: int = 0  # also in the file
    extra: dict[str, int] = field(default_factory=dict)

    def add_status(self, status: str) -> None:
        if status in ("accepted", "already_received", "duplicate", "possible_duplicate",
                      "rejected", "conflict"):
            setattr(self, status, getattr(self, status) + 1)
        else:
            self.extra[status] = self.extra.get(status, 0) + 1

    @property
    def accounted(self) -> int:
        return (self.blank + self.invalid + self.accepted + self.already_received + self.duplicate
                + self.possible_duplicate + self.rejected + self.conflict + sum(self.extra.values()))

    def as_dict(self) -> dict[str, int]:
        out = {name: getattr(self, name) for name in (
            "total", "blank", "invalid", "accepted", "already_received", "duplicate",
            "possible_duplicate", "rejected", "conflict")}
        out.update(self.extra)
        return out


PROGRESS_EVERY = 1000  # rows: run_rows reports at least this often


def run_rows(table: Table, converter: RowConverter,
             submit: Callable[[list[SignerEntry]], list[EntryResult]], *,
             batch_size: int = 500,
             progress: Callable[[ImportCounts], None] | None = None) -> tuple[ImportCounts, RejectionWriter]:
    """Stream every row of ``table``: convert, send valid entries to ``submit`` in batches of
    ``batch_size`` (results in input order), count every row once, and collect rejected rows
    (here or by the server) in the rejection file. ``progress`` is called after each batch and
    every PROGRESS_EVERY rows; an exception it raises stops the run (a cancelled job)."""
    counts = ImportCounts()
    rejections = RejectionWriter(table.headers)
    pending: list[tuple[int, list[str], SignerEntry]] = []
    reported = [0]  # the row number of the last progress report

    def flush() -> None:
        if not pending:
            return
        results = submit([entry for _n, _c, entry in pending])
        for (number, cells, _entry), result in zip(pending, results, strict=True):
            status = str(result.status.value)
            counts.add_status(status)
            if status in ("rejected", "conflict"):
                rejections.add(number, cells, result.reason_code or 0, result.field or "",
                               result.reason or status)
        pending.clear()
        if progress is not None:
            reported[0] = counts.total
            progress(counts)

    for number, cells in enumerate(table.rows, start=1):
        counts.total += 1
        if progress is not None and number - reported[0] >= PROGRESS_EVERY:
            reported[0] = number  # also amid rejected or blank rows: a job can be cancelled
            progress(counts)
        if is_blank(cells):
            counts.blank += 1
            continue
        converted = converter.convert(number, cells)
        if isinstance(converted, SignerEntry):
            pending.append((number, cells, converted))
            if len(pending) >= batch_size:
                flush()
        else:
            counts.invalid += 1
            rejections.add_rejection(converted)
    flush()
    if progress is not None:
        progress(counts)  # the final report covers trailing rejected and blank rows too
    return counts, rejections


def preview(table: Table, mapping: Mapping[str, int], converter: RowConverter,
            limit: int = 20) -> list[dict]:
    """The first ``limit`` rows as the import would see them: mapped values and errors.

    Consumes the first rows of ``table.rows``: open the table again to import.
    """
    out: list[dict] = []
    for number, cells in enumerate(table.rows, start=1):
        if len(out) >= limit:
            break
        mapped = {target: (cells[i] if i < len(cells) else "") for target, i in mapping.items()}
        result = converter.convert(number, cells)
        errors = [] if isinstance(result, SignerEntry) else [
            {"reason_code": c, "field": f, "reason": r} for c, f, r in result.reasons]
        out.append({"row": number, "values": mapped, "errors": errors,
                    "blank": is_blank(cells)})
    return out
