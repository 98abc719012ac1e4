"""A tiny run of tests/benchmarks/bench_voters.py: the benchmark works and its figures are
sane (no timing is asserted)."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def test_bench_voters_tiny(tmp_path):
    path = Path(__file__).resolve().parent / "benchmarks" / "bench_voters.py"
    spec = importlib.util.spec_from_file_location("bench_voters", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.run(2000, 300, None, tmp_path)
    assert result["rows"] == 2000 and result["lookups"] == 300
    assert result["import_rows_per_s"] > 0 and result["import_peak_rss_mb"] > 0
    assert result["lookup_p99_ms"] >= result["lookup_median_ms"] > 0
    assert 0 < result["index_disk_mb"] and result["index_false_positive_rate"] < 1 / 2000
    assert set(result["answers"]) <= {"registered_here", "registered_elsewhere", "not_found"}
