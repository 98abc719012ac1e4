"""Device table rows for the dashboard: one row per device with its circulator and team, sync
and heartbeat times, pending entries the device reported, entries today and in total,
duplicate and rejection rates, open sections, and whether it is stale (not synced for longer
than the campaign's ``stale_after_minutes``). Plus the table's sort, filter and search."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta

from sync.domain import as_utc

SORT_KEYS = ("team", "circulator", "last_sync", "entries_today", "entries_total",
             "duplicate_rate", "rejection_rate", "pending")


@dataclass(frozen=True)
class _DeviceFacts:
    """What a device's row shows as the queries found it (who, when, how many): declared once
    for the gathered stats and the row, which device_row copies it from."""

    device_id: str
    device_name: str
    circulator: str
    team: str
    last_sync: datetime | None
    last_heartbeat: datetime | None
    pending_reported: int
    entries_today: int
    entries_total: int


_FACT_NAMES = tuple(f.name for f in fields(_DeviceFacts))


@dataclass(frozen=True)
class DeviceStats(_DeviceFacts):
    """What the queries gather for one device (no personal data of signers)."""

    duplicates: int
    rejected: int
    open_sections: int
    revoked: bool = False


@dataclass(frozen=True)
class DeviceRow(_DeviceFacts):
    duplicate_rate: float  # duplicates / entries_total, 0..1, 4 places
    rejection_rate: float
    open_sections: int
    stale: bool
    minutes_since_sync: int | None
    revoked: bool = False

    def as_dict(self) -> dict:
        data = asdict(self)
        for key in ("last_sync", "last_heartbeat"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


def rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def is_stale(last_sync: datetime | None, now: datetime, stale_after_minutes: int) -> bool:
    """A device that never synced, or last synced more than ``stale_after_minutes`` ago."""
    if last_sync is None:
        return True
    return as_utc(now) - as_utc(last_sync) > timedelta(minutes=stale_after_minutes)


def device_row(stats: DeviceStats, now: datetime, stale_after_minutes: int) -> DeviceRow:
    minutes = None
    if stats.last_sync is not None:
        minutes = int((as_utc(now) - as_utc(stats.last_sync)).total_seconds() // 60)
    return DeviceRow(
        **{name: getattr(stats, name) for name in _FACT_NAMES},
        duplicate_rate=rate(stats.duplicates, stats.entries_total),
        rejection_rate=rate(stats.rejected, stats.entries_total),
        open_sections=stats.open_sections,
        stale=not stats.revoked and is_stale(stats.last_sync, now, stale_after_minutes),
        minutes_since_sync=minutes, revoked=stats.revoked,
    )


def device_rows(stats: Iterable[DeviceStats], now: datetime,
                stale_after_minutes: int) -> list[DeviceRow]:
    return [device_row(s, now, stale_after_minutes) for s in stats]


def filter_rows(rows: Iterable[DeviceRow], *, team: str | None = None,
                search: str | None = None, stale_only: bool = False) -> list[DeviceRow]:
    """Keep one team's rows (exact name), rows whose circulator or device name contains
    ``search`` (case-insensitive), and/or only stale ones."""
    needle = (search or "").strip().casefold()
    out = []
    for row in rows:
        if team and row.team != team:
            continue
        if needle and needle not in row.circulator.casefold() \
                and needle not in row.device_name.casefold():
            continue
        if stale_only and not row.stale:
            continue
        out.append(row)
    return out


def sort_rows(rows: Iterable[DeviceRow], key: str = "team",
              descending: bool = False) -> list[DeviceRow]:
    """Sort by one of SORT_KEYS; ties by team then circulator then device id. Never-synced
    devices sort as the oldest sync."""
    if key not in SORT_KEYS:
        raise ValueError(f"unknown sort key {key!r}")
    rows = sorted(rows, key=lambda r: (r.team.casefold(), r.circulator.casefold(), r.device_id))
    if key == "team":
        return list(reversed(rows)) if descending else rows

    def value(r: DeviceRow):
        if key == "circulator":
            return r.circulator.casefold()
        if key == "last_sync":
            return as_utc(r.last_sync).timestamp() if r.last_sync else float("-inf")
        if key == "pending":
            return r.pending_reported
        return getattr(r, key)

    return sorted(rows, key=value, reverse=descending)


def team_names(rows: Iterable[DeviceRow]) -> list[str]:
    return sorted({r.team for r in rows}, key=str.casefold)
