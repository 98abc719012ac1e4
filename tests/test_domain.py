"""The signer-entry domain model: wire round-trip, corrections, content fingerprints, ids, sections."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from sync.domain import (
    PAPER_FIELDS,
    PERSONAL_FIELDS,
    REQUIRED_FIELDS,
    Section,
    SignerEntry,
    as_utc,
    content_digest,
    content_fingerprint,
)
from sync.ids import is_uuid, new_uuid7
from sync.protocol import MATCHED_FIELDS, EntryWire

PACIFIC = timezone(timedelta(hours=-7))
KEY = bytes(range(32))
ENTRY_ID = new_uuid7()  # fixed, so two full_entry() calls have equal content


def full_entry(**changes) -> SignerEntry:
    base = SignerEntry(
        section="LA-0042", line=7, first_name="Maria", middle_name="Luisa", last_name="Hernandez",
        suffix="Jr.", street="200 N Spring St", unit="Apt 4B", city="Los Angeles", zip="90012-3456",
        phone="(213) 555-0100", email="maria@example.com", notes="Prefers Spanish 👍",
        device_id="dev-1", device_seq=3, captured_at=datetime(2024, 3, 2, 10, 15, 0, 123456, tzinfo=PACIFIC),
        entry_id=ENTRY_ID, supersedes=None,
    )
    return dataclasses.replace(base, **changes)


def test_wire_round_trip_keeps_every_field():
    entry = full_entry()
    back = SignerEntry.from_wire(entry.to_wire(), device_id="dev-1")
    assert back == dataclasses.replace(entry, captured_at=entry.captured_at.astimezone(UTC))
    assert back.captured_at == entry.captured_at  # same instant
    assert back.captured_at.utcoffset() == timedelta(0)


def test_wire_round_trip_through_json():
    entry = full_entry(supersedes=new_uuid7())
    wire = EntryWire.model_validate_json(entry.to_wire().model_dump_json())
    assert SignerEntry.from_wire(wire, device_id="dev-1") == dataclasses.replace(
        entry, captured_at=as_utc(entry.captured_at))


def test_to_wire_drops_device_id_and_uses_utc():
    wire = full_entry().to_wire()
    assert "device_id" not in wire.model_dump()
    assert wire.captured_at.utcoffset() == timedelta(0)
    assert wire.captured_at == datetime(2024, 3, 2, 17, 15, 0, 123456, tzinfo=UTC)


def test_naive_captured_at_is_taken_as_utc():
    wire = full_entry(captured_at=datetime(2024, 3, 2, 17, 15)).to_wire()
    assert wire.captured_at == datetime(2024, 3, 2, 17, 15, tzinfo=UTC)


def test_correction_supersedes_with_new_id():
    original = full_entry()
    fixed = original.correction(last_name="Hernández")
    assert fixed.supersedes == original.entry_id
    assert fixed.entry_id != original.entry_id and is_uuid(fixed.entry_id)
    assert fixed.last_name == "Hernández" and original.last_name == "Hernandez"
    assert fixed.device_seq == 0  # the store assigns a new one
    assert (fixed.section, fixed.line, fixed.street) == (original.section, original.line, original.street)


def test_entries_are_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        full_entry().last_name = "X"  # type: ignore[misc]


def test_personal_covers_required_fields():
    personal = full_entry().personal()
    assert set(personal) == set(PERSONAL_FIELDS)
    assert set(REQUIRED_FIELDS) <= set(PERSONAL_FIELDS)


def test_the_one_field_list_is_the_wire_format_s():
    """PERSONAL_FIELDS is the list every other one takes its names from: it is the run of the
    signer's fields of protocol.EntryWire, in its order, and every one is an entry's field."""
    wire = list(EntryWire.model_fields)
    start = wire.index(PERSONAL_FIELDS[0])
    assert tuple(wire[start:start + len(PERSONAL_FIELDS)]) == PERSONAL_FIELDS
    assert wire[start - 1] == "line" and wire[start + len(PERSONAL_FIELDS)] == "captured_at"
    assert set(PERSONAL_FIELDS) <= {f.name for f in dataclasses.fields(SignerEntry)}
    # The office's keyed line (its own caps, for the API) names the same fields, in order.
    from sync.server.schemas import KeyedLine

    assert tuple(KeyedLine.model_fields) == ("section", "line", *PERSONAL_FIELDS)
    # The matcher's selection (protocol cannot import domain) is of the paper line's fields.
    assert set(MATCHED_FIELDS) < set(PAPER_FIELDS)


def test_fingerprint_equal_for_equal_content():
    a = full_entry()
    b = full_entry()
    assert content_fingerprint(a.to_wire(), KEY) == content_fingerprint(b.to_wire(), KEY)


def test_fingerprint_equal_for_same_instant_in_other_time_zone():
    moment = datetime(2024, 3, 2, 10, 15, 0, 123456, tzinfo=PACIFIC)
    in_utc = full_entry(captured_at=moment.astimezone(UTC))
    in_tokyo = full_entry(captured_at=moment.astimezone(timezone(timedelta(hours=9))))
    assert content_fingerprint(full_entry().to_wire(), KEY) == content_fingerprint(in_utc.to_wire(), KEY)
    # Built directly on the wire (not through to_wire), an aware non-UTC time still matches.
    wire = full_entry().to_wire().model_copy(update={"captured_at": in_tokyo.captured_at})
    assert content_fingerprint(wire, KEY) == content_fingerprint(in_utc.to_wire(), KEY)


WIRE_CHANGES = {
    "entry_id": new_uuid7(),
    "device_seq": 4,
    "section": "LA-0043",
    "line": 8,
    "first_name": "Mario",
    "middle_name": "Luis",
    "last_name": "Hernandes",
    "suffix": "Sr.",
    "street": "201 N Spring St",
    "unit": "Apt 4C",
    "city": "Long Beach",
    "zip": "90012-3457",
    "phone": "(213) 555-0101",
    "email": "maria2@example.com",
    "notes": "Prefers Spanish",
    "captured_at": datetime(2024, 3, 2, 10, 15, 0, 123457, tzinfo=PACIFIC),
    "supersedes": new_uuid7(),
}


def test_change_table_covers_every_wire_field():
    assert set(WIRE_CHANGES) == set(EntryWire.model_fields)


@pytest.mark.parametrize("name", sorted(WIRE_CHANGES))
def test_fingerprint_differs_for_any_changed_field(name):
    original = full_entry()
    changed = dataclasses.replace(original, **{name: WIRE_CHANGES[name]})
    assert content_fingerprint(changed.to_wire(), KEY) != content_fingerprint(original.to_wire(), KEY)


def test_fingerprint_ignores_device_id():
    # device_id is not on the wire; the server knows the device from its token.
    assert content_fingerprint(full_entry(device_id="a").to_wire(), KEY) == content_fingerprint(
        full_entry(device_id="b").to_wire(), KEY)


def test_fingerprint_is_keyed():
    # A stolen database holds every input of the fingerprint but the key: another key, another
    # value, and the plain SHA-256 of the content is never what is stored.
    wire = full_entry().to_wire()
    assert content_fingerprint(wire, KEY) != content_fingerprint(wire, b"k" * 32)
    assert content_digest(wire) not in (content_fingerprint(wire, KEY),
                                        content_fingerprint(wire, b"k" * 32))


def test_uuid7_version_and_variant():
    for _ in range(100):
        value = uuid.UUID(new_uuid7())
        assert value.version == 7
        assert value.variant == uuid.RFC_4122


def test_uuid7_embeds_clock_milliseconds(monkeypatch):
    import sync.ids as ids

    monkeypatch.setattr(ids.time, "time_ns", lambda: 1_709_400_000_123_456_789)
    value = uuid.UUID(ids.new_uuid7())
    assert value.int >> 80 == 1_709_400_000_123  # the top 48 bits are Unix milliseconds


def test_uuid7_sorts_by_time(monkeypatch):
    # Drive the clock instead of sleeping: ids made at later milliseconds sort later.
    import sync.ids as ids

    clock = iter(range(1_700_000_000_000_000_000, 1_700_000_100_000_000_000, 1_000_000))
    monkeypatch.setattr(ids.time, "time_ns", lambda: next(clock))
    made = [ids.new_uuid7() for _ in range(500)]
    assert sorted(made) == made
    assert len(set(made)) == len(made)


def test_is_uuid():
    assert is_uuid(new_uuid7())
    assert not is_uuid("not-a-uuid") and not is_uuid("") and not is_uuid(None)  # type: ignore[arg-type]


def test_section_next_line_and_open():
    section = Section(serial="LA-0042", circulator="circ-1")
    assert section.next_line == 1 and section.is_open
    section.lines_used = 12
    assert section.next_line == 13
    section.closed_at = datetime(2024, 3, 3, tzinfo=UTC)
    assert not section.is_open
