"""One device cannot monopolise the server (issue 16, Medium 5), attacked over HTTP on a real
server: the rate limit counts entries, not requests; a block of many same-address entries
makes one entry score no more than the per-block cap; rejected entries with oversized fields
do not grow the database by what they sent."""

from __future__ import annotations

import sqlite3
from collections import Counter

import httpx
from server_helpers import batch_body, device_headers, running_server, signer
from sqlalchemy import func, select

from sync.protocol import MAX_BATCH_ENTRIES, MAX_WIRE_FIELD_CHARS
from sync.server import dedup
from sync.server.config import RateLimits
from sync.server.models import Entry

FIRSTS = ["Robert", "William", "Elizabeth", "Margaret", "Katherine", "James", "Jennifer", "Thomas",
          "Patricia", "Richard", "Dolores", "Ignatius", "Winifred", "Bartholomew", "Ophelia"]
LASTS = ["Nakamura", "Okafor", "Delgado", "Lindqvist", "Petrova", "Castellano", "Abernathy",
         "Villanueva", "Kowalczyk", "Haddad", "Ferreira", "Ostrowski", "Mbeki", "Sorensen",
         "Takahashi", "Whitfield", "Quintero", "Brandt", "Moreau", "Iwasaki"]


def post(server, token: str, entries) -> httpx.Response:
    body = batch_body(entries)
    return httpx.post(f"{server.url}/v1/entries/batch", json=body,
                      headers=device_headers(token, body), timeout=300)


def distinct_people(count: int, **kw):
    """``count`` entries of different people (first x last name), all at one address."""
    people = [(f, last) for last in LASTS for f in FIRSTS][:count]
    return [signer(first=f, last=last, **kw) for f, last in people]


def test_a_batch_costs_one_token_per_entry(tmp_path):
    """A budget of 600 tokens (no refill to speak of): the old limit counted two batches of 500
    as two requests and took both; now the second is refused before any of its work, while a
    one-entry batch and a replay of the first still go through."""
    limits = RateLimits(device_capacity=600, device_per_second=0.0001)
    with running_server(f"sqlite:///{tmp_path / 's.db'}", rate_limits=limits) as server:
        cid = server.create_campaign()
        token = server.enroll_device(cid).device_token
        first = batch_body([signer(first=f"Ann{i}", street=f"{100 + i} North Main Street")
                            for i in range(MAX_BATCH_ENTRIES)])
        r = httpx.post(f"{server.url}/v1/entries/batch", json=first,
                       headers=device_headers(token, first), timeout=300)
        assert r.status_code == 200
        second = post(server, token, [signer(first=f"Bea{i}", street=f"{100 + i} West 1st Street")
                                      for i in range(MAX_BATCH_ENTRIES)])
        assert second.status_code == 429 and int(second.headers["retry-after"]) > 1
        with server.db.read() as s:
            stored = s.scalar(select(func.count()).select_from(Entry))
        assert stored == MAX_BATCH_ENTRIES  # nothing of the refused batch was decided
        assert post(server, token, [signer()]).status_code == 200
        replay = httpx.post(f"{server.url}/v1/entries/batch", json=first,
                            headers=device_headers(token, first), timeout=300)
        assert replay.status_code == 200 and replay.json() == r.json()


def test_an_honest_full_outbox_syncs_with_the_default_budget(tmp_path):
    """Four full batches (2,000 entries, days of work offline) one after the other: no 429."""
    with running_server(f"sqlite:///{tmp_path / 's.db'}") as server:
        cid = server.create_campaign()
        token = server.enroll_device(cid).device_token
        for b in range(4):
            entries = [signer(first=FIRSTS[i % 15], last=LASTS[i // 15 % 20], zip="90026",
                              street=f"{1000 * b + i + 1} West Sunset Boulevard")
                       for i in range(MAX_BATCH_ENTRIES)]
            assert post(server, token, entries).status_code == 200, b


def test_a_huge_block_scores_at_most_the_per_block_cap(tmp_path, monkeypatch):
    """250 different people at one address (one house_zip block), then one more: the old code
    scored every one of them (up to 500) for that one entry; now at most the cap."""
    limits = RateLimits(device_capacity=10_000, device_per_second=10_000)
    with running_server(f"sqlite:///{tmp_path / 's.db'}", rate_limits=limits) as server:
        cid = server.create_campaign()
        token = server.enroll_device(cid).device_token
        block = distinct_people(250, street="500 South Figueroa Street", zip="90071")
        r = post(server, token, block)
        assert r.status_code == 200
        accepted = Counter(x["status"] for x in r.json()["results"])["accepted"]
        assert accepted > dedup.MAX_CANDIDATES_PER_BLOCK + 50, accepted
        scored = []
        real = dedup.match_records  # the one scoring loop of intake and the door-step check

        def counting(a, b):
            scored.append(1)
            return real(a, b)

        monkeypatch.setattr(dedup, "match_records", counting)
        r = post(server, token, [signer(first="Zebulon", last="Quackenbush",
                                        street="500 South Figueroa Street", zip="90071")])
        assert r.status_code == 200 and r.json()["results"][0]["status"] == "accepted"
        assert 0 < len(scored) <= dedup.MAX_CANDIDATES_PER_BLOCK, len(scored)
        # The door-step check reads the same capped candidates.
        scored.clear()
        r = httpx.post(f"{server.url}/v1/doorstep/check", headers={"Authorization": f"Bearer {token}"},
                       json={"protocol_version": 1, "first_name": "Ignatius", "last_name": "Featherstone",
                             "street": "500 South Figueroa Street", "zip": "90071"})
        assert r.status_code == 200 and r.json() == {"answer": "no"}
        assert 0 < len(scored) <= dedup.MAX_CANDIDATES_PER_BLOCK, len(scored)


def logical_size(path) -> int:
    """Bytes of the SQLite database in use (WAL included, free pages not)."""
    with sqlite3.connect(path) as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    return (pages - free) * size


def test_rejected_entries_with_huge_fields_do_not_grow_the_database(tmp_path):
    """200 entries rejected for 10 KB of oversized fields each (five fields at the wire's
    2,000-character cap): the old code stored them sealed in full (2 MB and more); now a
    rejected entry keeps no more of a field than an accepted one may hold, so they grow the
    database about as much as 200 ordinary rejected entries (row and index overhead)."""
    path = tmp_path / "s.db"
    big = "x" * MAX_WIRE_FIELD_CHARS

    def grow_by(token, make) -> int:
        before = logical_size(path)
        for _ in range(4):  # 50 entries a batch: 500 KB, under the 1 MB body cap
            r = post(server, token, [make() for _ in range(50)])
            assert r.status_code == 200
            assert {x["status"] for x in r.json()["results"]} == {"rejected"}
        return logical_size(path) - before

    with running_server(f"sqlite:///{path}") as server:
        cid = server.create_campaign()
        token = server.enroll_device(cid).device_token
        assert post(server, token, [signer()]).status_code == 200  # tables and indexes warm
        ordinary = grow_by(token, lambda: signer(zip="ABCDE"))
        huge = grow_by(token, lambda: signer(first=big, last=big, middle_name=big, street=big,
                                             city=big))
    sent = 200 * 5 * MAX_WIRE_FIELD_CHARS
    print(f"200 rejected entries: {ordinary / 1e3:.0f} KB with ordinary fields, "
          f"{huge / 1e3:.0f} KB with {sent / 1e6:.1f} MB of oversized fields")
    assert huge < sent / 4 and huge < 1.5 * ordinary + 64_000, (huge, ordinary)
