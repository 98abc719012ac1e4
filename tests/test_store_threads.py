"""A UI thread saving entries and a sync thread forming and answering batches share one store:
no error, no lost entry, gap-free device_seq, and every entry ends up answered exactly once."""

from __future__ import annotations

import threading
import time

from helpers_store import SERIAL, make_entry, new_store

from sync.protocol import EntryResult, EntryStatus

SAVES = 120


def test_ui_and_sync_threads_share_the_store(tmp_path):
    store = new_store(tmp_path)
    errors: list[BaseException] = []
    answered: list[str] = []
    done_saving = threading.Event()
    lines = iter(range(1, SAVES + 1))

    def ui():
        try:
            for line in lines:
                store.save_entry(make_entry(line, section=SERIAL))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            done_saving.set()

    def sync():
        try:
            while True:
                finished = done_saving.is_set()  # read before the batch, so none is missed
                batch = store.next_batch(max_entries=7)
                if batch is None:
                    if finished:
                        return
                    time.sleep(0.001)  # yield to the UI thread instead of spinning
                    continue
                store.apply_batch_results(batch.batch_id, [
                    EntryResult(entry_id=e.entry_id, status=EntryStatus.ACCEPTED)
                    for e in batch.entries])
                answered.extend(e.entry_id for e in batch.entries)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ui), threading.Thread(target=sync)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.pending_count() == 0
    stored = store.entries()
    assert len(stored) == SAVES
    assert sorted(s.entry.device_seq for s in stored) == list(range(1, SAVES + 1))
    assert sorted(answered) == sorted(s.entry.entry_id for s in stored)  # each exactly once
    assert {s.status for s in stored} == {"accepted"}
