"""Token buckets in the database: login attempts per IP/username, requests per device."""

from __future__ import annotations

import httpx
from server_helpers import running_server

from sync.server.config import RateLimits
from sync.server.db import Database
from sync.server.migrate import upgrade_head
from sync.server.ratelimit import TokenBuckets, client_address, parse_networks


def _db(db_url) -> Database:
    upgrade_head(db_url)
    return Database(db_url)


def test_bucket_refills_with_time(db_url):
    now = [1000.0]
    db = _db(db_url)
    buckets = TokenBuckets(2, 1.0, db=db, scope="t", clock=lambda: now[0])
    assert [buckets.take("k") for _ in range(3)] == [0.0, 0.0, 1.0]
    now[0] += 1.0
    assert buckets.take("k") == 0.0 and buckets.take("other") == 0.0
    assert buckets.take("k") == 1.0  # the refused take charged nothing: one token short still


def test_give_back_returns_a_token_but_never_past_capacity(db_url):
    now = [1000.0]
    db = _db(db_url)
    buckets = TokenBuckets(2, 0.0001, db=db, scope="refund", clock=lambda: now[0])
    assert buckets.take("k") == 0.0
    buckets.give_back("k")  # the attempt proved to be no guess
    buckets.give_back("k")  # a second refund cannot lift the bucket above its 2 tokens
    assert [buckets.take("k") > 0 for _ in range(3)] == [False, False, True]
    buckets.give_back("fresh")  # no row yet: a full bucket, not more
    assert [buckets.take("fresh") > 0 for _ in range(3)] == [False, False, True]


def test_a_flood_of_new_keys_does_not_reset_a_victims_wait(db_url):
    """The in-process buckets cleared every bucket at 100,000 keys: an attacker's flood of
    new keys gave the victim key a full bucket again. Pruning drops only refilled rows."""
    now = [1000.0]
    db = _db(db_url)
    buckets = TokenBuckets(1, 0.01, db=db, scope="flood", clock=lambda: now[0])
    assert buckets.take("victim") == 0.0 and buckets.take("victim") > 0
    for i in range(50):
        buckets.take(f"flood-{i}")
    now[0] += 10.0
    buckets.prune()
    assert buckets.take("victim") > 0  # still waiting (a full refill takes 100 s)
    now[0] += 200.0
    assert buckets.prune() >= 51 and buckets.take("victim") == 0.0


def test_two_processes_share_one_bucket(db_url):
    """Two Database objects (two engines: as two processes) draw on the same bucket."""
    a, b = _db(db_url), Database(db_url)
    one = TokenBuckets(4, 0.0001, db=a, scope="shared")
    two = TokenBuckets(4, 0.0001, db=b, scope="shared")
    answers = [(one if i % 2 else two).take("dev") for i in range(8)]
    assert answers[:4] == [0.0] * 4 and all(w > 0 for w in answers[4:])


def test_forwarded_for_is_believed_only_from_a_trusted_proxy():
    trusted = parse_networks("10.0.0.0/8, 127.0.0.1")
    assert client_address("203.0.113.9", "1.2.3.4", trusted) == "203.0.113.9"
    assert client_address("127.0.0.1", "1.2.3.4", ()) == "127.0.0.1"
    # The right-most hop not a proxy of ours: a client's own left part is ignored.
    assert client_address("10.1.1.1", "6.6.6.6, 198.51.100.7, 10.2.2.2", trusted) == "198.51.100.7"
    assert client_address("10.1.1.1", "not-an-address", trusted) == "not-an-address"


def test_login_and_device_limits_answer_429(tmp_path):
    limits = RateLimits(device_capacity=3, device_per_second=0.0001, login_capacity=2,
                        login_per_second=0.0001)
    with running_server(f"sqlite:///{tmp_path / 's.db'}", rate_limits=limits) as server:
        login = {"username": "u", "password": "p"}
        codes = [httpx.post(f"{server.url}/v1/auth/login", json=login).status_code for _ in range(3)]
        assert codes == [401, 401, 429]
    # Enrollment shares the per-IP bucket (now empty): the device bucket is checked on a
    # fresh server.
    with running_server(f"sqlite:///{tmp_path / 't.db'}", rate_limits=limits) as server:
        cid = server.create_campaign()
        dev = server.enroll_device(cid)
        auth = {"Authorization": f"Bearer {dev.device_token}"}
        statuses = [httpx.get(f"{server.url}/v1/outcomes", headers=auth).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        r = httpx.get(f"{server.url}/v1/outcomes", headers=auth)
        assert r.headers["content-type"].startswith("application/problem+json") and "retry-after" in r.headers
