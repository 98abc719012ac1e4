"""Crash safety: a writer process is SIGKILLed at random moments. Everything it reported as
saved (after save_entry returned) must be there and readable, the outbox must hold exactly
the unanswered entries, device_seq must have no gaps, and SQLite must find no corruption."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from helpers_store import PIN, SERIAL

from canvass.store import DeviceStore

REPO = Path(__file__).resolve().parent.parent
ROUNDS = 5

WRITER = f"""
import os, sys
from pathlib import Path
from canvass.store import DeviceStore, KdfParams
from sync.domain import SignerEntry
from sync.protocol import EntryResult

path = Path(sys.argv[1])
if DeviceStore.exists(path):
    store = DeviceStore.open(path)
    store.unlock({PIN!r})
else:
    store = DeviceStore.create(path, {PIN!r}, kdf=KdfParams(64, 1, 1))
store.open_section({SERIAL!r}, "Crash Circulator")
print("ready", flush=True)
n = 0
while True:
    line = store.next_line({SERIAL!r})
    entry = SignerEntry(section={SERIAL!r}, line=line, first_name="Crash", last_name=f"Test{{n}}",
                        street="1 Kill Street", city="Los Angeles", zip="90012")
    saved = store.save_entry(entry, [os.urandom(16).hex()])
    print("saved", saved.entry_id, saved.device_seq, flush=True)
    n += 1
    if n % 7 == 0:
        # Play the server now and then: answer a small batch, so acknowledgements race kills too.
        batch = store.next_batch(max_entries=5)
        results = [EntryResult(entry_id=e.entry_id, status="accepted") for e in batch.entries]
        store.apply_batch_results(batch.batch_id, results)
        print("acked", *(e.entry_id for e in batch.entries), flush=True)
"""


def _run_and_kill(path: Path, delay: float) -> list[list[str]]:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=REPO)
    try:
        first = proc.stdout.readline()
        assert first == b"ready\n", proc.stderr.read().decode(errors="replace")[-2000:]
        time.sleep(delay)  # the kill moment is random; nothing is asserted about timing
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # A line cut by the kill has no newline: it was not fully reported, so it is not counted.
    text = out.decode()
    complete = text[: text.rfind("\n") + 1]
    return [line.split() for line in complete.splitlines() if line]


def _check(path: Path, saved: dict[str, int], acked: set[str]) -> None:
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        outbox_ids = {r[0] for r in raw.execute("SELECT entry_id FROM outbox")}
        pending_ids = {r[0] for r in raw.execute("SELECT entry_id FROM entries WHERE status = 'pending'")}
        seqs = sorted(r[0] for r in raw.execute("SELECT device_seq FROM entries"))
        live_lines = [r[0] for r in raw.execute("SELECT line FROM entries WHERE superseded_by IS NULL")]
    finally:
        raw.close()

    store = DeviceStore.open(path)
    store.unlock(PIN)
    try:
        for entry_id, seq in saved.items():
            stored = store.get_entry(entry_id)  # readable, not just present
            assert stored.entry.device_seq == seq
            assert stored.entry.first_name == "Crash"
        for entry_id in acked:
            assert store.get_entry(entry_id).status == "accepted"
        assert outbox_ids == pending_ids
        assert acked.isdisjoint(outbox_ids)
        assert store.pending_count() == len(outbox_ids)
        assert seqs == list(range(1, len(seqs) + 1))  # gap-free
        assert store.last_device_seq() == len(seqs)
        assert len(live_lines) == len(set(live_lines))  # no line handed out twice
    finally:
        store.close()


def test_kill_during_saves_loses_nothing_reported(tmp_path):
    path = tmp_path / "crash.db"
    saved: dict[str, int] = {}
    acked: set[str] = set()
    rng = random.Random()
    for _ in range(ROUNDS):
        before = len(saved)
        for words in _run_and_kill(path, rng.uniform(0.2, 1.0)):
            if words[0] == "saved":
                saved[words[1]] = int(words[2])
            elif words[0] == "acked":
                acked.update(words[1:])
        assert len(saved) > before, "the writer saved nothing before it was killed"
        _check(path, saved, acked)
    assert acked, "no batch was answered in any round"


def test_reported_entry_survives_immediate_kill(tmp_path):
    """Kill right after the first 'saved' line: that entry must already be on disk."""
    path = tmp_path / "quick.db"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env, cwd=REPO)
    try:
        assert proc.stdout.readline() == b"ready\n"
        words = proc.stdout.readline().split()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert words[0] == b"saved"
    _check(path, {words[1].decode(): int(words[2])}, set())
