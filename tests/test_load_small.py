"""A small load run in the default suite: 50 devices syncing at once against `canvass-server
serve --workers 2` on PostgreSQL (a child process), driven from this process over loopback.
No errors, nothing lost, nothing stored twice, every replayed batch answered the same.
The full-size run (500 devices, figures printed) is tests/benchmarks/load_devices.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from server_helpers import serve_subprocess

sys.path.insert(0, str(Path(__file__).resolve().parent / "benchmarks"))
from load_devices import run_load  # noqa: E402

DEVICES, BATCHES, PER_BATCH = 50, 2, 10


@pytest.mark.slow  # minutes on a busy 2-core machine (conftest: longer timeout)
def test_fifty_devices_at_once_two_workers_postgres(pg_url):
    with serve_subprocess(pg_url, workers=2) as server:
        cid = server.create_campaign(name="Small load")
        result = run_load(server, cid, devices=DEVICES, batches=BATCHES, per_batch=PER_BATCH, timeout=300)
    total = DEVICES * BATCHES * PER_BATCH
    assert result.failures == [] and result.http_errors == {}
    assert result.replay_mismatches == 0
    assert (result.batches_sent, result.entries_sent) == (DEVICES * BATCHES, total)
    assert result.statuses == {"accepted": total}
    assert (result.stored, result.stored_distinct, result.missing) == (total, total, 0)
    assert len(result.latencies) == DEVICES * (BATCHES + 1)  # every push and every replay answered
    print("load figures:", result.figures())
