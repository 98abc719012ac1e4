"""Deduplication through the API (exact, fuzzy, Jr/Sr) and the review of possible duplicates,
on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
from server_helpers import batch_body, device_headers, signer

from sync.scoring import score_pair
from sync.server.models import AuditLog, Entry

EXPECTED = {"duplicate": "duplicate", "possible_duplicate": "possible_duplicate", "distinct": "accepted"}


def _send(server, token, entries):
    body = batch_body(entries)
    r = httpx.post(f"{server.url}/v1/entries/batch", json=body, headers=device_headers(token, body))
    assert r.status_code == 200
    return r.json()["results"]


def test_exact_fuzzy_and_father_son(live_server):
    cid = live_server.create_campaign()
    dev = live_server.enroll_device(cid)
    base = signer("Katherine", "Villanueva", "500 South Figueroa Street", zip="90071")
    senior = signer("John", "Okonkwo", "12 Oak Street", suffix="Sr")
    [first, sr] = _send(live_server, dev.device_token, [base, senior])
    assert first["status"] == sr["status"] == "accepted"

    exact = signer("KATHERINE", "Villanueva", "500 S Figueroa St", zip="90071")
    typo = signer("Katherine", "Vilanueva", "500 South Figueroa Street", zip="90071")
    junior = signer("John", "Okonkwo", "12 Oak Street", suffix="Jr")
    results = _send(live_server, dev.device_token, [exact, typo, junior])
    assert results[0]["status"] == "duplicate" and results[0]["duplicate_of"] == base.entry_id
    expected = EXPECTED[score_pair(typo.personal(), base.personal()).decision]
    assert expected != "accepted"  # the scorer must at least flag a one-letter typo
    assert results[1]["status"] == expected
    assert base.entry_id in (results[1]["duplicate_of"], results[1]["candidate_of"])
    assert results[2]["status"] == "accepted", "father and son must both count"


def test_review_decisions_reach_the_device_feed(live_server):
    cid = live_server.create_campaign()
    dev = live_server.enroll_device(cid)
    live_server.add_user(f"rev-{cid[-8:]}", "review passphrase", role="intake", campaign_id=cid)
    token = live_server.login(f"rev-{cid[-8:]}", "review passphrase")
    staff = {"Authorization": f"Bearer {token}"}
    base = signer("Dolores", "Abernathy", "500 Sweetwater Street", zip="90071")
    near1 = signer("Dolores", "Abernathy", "501 Sweetwater Street", zip="90071")
    near2 = signer("Dolores", "Abernathy", "502 Sweetwater Street", zip="90071")
    assert score_pair(near1.personal(), base.personal()).decision == "possible_duplicate"
    results = _send(live_server, dev.device_token, [base, near1])
    assert results[1] == {**results[1], "status": "possible_duplicate", "candidate_of": base.entry_id}
    results = _send(live_server, dev.device_token, [near2])
    assert results[0]["status"] == "possible_duplicate"

    queue = httpx.get(f"{live_server.url}/v1/review/queue", headers=staff).json()["items"]
    assert {item["entry"]["entry_id"] for item in queue} == {near1.entry_id, near2.entry_id}
    assert queue[0]["candidate"]["fields"]["last_name"] == "Abernathy"  # the reviewer sees both

    r = httpx.post(f"{live_server.url}/v1/review/{near1.entry_id}/decision", headers=staff,
                   json={"decision": "not_duplicate"})
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    r = httpx.post(f"{live_server.url}/v1/review/{near2.entry_id}/decision", headers=staff,
                   json={"decision": "duplicate"})
    assert r.json() == {"entry_id": near2.entry_id, "status": "duplicate", "duplicate_of": base.entry_id}
    again = httpx.post(f"{live_server.url}/v1/review/{near2.entry_id}/decision", headers=staff,
                       json={"decision": "duplicate"})
    assert again.status_code == 409

    auth = device_headers(dev.device_token)
    feed = httpx.get(f"{live_server.url}/v1/outcomes", headers=auth).json()
    assert [(o["entry_id"], o["status"]) for o in feed["outcomes"]] == [
        (near1.entry_id, "accepted"), (near2.entry_id, "duplicate")]
    assert feed["outcomes"][1]["duplicate_of"] == base.entry_id
    assert httpx.get(f"{live_server.url}/v1/outcomes", params={"since": feed["cursor"]},
                     headers=auth).json()["outcomes"] == []
    with live_server.db.read() as s:
        assert s.get(Entry, near1.entry_id).counted is True
        decisions = s.query(AuditLog).filter(AuditLog.action == "review.decision").count()
    assert decisions >= 2


def test_reviewer_of_another_campaign_sees_nothing(live_server):
    cid = live_server.create_campaign()
    other = live_server.create_campaign(name="Other")
    dev = live_server.enroll_device(cid)
    live_server.add_user(f"other-{other[-8:]}", "review passphrase", role="intake", campaign_id=other)
    staff = {"Authorization": f"Bearer {live_server.login(f'other-{other[-8:]}', 'review passphrase')}"}
    base = signer("Teddy", "Flood", "700 Sweetwater Street", zip="90071")
    near = signer("Teddy", "Flood", "701 Sweetwater Street", zip="90071")
    assert _send(live_server, dev.device_token, [base, near])[1]["status"] == "possible_duplicate"
    assert httpx.get(f"{live_server.url}/v1/review/queue", headers=staff).json() == {"items": []}
    r = httpx.post(f"{live_server.url}/v1/review/{near.entry_id}/decision", headers=staff,
                   json={"decision": "duplicate"})
    assert r.status_code == 404
