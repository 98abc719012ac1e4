"""Outbox: batch limits, a formed batch resent unchanged until answered, answers remove exactly
the answered entries, and purging never touches pending entries."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from fake_clock import FakeClock
from helpers_store import PIN, key_for, make_entry, new_store, save_lines

from canvass.store import DeviceStore, NotFound, OutboxBatch
from canvass.store.codec import epoch_to_datetime
from sync.protocol import MAX_BATCH_BYTES, EntryResult, EntryStatus, Outcome


def _answer(entries, status=EntryStatus.ACCEPTED, **extra):
    return [EntryResult(entry_id=e.entry_id, status=status, **extra) for e in entries]


def test_empty_outbox_has_no_batch(tmp_path):
    store = new_store(tmp_path)
    assert store.next_batch() is None
    assert store.pending_count() == 0 and store.last_device_seq() == 0


def test_batch_respects_entry_limit_and_order(tmp_path):
    store = new_store(tmp_path)
    saved = save_lines(store, 7)
    assert [e.device_seq for e in saved] == list(range(1, 8))
    batch = store.next_batch(max_entries=3)
    assert [e.entry_id for e in batch.entries] == [e.entry_id for e in saved[:3]]
    assert batch.entries == saved[:3]  # exactly what was saved, decrypted


def test_batch_respects_byte_limit(tmp_path):
    store = new_store(tmp_path)
    save_lines(store, 10)
    one = store.next_batch(max_entries=1)
    one_size = len(one.to_request().model_dump_json().encode())
    store.apply_batch_results(one.batch_id, _answer(one.entries))
    limit = one_size * 3  # room for about three entries, not four
    batch = store.next_batch(max_bytes=limit)
    size = len(batch.to_request().model_dump_json().encode())
    assert size <= limit
    assert 2 <= len(batch.entries) < 9
    # The next entry would not have fitted: the batch is as full as the limit allows.
    following = next(s.entry for s in store.entries()
                     if s.entry.device_seq == batch.entries[-1].device_seq + 1)
    fuller = OutboxBatch(batch.batch_id, [*batch.entries, following])
    assert len(fuller.to_request().model_dump_json().encode()) > limit
    store.apply_batch_results(batch.batch_id, [])
    again = store.next_batch(max_bytes=10 * limit)  # still the same unanswered batch
    assert again.batch_id == batch.batch_id and again.entries == batch.entries


def test_oversized_single_entry_still_goes_alone(tmp_path):
    store = new_store(tmp_path)
    save_lines(store, 2)
    batch = store.next_batch(max_bytes=10)
    assert len(batch.entries) == 1


def test_unanswered_batch_is_returned_unchanged(tmp_path):
    store = new_store(tmp_path)
    save_lines(store, 4)
    first = store.next_batch(max_entries=3)
    save_lines(store, 2)  # new entries do not join a formed batch
    again = store.next_batch(max_entries=10, max_bytes=MAX_BATCH_BYTES)
    assert again.batch_id == first.batch_id
    assert again.entries == first.entries
    assert again.to_request().model_dump_json() == first.to_request().model_dump_json()
    # The wires the store keeps on a batch are exactly what the entries give on their own.
    by_hand = OutboxBatch(first.batch_id, first.entries)
    assert first.to_request() == again.to_request() == by_hand.to_request()
    with pytest.raises(ValueError):
        OutboxBatch(first.batch_id, first.entries[1:], first.wires[:-1])
    store.close()
    reopened = DeviceStore.open(store.path)
    reopened.unlock(PIN)
    assert reopened.next_batch().batch_id == first.batch_id  # survives a restart


def test_results_remove_exactly_the_answered_entries(tmp_path):
    store = new_store(tmp_path)
    saved = save_lines(store, 5)
    batch = store.next_batch(max_entries=4)
    members = batch.entries
    stranger = make_entry(99)
    results = [
        EntryResult(entry_id=members[0].entry_id, status=EntryStatus.ACCEPTED),
        EntryResult(entry_id=members[1].entry_id, status=EntryStatus.DUPLICATE,
                    duplicate_of="other-entry"),
        EntryResult(entry_id=members[2].entry_id, status=EntryStatus.REJECTED, reason_code=102),
        EntryResult(entry_id=stranger.entry_id, status=EntryStatus.ACCEPTED),  # not in batch
        EntryResult(entry_id=saved[4].entry_id, status=EntryStatus.ACCEPTED),  # pending, other batch
    ]
    store.apply_batch_results(batch.batch_id, results)
    assert store.pending_count() == 2
    assert store.get_entry(members[0].entry_id).status == "accepted"
    assert store.get_entry(members[0].entry_id).acknowledged_at is not None
    dup = store.get_entry(members[1].entry_id)
    assert (dup.status, dup.duplicate_of) == ("duplicate", "other-entry")
    rej = store.get_entry(members[2].entry_id)
    assert (rej.status, rej.reason_code) == ("rejected", 102)
    assert store.get_entry(members[3].entry_id).status == "pending"
    assert store.get_entry(saved[4].entry_id).status == "pending"

    # One member is still unanswered: the same batch comes back, whole and unchanged.
    again = store.next_batch()
    assert again.batch_id == batch.batch_id and again.entries == members
    store.apply_batch_results(batch.batch_id, _answer([members[3]]))
    # Answering again changes nothing (the entry is no longer waiting).
    store.apply_batch_results(batch.batch_id, _answer([members[0]], EntryStatus.CONFLICT))
    assert store.get_entry(members[0].entry_id).status == "accepted"

    nxt = store.next_batch()
    assert nxt.batch_id != batch.batch_id
    assert [e.entry_id for e in nxt.entries] == [saved[4].entry_id]


def test_unknown_batch_id(tmp_path):
    store = new_store(tmp_path)
    with pytest.raises(NotFound):
        store.apply_batch_results("no-such-batch", [])


def test_retry_answer_keeps_an_outcome_verdict(tmp_path):
    store = new_store(tmp_path)
    (entry,) = save_lines(store, 1)
    batch = store.next_batch()
    store.apply_outcomes([Outcome(entry_id=entry.entry_id, status=EntryStatus.DUPLICATE,
                                  duplicate_of="x")], cursor=5)
    store.apply_batch_results(batch.batch_id, _answer([entry], EntryStatus.ALREADY_RECEIVED))
    stored = store.get_entry(entry.entry_id)
    assert stored.status == "duplicate" and stored.acknowledged_at is not None
    assert store.pending_count() == 0


def test_one_answer_mixing_retries_verdicts_and_repeats(tmp_path):
    store = new_store(tmp_path)
    judged, fresh, twice = save_lines(store, 3)
    batch = store.next_batch()
    store.apply_outcomes([Outcome(entry_id=judged.entry_id, status=EntryStatus.REJECTED,
                                  reason_code=102)], cursor=1)
    store.apply_batch_results(batch.batch_id, [
        EntryResult(entry_id=judged.entry_id, status=EntryStatus.ALREADY_RECEIVED),
        EntryResult(entry_id=fresh.entry_id, status=EntryStatus.ALREADY_RECEIVED),
        EntryResult(entry_id=twice.entry_id, status=EntryStatus.DUPLICATE, duplicate_of="first"),
        EntryResult(entry_id=twice.entry_id, status=EntryStatus.ACCEPTED),  # a repeat: ignored
    ])
    kept, retried, dup = (store.get_entry(e.entry_id) for e in (judged, fresh, twice))
    assert (kept.status, kept.reason_code) == ("rejected", 102) and kept.acknowledged_at
    assert retried.status == "already_received" and retried.acknowledged_at
    assert (dup.status, dup.duplicate_of) == ("duplicate", "first")
    assert store.pending_count() == 0 and store.next_batch() is None  # the batch closed


def test_purge_keeps_pending_and_recent(tmp_path):
    clock = FakeClock()
    store = new_store(tmp_path, clock=clock)
    old = [store.save_entry(make_entry(n), [key_for(f"old{n}")]) for n in (1, 2, 3)]
    batch = store.next_batch()
    store.apply_batch_results(batch.batch_id, _answer(old[:2]))  # old[2] stays unanswered
    clock.advance(8 * 86400)
    recent = store.save_entry(make_entry(4), [key_for("recent")])
    b2 = store.next_batch()
    assert b2.batch_id == batch.batch_id  # old[2] still waits
    store.apply_batch_results(batch.batch_id, _answer([old[2]]))
    b3 = store.next_batch()
    store.apply_batch_results(b3.batch_id, _answer([recent]))
    never = store.save_entry(make_entry(5))  # pending, never sent

    purged = store.purge_acknowledged(timedelta(days=7))
    assert purged == 2  # old[0] and old[1]; old[2] was answered just now
    ids = {s.entry.entry_id for s in store.entries()}
    assert ids == {old[2].entry_id, recent.entry_id, never.entry_id}
    with pytest.raises(NotFound):
        store.get_entry(old[0].entry_id)
    assert store.find_local_match([key_for("old1")]) is None  # keys went with the entries
    assert store.find_local_match([key_for("recent")]) == recent.entry_id
    assert store.pending_count() == 1

    # Far in the future everything answered goes; the pending one never does.
    assert store.purge_acknowledged(timedelta(days=7), now=clock_dt(clock, days=30)) == 2
    assert [s.entry.entry_id for s in store.entries()] == [never.entry_id]
    assert store.pending_count() == 1
    # device_seq keeps counting after a purge, and purged lines are not handed out again.
    assert store.last_device_seq() == 5
    assert store.next_line("A-0001") == 6
    raw = sqlite3.connect(store.path)
    assert raw.execute("SELECT count(*) FROM local_keys").fetchone()[0] == 0


def test_purge_never_touches_a_batch_awaiting_answers(tmp_path):
    clock = FakeClock()
    store = new_store(tmp_path, clock=clock)
    a, b = save_lines(store, 2)
    batch = store.next_batch()
    store.apply_batch_results(batch.batch_id, _answer([a]))  # b still waits
    clock.advance(30 * 86400)
    assert store.purge_acknowledged(timedelta(days=7)) == 0
    assert store.next_batch().entries == [a, b]  # the resend is still whole


def clock_dt(clock, *, days):
    return epoch_to_datetime(clock() + days * 86400)
