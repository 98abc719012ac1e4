"""Drive progress, device rows, quality flags and CSV export as plain functions."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from sync.reports.csv_export import dashboard_csv, devices_csv, safe_cell, to_csv
from sync.reports.devices import (
    DeviceStats,
    device_rows,
    filter_rows,
    is_stale,
    sort_rows,
    team_names,
)
from sync.reports.progress import DayCount, compute_progress, cumulative_series, days_left
from sync.reports.quality import CirculatorActivity, quality_flags
from sync.reports.registrar import simulate

TODAY = date(2025, 3, 10)
NOW = datetime(2025, 3, 10, 18, 0, tzinfo=UTC)


def _days():
    return [
        DayCount(date(2025, 3, 1), raw=100, unique=90),
        DayCount(date(2025, 3, 4), raw=200, unique=180),
        DayCount(date(2025, 3, 9), raw=300, unique=270, checked=100, registered=80),
        DayCount(date(2025, 3, 10), raw=100, unique=100),
    ]


def test_progress_figures_exact():
    p = compute_progress(raw_entries=700, unique_signers=640, rejected=20, checked=100,
                         registered=80, validity_rate=0.75, goal=1_000,
                         deadline=date(2025, 3, 19), today=TODAY, days=_days())
    # 80 registered + (640 - 100) x 0.75 = 485
    assert p.projected_valid == 485
    assert p.duplicates == 40
    assert p.days_left == 10
    assert p.remaining == 515
    assert p.pace_needed_per_day == 52  # ceil(515 / 10)
    # last 7 days (Mar 4..10): 180x.75 + (80 + 170x.75) + 100x.75 = 135 + 207.5 + 75 = 417.5
    assert p.pace_actual_7d == round(417.5 / 7, 1) == 59.6
    assert p.on_pace is True
    assert p.effective_validity_rate == round(485 / 640, 4)
    assert p.series == [(date(2025, 3, 1), 67), (date(2025, 3, 4), 202),
                        (date(2025, 3, 9), 410), (date(2025, 3, 10), 485)]


def test_progress_without_voter_file_and_past_deadline():
    p = compute_progress(raw_entries=10, unique_signers=10, validity_rate=0.726, goal=100,
                         deadline=date(2025, 3, 1), today=TODAY)
    assert p.projected_valid == 7  # floor(7.26)
    assert p.days_left == 0 and p.pace_needed_per_day == 93 and p.on_pace is False
    assert p.series == []
    assert days_left(TODAY, TODAY) == 1


def test_series_is_sorted_and_cumulative():
    s = cumulative_series(reversed(_days()), 1.0)
    assert [d for d, _ in s] == sorted(d for d, _ in s)
    assert [v for _, v in s] == [90, 270, 520, 620]


def _stats(i, team, circ, last_sync, **kw):
    base = dict(device_id=f"dev-{i}", device_name=f"Tablet {i}", circulator=circ, team=team,
                last_sync=last_sync, last_heartbeat=last_sync, pending_reported=0,
                entries_today=0, entries_total=0, duplicates=0, rejected=0, open_sections=1)
    base.update(kw)
    return DeviceStats(**base)


def _rows():
    return device_rows([
        _stats(1, "North", "Ana Ruiz", NOW - timedelta(minutes=5), entries_total=200,
               duplicates=10, rejected=4, entries_today=30, pending_reported=2),
        _stats(2, "North", "Ben Cho", NOW - timedelta(minutes=61), entries_total=50),
        _stats(3, "South", "Cleo Park", None),
        _stats(4, "South", "Dev Shah", NOW - timedelta(minutes=60), entries_total=10,
               rejected=1),
        _stats(5, "South", "Eve Lin", NOW - timedelta(days=3), revoked=True),
    ], NOW, 60)


def test_device_rows_staleness_and_rates():
    rows = {r.device_id: r for r in _rows()}
    assert rows["dev-1"].duplicate_rate == 0.05 and rows["dev-1"].rejection_rate == 0.02
    assert [rows[f"dev-{i}"].stale for i in range(1, 6)] == [False, True, True, False, False]
    assert rows["dev-2"].minutes_since_sync == 61 and rows["dev-3"].minutes_since_sync is None
    assert rows["dev-4"].rejection_rate == 0.1
    assert rows["dev-1"].as_dict()["last_sync"] == "2025-03-10T17:55:00+00:00"
    assert is_stale(datetime(2025, 3, 10, 17, 0), NOW, 59)  # naive = UTC


def test_filter_sort_search():
    rows = _rows()
    assert [r.device_id for r in filter_rows(rows, team="South")] == ["dev-3", "dev-4", "dev-5"]
    assert [r.device_id for r in filter_rows(rows, search="  cho ")] == ["dev-2"]
    assert [r.device_id for r in filter_rows(rows, search="tablet 4")] == ["dev-4"]
    assert [r.device_id for r in filter_rows(rows, stale_only=True)] == ["dev-2", "dev-3"]
    assert [r.device_id for r in sort_rows(rows, "last_sync")] == \
        ["dev-3", "dev-5", "dev-2", "dev-4", "dev-1"]
    assert [r.device_id for r in sort_rows(rows, "entries_total", descending=True)][:3] == \
        ["dev-1", "dev-2", "dev-4"]
    assert [r.device_id for r in sort_rows(rows, "team", descending=True)][0] == "dev-5"
    assert team_names(rows) == ["North", "South"]
    with pytest.raises(ValueError):
        sort_rows(rows, "surname")


def test_quality_flags_are_observations():
    activity = [
        CirculatorActivity("Ana Ruiz", "North", entries=100, duplicates=5,
                           outside_jurisdiction=0, max_in_window=6),
        CirculatorActivity("Ben Cho", "North", entries=100, duplicates=21,
                           outside_jurisdiction=6, max_in_window=15),
        CirculatorActivity("Cleo Park", "South", entries=10, duplicates=9,
                           outside_jurisdiction=2, max_in_window=14),
        CirculatorActivity("Dev Shah", "South", entries=790, duplicates=45,
                           outside_jurisdiction=0, max_in_window=3),
    ]
    # drive rate = 80 / 1000 = 8%; threshold max(16%, 13%) = 16%
    flags = quality_flags(activity)
    assert [(f.circulator, f.kind) for f in flags] == [
        ("Ben Cho", "duplicate_rate"), ("Ben Cho", "burst"), ("Ben Cho", "outside_jurisdiction")]
    assert flags[0].value == 0.21 and flags[0].reference == 0.08
    assert flags[0].text.startswith("Duplicate rate 21% (21 of 100) against 8% for the drive")
    assert flags[2].value == 0.06
    assert quality_flags(activity, drive_rate=0.30) == [f for f in flags if f.kind != "duplicate_rate"]


def test_csv_export_is_parseable_and_safe():
    # Formatting here; neutralising formulas is the one CSV writer's job (sync.csv_cells).
    assert to_csv(["h"], [["=HYPERLINK(1)"]]) == "h\r\n'=HYPERLINK(1)\r\n" and safe_cell(-3) == -3
    assert safe_cell(True) == "yes" and safe_cell(None) == ""
    rows = _rows()
    text = devices_csv(rows)
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0][:3] == ["team", "circulator", "device_name"]
    assert len(parsed) == 6 and parsed[2][1] == "Ben Cho" and parsed[2][-1] == "yes"
    assert text.endswith("\r\n")
    p = compute_progress(raw_entries=700, unique_signers=640, validity_rate=0.75, goal=1_000,
                         deadline=date(2025, 3, 19), today=TODAY, days=_days())
    s = simulate(raw=700, unique=640, validity_rate=0.75, required=300, trials=20)
    full = dashboard_csv(computed_at=NOW, progress=p, devices=rows, flags=[], simulation=s)
    lines = full.split("\r\n")
    assert lines[1] == "computed_at,2025-03-10T18:00:00+00:00"
    assert "projected_valid,480" in lines
    assert "2025-03-10,485" in lines  # the days carry a registration check
    assert "chance_certified,1.0" in lines


def test_progress_reads_sensibly_at_0_1_and_a_million_signers():
    kwargs = dict(validity_rate=0.5, goal=100, deadline=date(2025, 3, 19), today=TODAY)
    empty = compute_progress(raw_entries=0, unique_signers=0, **kwargs)
    assert empty.projected_valid == 0 and empty.effective_validity_rate == 0.5
    assert empty.series == []
    one = compute_progress(raw_entries=1, unique_signers=1,
                           days=[DayCount(TODAY, raw=1, unique=1)], **kwargs)
    # Half a valid signature rounds down to 0, but the rate is the campaign's 50%, not 0%.
    assert one.projected_valid == 0 and one.effective_validity_rate == 0.5
    big = compute_progress(raw_entries=1_000_000, unique_signers=1_000_000,
                           days=[DayCount(TODAY, raw=1_000_000, unique=1_000_000)], **kwargs)
    assert big.projected_valid == 500_000 and big.effective_validity_rate == 0.5
    assert big.remaining == 0 and big.on_pace
