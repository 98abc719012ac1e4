"""Streaming voter-file reader: one row at a time, never the whole file in memory.

The delimiter (comma, tab or pipe, the layouts counties ship) is taken from the header line.
``progress(rows_read, bytes_read, bytes_total)`` is called every ``progress_every`` rows and
once at the end; it carries counts only, never a row's content.

Rows are skipped (and counted by reason, never logged) when they carry no first or last name
(``missing_name``), or a registration status that means cancelled (``cancelled``). A row
without a usable street or ZIP is kept: the voter can still be found by name ("registered at
another address"), only never "registered here".
"""

from __future__ import annotations

import csv
import io
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sync.voters.columns import SKIPPED_STATUSES, ColumnMapping

Progress = Callable[[int, int, int], None]
_DELIMITERS = (",", "\t", "|", ";")
csv.field_size_limit(1_000_000)


@dataclass
class ReadStats:
    rows_read: int = 0
    rows_kept: int = 0
    skipped: Counter = field(default_factory=Counter)
    bytes_total: int = 0

    @property
    def rows_skipped(self) -> int:
        return sum(self.skipped.values())

    def as_dict(self) -> dict:
        return {"rows_read": self.rows_read, "rows_kept": self.rows_kept,
                "rows_skipped": self.rows_skipped, "skipped": dict(self.skipped)}


@dataclass(frozen=True)
class VoterRow:
    line: int  # 1-based data row number (the header is row 0)
    fields: dict[str, str]


def sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_voter_file(path: str | os.PathLike, mapping: ColumnMapping, *,
                    encoding: str = "utf-8-sig", progress: Progress | None = None,
                    progress_every: int = 50_000, stats: ReadStats | None = None,
                    ) -> Iterator[VoterRow]:
    """Yield the kept rows of a voter file; ``stats`` (if given) is filled as rows pass."""
    stats = stats if stats is not None else ReadStats()
    path = Path(path)
    stats.bytes_total = path.stat().st_size
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, newline="", errors="strict")
        header_line = text.readline()
        if not header_line:
            return
        delimiter = sniff_delimiter(header_line)
        header = next(csv.reader([header_line], delimiter=delimiter))
        resolved = mapping.resolve(header)
        reader = csv.reader(text, delimiter=delimiter)
        for line, row in enumerate(reader, start=1):
            stats.rows_read += 1
            if progress is not None and stats.rows_read % progress_every == 0:
                progress(stats.rows_read, raw.tell(), stats.bytes_total)
            if not row or not any(row):
                stats.skipped["empty"] += 1
                continue
            fields = resolved.extract(row)
            if fields["status"] and fields["status"].casefold() in SKIPPED_STATUSES:
                stats.skipped["cancelled"] += 1
                continue
            if not (fields["first_name"] and fields["last_name"]):
                stats.skipped["missing_name"] += 1
                continue
            stats.rows_kept += 1
            yield VoterRow(line, fields)
        if progress is not None:
            progress(stats.rows_read, stats.bytes_total, stats.bytes_total)
