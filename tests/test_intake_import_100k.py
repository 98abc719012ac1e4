"""A 100,000-row file with 1% bad rows, imported twice: counts and the rejection file are exact,
the second import creates nothing new, progress covers every row.

The quick test streams the file through the importer's real pipeline (``run_rows``: file
reading, column mapping, per-row validation, stable row ids, batches of 500, rejection file)
into a SQLite table keyed by entry id that answers like the server's idempotency (new id ->
accepted, known id -> already_received), checking progress and the rejection file exactly.
The second test runs the same file twice through the server's real import job
(``sync.server.ingest.handle_batch`` with deduplication, in-process on SQLite) and checks the
counts and the stored entries.
"""

from __future__ import annotations

import csv
import sqlite3
from datetime import UTC, datetime

import pytest

from sync.intake.importer import RowConverter, run_rows
from sync.intake.mapping import guess_mapping
from sync.intake.tables import open_table
from sync.protocol import EntryResult, EntryStatus

ROWS = 100_000
HEADERS = ["Section #", "Line #", "First Name", "Last Name", "Residence Address", "City", "ZIP"]
ZIPS = ["90012", "90001", "90004", "90026", "90027", "90028", "90029", "90031", "90032", "90033"]


def write_file(path) -> dict[int, str]:
    """The file, and row number -> offending field of each bad row (every 100th row)."""
    from fault_layer import pronounceable

    bad: dict[int, str] = {}
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        for n in range(ROWS):
            row = [f"K{n // 500:04d}", str(n % 500 + 1), pronounceable(n * 7 + 3),
                   pronounceable(n * 13 + 5, 5), f"{100 + n} {pronounceable(n, 3)} St",
                   "Los Angeles", ZIPS[n % len(ZIPS)]]
            if n % 100 == 99:
                kind = (n // 100) % 3
                if kind == 0:
                    row[6], bad[n + 1] = "ABCDE", "zip"
                elif kind == 1:
                    row[3], bad[n + 1] = "", "last_name"
                else:
                    row[1], bad[n + 1] = "x", "line"
            writer.writerow(row)
    return bad


class IdTable:
    """A SQLite table of received entry ids answering like the server's idempotency check."""

    def __init__(self, path) -> None:
        self.conn = sqlite3.connect(path)
        self.conn.execute("CREATE TABLE ids (entry_id TEXT PRIMARY KEY, section TEXT, line INT)")

    def submit(self, entries) -> list[EntryResult]:
        results = []
        with self.conn:
            for entry in entries:
                cur = self.conn.execute("INSERT OR IGNORE INTO ids VALUES (?, ?, ?)",
                                        (entry.entry_id, entry.section, entry.line))
                status = EntryStatus.ACCEPTED if cur.rowcount else EntryStatus.ALREADY_RECEIVED
                results.append(EntryResult(entry_id=entry.entry_id, status=status))
        return results

    def count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM ids").fetchone()[0]


def check_rejections(text: str, bad: dict[int, str]) -> None:
    rows = list(csv.reader(text.splitlines()))
    assert rows[0] == HEADERS + ["_row", "_reason_code", "_field", "_reason"]
    assert {int(r[-4]): r[-2] for r in rows[1:]} == bad
    assert len(rows) - 1 == len(bad)


def test_import_100k_rows_twice(tmp_path):
    path = tmp_path / "signers.csv"
    bad = write_file(path)
    assert len(bad) == ROWS // 100
    ids = IdTable(tmp_path / "ids.db")
    outcomes = []
    for _attempt in range(2):
        table = open_table(path)
        assert table.total_rows == ROWS
        converter = RowConverter(guess_mapping(table.headers), campaign_id="campaign-100k", id_key=b"k" * 32,
                                 default_captured_at=datetime(2026, 3, 1, tzinfo=UTC))
        progress: list[int] = []
        counts, rejections = run_rows(table, converter, ids.submit, batch_size=500,
                                      progress=lambda c, seen=progress: seen.append(c.total))
        assert progress == sorted(progress) and progress[-1] == ROWS
        assert len(progress) == 99_000 // 500 + 1  # one per batch of 500 valid rows, one at the end
        check_rejections(rejections.getvalue(), bad)
        outcomes.append(counts)
    first, second = outcomes
    assert first.as_dict() == {"total": ROWS, "blank": 0, "invalid": 1000, "accepted": 99_000,
                               "already_received": 0, "duplicate": 0, "possible_duplicate": 0,
                               "rejected": 0, "conflict": 0}
    assert second.accepted == 0 and second.already_received == 99_000 and second.invalid == 1000
    assert ids.count() == 99_000


@pytest.mark.slow
def test_import_100k_rows_twice_through_server_intake(tmp_path):
    """The same file twice through the server's real intake (about 2-3 minutes here)."""
    from sqlalchemy import func, select

    from sync.server.admin import create_campaign
    from sync.server.config import Settings
    from sync.server.intake.imports import create_job, run_import
    from sync.server.migrate import upgrade_head
    from sync.server.models import Entry
    from sync.server.services import Services

    path = tmp_path / "signers.csv"
    bad = write_file(path)
    db_url = f"sqlite:///{tmp_path / 'server.db'}"
    upgrade_head(db_url)
    svc = Services.build(Settings.load(db_url))
    cid = create_campaign(svc.db, svc.settings.keys, name="100k", goal=1000, deadline="2030-01-01")
    mapping = guess_mapping(HEADERS)
    first = run_import(svc, create_job(svc, cid, "t", "csv", None), cid, path.read_bytes(),
                       "signers.csv", mapping)
    second = run_import(svc, create_job(svc, cid, "t", "csv", None), cid, path.read_bytes(),
                        "signers.csv", mapping)
    assert first.invalid == len(bad) and first.accounted == ROWS
    assert first.accepted + first.duplicate + first.possible_duplicate == ROWS - len(bad)
    assert second.already_received == ROWS - len(bad) and second.accepted == 0
    with svc.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Entry)) == ROWS - len(bad)
