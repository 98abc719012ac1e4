"""Benchmarks and the deduplication quality harness (not collected by pytest).

Run ``python -m tests.benchmarks.run [all|quality|ingest|device] [--size tiny|small|full]``
from the repository root. tests/test_bench_smoke.py runs a tiny version of each part.
"""
