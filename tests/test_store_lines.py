"""Sections, line numbering and corrections (supersede): entries are immutable, a correction
is a new entry that keeps the corrected line and marks the old entry superseded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fake_clock import FakeClock
from helpers_store import SERIAL, make_entry, new_store, save_lines

from canvass.store import LineAlreadyUsed, NotFound, SectionClosed, StoreError, UnknownSection
from canvass.store.codec import epoch_to_datetime


def test_sections_open_list_close(tmp_path):
    store = new_store(tmp_path, section=None)
    assert store.list_sections() == [] and store.get_section("S-1") is None
    opened = store.open_section("S-1", "Dana Circulator")
    assert opened.is_open and opened.next_line == 1
    assert store.open_section("S-1", "Dana Circulator").serial == "S-1"  # idempotent while open
    store.open_section("S-2", "Dana Circulator")
    assert [s.serial for s in store.list_sections()] == ["S-1", "S-2"]
    save_lines(store, 3, section="S-1")
    closed = store.close_section("S-1", dates_gathered="2026-03-01..2026-03-04", place_signed="Pasadena")
    assert not closed.is_open and closed.lines_used == 3
    assert closed.dates_gathered == "2026-03-01..2026-03-04" and closed.place_signed == "Pasadena"
    with pytest.raises(SectionClosed):
        store.open_section("S-1", "Dana Circulator")
    with pytest.raises(SectionClosed):
        store.close_section("S-1", dates_gathered="x", place_signed="y")
    with pytest.raises(UnknownSection):
        store.close_section("nope", dates_gathered="x", place_signed="y")


def test_next_line_counts_live_lines(tmp_path):
    store = new_store(tmp_path)
    assert store.next_line(SERIAL) == 1
    saved = save_lines(store, 3)
    assert [e.line for e in saved] == [1, 2, 3]
    assert store.next_line(SERIAL) == 4
    store.save_entry(saved[2].correction(first_name="Fixed"))  # keeps line 3
    assert store.next_line(SERIAL) == 4
    assert store.get_section(SERIAL).lines_used == 3
    with pytest.raises(UnknownSection):
        store.next_line("missing")


def test_line_already_used(tmp_path):
    store = new_store(tmp_path)
    save_lines(store, 2)
    with pytest.raises(LineAlreadyUsed):
        store.save_entry(make_entry(2))
    # Refusal wrote nothing: no seq consumed, no outbox row.
    assert store.last_device_seq() == 2 and store.pending_count() == 2
    assert store.save_entry(make_entry(3)).device_seq == 3


def test_unknown_section_and_bad_line(tmp_path):
    store = new_store(tmp_path)
    with pytest.raises(UnknownSection):
        store.save_entry(make_entry(1, section="never-opened"))
    with pytest.raises(StoreError):
        store.save_entry(make_entry(0))
    assert store.count_entries() == 0


def test_correction_supersedes_and_keeps_both(tmp_path):
    store = new_store(tmp_path)
    (original,) = save_lines(store, 1)
    fixed = store.save_entry(original.correction(last_name="Corrected"))
    assert fixed.supersedes == original.entry_id and fixed.line == original.line
    old = store.get_entry(original.entry_id)
    assert old.superseded_by == fixed.entry_id
    assert old.entry == original  # immutable: personal fields untouched
    assert store.get_entry(fixed.entry_id).entry.last_name == "Corrected"
    assert store.count_entries() == 1
    assert store.count_entries(include_superseded=True) == 2
    assert store.pending_count() == 2  # both go to the server; it needs the chain
    # Only the newest version may be corrected.
    with pytest.raises(StoreError):
        store.save_entry(original.correction(last_name="Again"))
    again = store.save_entry(fixed.correction(last_name="Twice"))
    assert store.get_entry(fixed.entry_id).superseded_by == again.entry_id


def test_correction_of_unknown_entry(tmp_path):
    store = new_store(tmp_path)
    with pytest.raises(NotFound):
        store.save_entry(make_entry(1, supersedes="not-here"))


def test_correction_may_move_to_a_free_line_only(tmp_path):
    store = new_store(tmp_path)
    a, b = save_lines(store, 2)
    with pytest.raises(LineAlreadyUsed):
        store.save_entry(a.correction(line=b.line))
    moved = store.save_entry(a.correction(line=5))
    assert moved.line == 5 and store.next_line(SERIAL) == 6


def test_closed_section_takes_corrections_on_the_same_line_only(tmp_path):
    store = new_store(tmp_path)
    a, _ = save_lines(store, 2)
    store.close_section(SERIAL, dates_gathered="d", place_signed="p")
    with pytest.raises(SectionClosed):
        store.save_entry(make_entry(3))
    with pytest.raises(SectionClosed):
        store.save_entry(a.correction(line=7))
    fixed = store.save_entry(a.correction(first_name="Typo fixed"))
    assert fixed.line == a.line and store.get_entry(a.entry_id).superseded_by == fixed.entry_id


def test_entry_ids_cannot_be_saved_twice(tmp_path):
    store = new_store(tmp_path)
    (saved,) = save_lines(store, 1)
    with pytest.raises(StoreError):
        store.save_entry(saved.with_changes(line=2, first_name="Overwrite"))
    assert store.get_entry(saved.entry_id).entry.first_name == saved.first_name


def test_device_id_and_seq_assigned(tmp_path):
    store = new_store(tmp_path)
    first = store.save_entry(make_entry(1, device_seq=77, device_id="forged"))
    assert (first.device_seq, first.device_id) == (1, "")
    store.set_setting("device_id", "dev-42")
    second = store.save_entry(make_entry(2))
    assert (second.device_seq, second.device_id) == (2, "dev-42")
    assert store.get_entry(second.entry_id).entry == second


def test_entries_and_counts(tmp_path):
    clock = FakeClock()
    store = new_store(tmp_path, clock=clock)
    store.open_section("B-2", "Circulator One")
    start = epoch_to_datetime(clock())
    for n in (1, 2):
        store.save_entry(make_entry(n, captured_at=start))
    later = [store.save_entry(make_entry(n, section="B-2", captured_at=start + timedelta(hours=2)))
             for n in (1, 2, 3)]
    listed = store.entries()
    assert [s.entry.device_seq for s in listed] == [5, 4, 3, 2, 1]  # newest first
    assert [s.entry.entry_id for s in store.entries(section="B-2", limit=2)] == [
        later[2].entry_id, later[1].entry_id]
    assert store.count_entries(section=SERIAL) == 2
    assert store.count_entries(since=start + timedelta(hours=1)) == 3


def test_wire_shape_is_checked_at_save(tmp_path):
    store = new_store(tmp_path)
    with pytest.raises(StoreError) as info:
        store.save_entry(make_entry(1, notes="Secretnote " * 300))
    assert "Secretnote" not in str(info.value) and "notes" in str(info.value)
    assert store.pending_count() == 0
