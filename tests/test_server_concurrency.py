"""Deduplication under real concurrency: `canvass-server serve --workers 2` on PostgreSQL,
16 client threads, 4 devices each sending the same 200 signers (with spelling variants that
give the same exact keys). Exactly one entry per signer may count."""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from server_helpers import batch_body, device_headers, serve_subprocess
from sqlalchemy import select

from sync.domain import SignerEntry
from sync.server.models import Entry

pytestmark = pytest.mark.postgres

FIRSTS = ["Robert", "William", "Elizabeth", "Margaret", "Katherine", "James", "Jennifer", "Thomas",
          "Patricia", "Richard"]
LASTS = ["Nakamura", "Okafor", "Delgado", "Lindqvist", "Petrova", "Castellano", "Abernathy",
         "Villanueva", "Kowalczyk", "Haddad", "Ferreira", "Ostrowski", "Mbeki", "Sorensen",
         "Takahashi", "Whitfield", "Quintero", "Brandt", "Moreau", "Iwasaki"]
STREETS = ["North Main Street", "West Sunset Boulevard", "South Figueroa Street", "East 1st Street"]
SHORT = {"North Main Street": "N Main St", "West Sunset Boulevard": "W Sunset Blvd",
         "South Figueroa Street": "S Figueroa St", "East 1st Street": "E 1st St"}
DEVICES, THREADS, CHUNK = 4, 16, 25


def _signers() -> list[dict]:
    people = []
    for i in range(200):
        street = STREETS[i % len(STREETS)]
        people.append({"first": FIRSTS[i % 10], "last": LASTS[i // 10], "house": str(100 + i),
                       "street": street, "zip": "90012"})
    return people


def _variant(person: dict, device: int) -> dict:
    """Spellings that normalize to the same matching keys."""
    first, last = person["first"], person["last"]
    street = f"{person['house']} {person['street']}"
    if device % 2:
        street = f"{person['house']} {SHORT[person['street']]}"
    if device == 2:
        first, last = first.upper(), last.upper()
    if device == 3:
        first, last = f"  {first.lower()} ", last.lower()
    return {"first_name": first, "last_name": last, "street": street}


def test_each_signer_counts_exactly_once_across_workers(pg_url):
    people = _signers()
    with serve_subprocess(pg_url, workers=2) as server:
        cid = server.create_campaign()
        devices = [server.enroll_device(cid, f"phone-{d}") for d in range(DEVICES)]
        owner: dict[str, int] = {}
        jobs = []
        for chunk_start in range(0, len(people), CHUNK):
            for d, dev in enumerate(devices):
                entries = []
                for i in range(chunk_start, chunk_start + CHUNK):
                    entry = SignerEntry(section=f"D{d}S{i // 100}", line=i % 100 + 1, city="Los Angeles",
                                        zip=people[i]["zip"], device_seq=i + 1, **_variant(people[i], d))
                    owner[entry.entry_id] = i
                    entries.append(entry)
                jobs.append((dev.device_token, batch_body(entries)))
        random.Random(7).shuffle(jobs)

        def send(job):
            token, body = job
            with httpx.Client(timeout=120) as client:
                r = client.post(f"{server.url}/v1/entries/batch", json=body,
                                headers=device_headers(token, body))
            return r.status_code, r.json()

        with ThreadPoolExecutor(THREADS) as pool:
            answers = list(pool.map(send, jobs))

        assert [code for code, _ in answers] == [200] * len(jobs)
        statuses = Counter(r["status"] for _, body in answers for r in body["results"])
        assert statuses == {"accepted": 200, "duplicate": 600}, statuses

        with server.db.read() as s:
            rows = s.execute(select(Entry.id, Entry.status, Entry.duplicate_of, Entry.counted)
                             .where(Entry.campaign_id == cid)).all()
    assert len(rows) == 800
    counted = defaultdict(list)
    for entry_id, _status, _dup, is_counted in rows:
        if is_counted:
            counted[owner[entry_id]].append(entry_id)
    assert sorted(counted) == list(range(200))
    assert all(len(ids) == 1 for ids in counted.values())
    for entry_id, status, duplicate_of, is_counted in rows:
        if not is_counted:
            assert status == "duplicate"
            assert duplicate_of == counted[owner[entry_id]][0]  # points at the counted entry


def test_concurrent_replays_of_one_batch_get_the_first_answer(pg_url):
    """A client that timed out replays its batch while the first attempt still runs (issue:
    3 entries came back `conflict`). Every attempt must get the same answer, with no conflict:
    the replay waits on the batch lock and then answers from what the first attempt decided."""
    with serve_subprocess(pg_url, workers=2) as server:
        cid = server.create_campaign()
        seq = 0
        for round_no in range(3):
            # A device per round: two concurrent attempts may each pay for the batch's entries
            # (the first chunk commits before the batch record), and the device budget is one
            # across both workers now (ratelimit.py), no longer one per worker process.
            dev = server.enroll_device(cid)
            entries = []
            for i in range(300):
                seq += 1
                person = i % 200  # the last 100 repeat signers of the first chunk (250 entries)
                entries.append(SignerEntry(
                    section=f"R{round_no}S{i // 10:03d}", line=i % 10 + 1, city="Los Angeles",
                    zip=("90012", "90026", "90057")[round_no], device_seq=seq,
                    first_name=FIRSTS[person % 10], last_name=LASTS[person // 10],
                    street=f"{100 + 3 * person} North Main Street"))
            body = batch_body(entries)
            barrier = threading.Barrier(3)

            def send(_n, body=body, barrier=barrier, token=dev.device_token):
                barrier.wait()
                with httpx.Client(timeout=120) as client:
                    r = client.post(f"{server.url}/v1/entries/batch", json=body,
                                    headers=device_headers(token, body))
                return r.status_code, r.json()

            with ThreadPoolExecutor(3) as pool:
                answers = list(pool.map(send, range(3)))
            assert [code for code, _ in answers] == [200, 200, 200]
            assert answers[0][1] == answers[1][1] == answers[2][1]
            statuses = Counter(r["status"] for r in answers[0][1]["results"])
            assert statuses == {"accepted": 200, "duplicate": 100}, statuses
            ids = [e["entry_id"] for e in body["entries"]]
            with server.db.read() as s:
                stored = dict(s.execute(select(Entry.id, Entry.batch_id).where(Entry.id.in_(ids))).all())
            assert len(stored) == 300 and set(stored.values()) == {body["batch_id"]}
