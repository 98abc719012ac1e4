"""A raw dump of the server database holds no seeded name or street: personal fields are
sealed per field, the index keys are HMACs, and no plaintext goes into any other column."""

from __future__ import annotations

import subprocess

import httpx
import pytest
from server_helpers import batch_body, device_headers, running_server, signer

NAMES = ["Zebulon", "Quillfeather", "Marisol", "Thistlewood"]
STREET_WORD = "Wanderlust"


def _seed(server) -> None:
    cid = server.create_campaign()
    dev = server.enroll_device(cid)
    entries = [
        signer(NAMES[0], NAMES[1], f"1200 {STREET_WORD} Avenue", phone="213-555-0147",
               email="zebulon@example.org", notes="met at Quillfeather market"),
        signer(NAMES[2], NAMES[3], f"77 {STREET_WORD} Lane", unit="Apt 4"),
        signer(NAMES[0], NAMES[1], f"1200 {STREET_WORD} Ave"),  # duplicate
        signer(NAMES[2], NAMES[3], f"77 {STREET_WORD} Lane", zip="10001"),  # rejected
    ]
    body = batch_body(entries)
    r = httpx.post(f"{server.url}/v1/entries/batch", json=body,
                   headers=device_headers(dev.device_token, body))
    assert [x["status"] for x in r.json()["results"]] == ["accepted", "accepted", "duplicate", "rejected"]


def _assert_clean(blob: bytes) -> None:
    lowered = blob.lower()
    for word in [*NAMES, STREET_WORD, "213-555-0147", "zebulon@example.org"]:
        assert word.lower().encode() not in lowered, "plaintext personal data in the dump"


def test_sqlite_file_and_wal_hold_no_personal_data(tmp_path):
    db_file = tmp_path / "server.db"
    with running_server(f"sqlite:///{db_file}") as server:
        _seed(server)
        # While the server runs the newest pages may sit in the WAL: read every file now.
        files = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("server.db")}
    assert "server.db-wal" in files  # WAL mode: recent pages live here, so it is scanned too
    assert files["server.db"].startswith(b"SQLite format 3")
    _assert_clean(b"".join(files.values()))
    # And after the server closed (WAL checkpointed into the main file).
    _assert_clean(b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("server.db")))


@pytest.mark.postgres
def test_pg_dump_holds_no_personal_data(pg_url):
    with running_server(pg_url) as server:
        _seed(server)
    plain_url = pg_url.replace("postgresql+psycopg://", "postgresql://", 1)
    dump = subprocess.run(["pg_dump", "--no-owner", plain_url], capture_output=True, check=True).stdout
    assert b"COPY public.entries" in dump and b"COPY public.signer_keys" in dump
    _assert_clean(dump)
