"""The dashboard's figures as CSV (RFC 4180, CRLF line ends, UTF-8).

Cells that a spreadsheet would take for a formula are neutralised by the project's one CSV
writer (sync.csv_cells), so a device or team name can never run as a formula. Numbers are
written as numbers.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sync.csv_cells import csv_writer
from sync.reports.devices import DeviceRow
from sync.reports.progress import Progress
from sync.reports.quality import QualityFlag
from sync.reports.registrar import SimulationResult

DEVICE_COLUMNS = ("team", "circulator", "device_name", "device_id", "last_sync",
                  "last_heartbeat", "pending_reported", "entries_today", "entries_total",
                  "duplicate_rate", "rejection_rate", "open_sections", "stale")


def safe_cell(value) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)  # csv_writer neutralises formula cells


def to_csv(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    buf = io.StringIO()
    writer = csv_writer(buf)
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buf.getvalue()


def devices_csv(rows: Iterable[DeviceRow]) -> str:
    return to_csv(DEVICE_COLUMNS, ([getattr(r, c) for c in DEVICE_COLUMNS] for r in rows))


def dashboard_csv(*, computed_at: datetime, progress: Progress | None,
                  devices: Iterable[DeviceRow] = (), flags: Iterable[QualityFlag] = (),
                  simulation: SimulationResult | None = None) -> str:
    """One file, several blocks each with its own header, separated by an empty line."""
    parts = [to_csv(("figure", "value"), [("computed_at", computed_at)])]
    if progress is not None:
        p = progress
        parts.append(to_csv(("progress", "value"), [
            ("raw_entries", p.raw_entries), ("unique_signers", p.unique_signers),
            ("rejected", p.rejected), ("duplicates", p.duplicates), ("withdrawn", p.withdrawn),
            ("projected_valid", p.projected_valid), ("validity_rate", p.validity_rate),
            ("goal", p.goal), ("deadline", p.deadline), ("days_left", p.days_left),
            ("pace_needed_per_day", p.pace_needed_per_day),
            ("pace_actual_7d", p.pace_actual_7d),
        ]))
        parts.append(to_csv(("day", "cumulative_projected_valid"), p.series))
    if simulation is not None:
        s = simulation
        parts.append(to_csv(("simulation", "value"), [
            ("sample", s.sample), ("trials", s.trials), ("seed", s.seed),
            ("chance_certified", s.chances["certified"]),
            ("chance_full_count", s.chances["full_count"]),
            ("chance_failed", s.chances["failed"]),
            ("more_raw_for_95", s.more_raw_for_95),
        ]))
    parts.append(devices_csv(devices))
    parts.append(to_csv(("team", "circulator", "kind", "value", "reference", "text"),
                        ((f.team, f.circulator, f.kind, f.value, f.reference, f.text)
                         for f in flags)))
    return "\r\n".join(parts)
