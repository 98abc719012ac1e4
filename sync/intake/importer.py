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

import hashlib
import hmac
import io
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from sync.csv_cells import csv_writer
from sync.domain import PERSONAL_FIELDS, SignerEntry
from sync.intake.mapping import TARGET_FIELDS, check_mapping
from sync.intake.tables import Table
from sync.jurisdiction import Jurisdiction
from sync.protocol import REASON_TEXT, EntryResult, ReasonCode
from sync.validation import FieldError, validate_entry

# Fields that make up a row's identity (its content), in a fixed order.
CONTENT_FIELDS: tuple[str, ...] = PERSONAL_FIELDS


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
