"""Idempotency of POST /v1/entries/batch: replays, retries across batches, conflicts."""

from __future__ import annotations

import httpx
from server_helpers import batch_body, device_headers, signer
from sqlalchemy import func, select

from sync.crypto import FieldCipher
from sync.protocol import EntryStatus, ReasonCode
from sync.server.models import Entry


def _post(server, token, body, key=None):
    headers = device_headers(token, body)
    if key is not None:
        headers["Idempotency-Key"] = key
    return httpx.post(f"{server.url}/v1/entries/batch", json=body, headers=headers)


def _count(server, *where) -> int:
    with server.db.read() as s:
        return s.scalar(select(func.count()).select_from(Entry).where(*where))


def test_same_batch_three_times_gives_identical_responses(live_server):
    cid = live_server.create_campaign()
    dev = live_server.enroll_device(cid)
    body = batch_body([signer("Idem", "Potent"), signer("Idem", "Potent"),
                       signer("Zed", "Other", zip="10001")])
    answers = [_post(live_server, dev.device_token, body) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].json() == answers[1].json() == answers[2].json()
    assert [r["status"] for r in answers[0].json()["results"]] == ["accepted", "duplicate", "rejected"]
    ids = [e["entry_id"] for e in body["entries"]]
    assert _count(live_server, Entry.id.in_(ids)) == 3


def test_same_entry_in_two_batches_is_already_received(live_server):
    cid = live_server.create_campaign()
    dev = live_server.enroll_device(cid)
    entry = signer("Twice", "Sent")
    first = _post(live_server, dev.device_token, batch_body([entry]))
    second = _post(live_server, dev.device_token, batch_body([entry]))
    assert first.json()["results"][0]["status"] == "accepted"
    assert second.json()["results"][0] == {
        "entry_id": entry.entry_id, "status": "already_received", "duplicate_of": None,
        "candidate_of": None, "reason_code": None, "reason": None, "field": None}
    assert _count(live_server, Entry.id == entry.entry_id) == 1


def test_changed_content_under_same_id_conflicts_and_keeps_original(live_server):
    cid = live_server.create_campaign()
    dev = live_server.enroll_device(cid)
    entry = signer("Original", "Content")
    _post(live_server, dev.device_token, batch_body([entry]))
    changed = entry.with_changes(first_name="Changed")
    r = _post(live_server, dev.device_token, batch_body([changed]))
    result = r.json()["results"][0]
    assert result["status"] == EntryStatus.CONFLICT
    assert result["reason_code"] == ReasonCode.CONTENT_CONFLICT
    cipher = FieldCipher(live_server.keys.subkey("canvass/field-cipher/v1"))
    with live_server.db.read() as s:
        row = s.get(Entry, entry.entry_id)
        assert cipher.decrypt(row.enc_first_name, record_id=row.id, field="first_name") == "Original"
        assert row.status == "accepted"


def test_same_device_seq_with_other_entry_id_is_a_sequence_conflict(live_server):
    cid = live_server.create_campaign()
    dev = live_server.enroll_device(cid)
    entry = signer("Seq", "One")
    _post(live_server, dev.device_token, batch_body([entry]))
    other = signer("Seq", "Two", device_seq=entry.device_seq)
    result = _post(live_server, dev.device_token, batch_body([other])).json()["results"][0]
    assert result["status"] == "conflict" and result["reason_code"] == ReasonCode.SEQUENCE_CONFLICT
    assert _count(live_server, Entry.id == other.entry_id) == 0


def test_another_device_cannot_send_an_existing_entry(live_server):
    cid = live_server.create_campaign()
    one, two = live_server.enroll_device(cid, "one"), live_server.enroll_device(cid, "two")
    entry = signer("Owned", "Entry")
    _post(live_server, one.device_token, batch_body([entry]))
    result = _post(live_server, two.device_token, batch_body([entry])).json()["results"][0]
    assert result["status"] == "conflict"
    with live_server.db.read() as s:
        assert s.get(Entry, entry.entry_id).device_id == one.device_id


def test_batch_id_reuse_with_other_body_is_409(live_server):
    cid = live_server.create_campaign()
    dev = live_server.enroll_device(cid)
    body = batch_body([signer("Batch", "First")])
    assert _post(live_server, dev.device_token, body).status_code == 200
    other = batch_body([signer("Batch", "Second")], batch_id=body["batch_id"])
    r = _post(live_server, dev.device_token, other)
    assert r.status_code == 409 and r.json()["code"] == "batch_id_conflict"
    assert _count(live_server, Entry.id == other["entries"][0]["entry_id"]) == 0


def test_idempotency_key_must_equal_batch_id(live_server):
    cid = live_server.create_campaign()
    dev = live_server.enroll_device(cid)
    body = batch_body([signer("Key", "Mismatch")])
    r = _post(live_server, dev.device_token, body, key="something-else")
    assert r.status_code == 400 and r.json()["code"] == "idempotency_key_mismatch"
    assert _count(live_server, Entry.id == body["entries"][0]["entry_id"]) == 0


def test_correction_stops_the_original_counting_and_is_not_its_duplicate(live_server):
    cid = live_server.create_campaign()
    dev = live_server.enroll_device(cid)
    original = signer("Correct", "Mee", "77 Elm Street")
    _post(live_server, dev.device_token, batch_body([original]))
    fixed = original.correction(first_name="Corey").with_changes(device_seq=original.device_seq + 100000)
    result = _post(live_server, dev.device_token, batch_body([fixed])).json()["results"][0]
    assert result["status"] == "accepted", result
    with live_server.db.read() as s:
        old, new = s.get(Entry, original.entry_id), s.get(Entry, fixed.entry_id)
        assert (old.counted, old.superseded_by) == (False, fixed.entry_id)
        assert new.counted is True
    # A correction naming an unknown entry is rejected.
    stray = signer("Stray", "Fix", supersedes="01890000-0000-7000-8000-000000000000")
    result = _post(live_server, dev.device_token, batch_body([stray])).json()["results"][0]
    assert result["status"] == "rejected" and result["reason_code"] == ReasonCode.UNKNOWN_SUPERSEDED_ENTRY
