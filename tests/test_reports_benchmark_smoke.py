"""A tiny run of tests/benchmarks/bench_dashboard.py on PostgreSQL keeps the benchmark working."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres


def test_benchmark_runs_small(pg_url):
    path = Path(__file__).parent / "benchmarks" / "bench_dashboard.py"
    spec = importlib.util.spec_from_file_location("bench_dashboard", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    lines: list[str] = []
    times = bench.run(pg_url, entries=3_000, devices=20, out=lines.append)
    assert set(times) >= {"device_stats", "drive_totals", "circulator_activity"}
    assert any(line.startswith("device_stats") and line.endswith("ms") for line in lines)
