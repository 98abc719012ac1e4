"""Registration check, pure parts: column mappings, the streaming reader, registration keys,
the compact index (membership, false-positive rate, file format, deltas) and the matcher
against a generated voter file's ground truth (in memory)."""

from __future__ import annotations

import os
import random
from collections import Counter

import pytest

from sync.matching import matching_keys
from sync.voters.columns import ColumnMapping, MappingError, parse_map
from sync.voters.keys import probe_keys, registration_subkey, voter_keys
from sync.voters.matcher import MemoryVoterSource, match_entry
from sync.voters.reader import ReadStats, read_voter_file
from sync.voters.regindex import (
    IndexFormatError,
    RegistrationIndex,
    apply_delta,
    build_index,
    diff,
    pack_fingerprints,
    unpack_fingerprints,
)
from sync.voters.synthetic import write_voter_file

KEY = bytes(range(32))
REG = registration_subkey(KEY)


# ------------------------------------------------------------------ columns and reader
def test_parse_map_joins_columns_and_refuses_unknown_fields():
    assert parse_map(["first_name=FNAME, street=NO+ STREET", "zip=ZIP5"]) == {
        "first_name": ("FNAME",), "street": ("NO", "STREET"), "zip": ("ZIP5",)}
    with pytest.raises(MappingError):
        parse_map("birthday=DOB")
    with pytest.raises(MappingError):
        parse_map("first_name")
    with pytest.raises(MappingError):
        ColumnMapping.build(None, "first_name=F")  # no last name, street, zip


def test_county_preset_composes_street_and_unit(tmp_path):
    path = tmp_path / "v.tsv"
    path.write_text("RegistrantID\tLastName\tFirstName\tHouseNumber\tHouseFraction\tStreetDirPrefix\t"
                    "StreetName\tStreetType\tUnitType\tUnitNumber\tCity\tZip\tStatus\n"
                    "1\tGARCIA\tMARIA\t123\t1/2\tN\tMAIN\tST\tAPT\t4B\tLOS ANGELES\t90012-1234\tA\n"
                    "2\tLEE\t\t5\t\t\tOAK\tAVE\t\t\tPASADENA\t91101\tA\n"
                    "3\tKIM\tMIN\t7\t\t\tELM\tST\t\t\tPASADENA\t91101\tC\n", encoding="utf-8")
    stats = ReadStats()
    calls = []
    rows = list(read_voter_file(path, ColumnMapping.build(), stats=stats, progress_every=1,
                                progress=lambda r, d, t: calls.append((r, d, t))))
    assert [r.fields["street"] for r in rows] == ["123 1/2 N MAIN ST"]
    assert rows[0].fields["unit"] == "APT 4B" and rows[0].fields["zip"] == "90012-1234"
    assert rows[0].fields["middle_name"] == ""  # preset column absent from the file: empty
    assert stats.rows_read == 3 and stats.rows_kept == 1
    assert stats.skipped == Counter({"missing_name": 1, "cancelled": 1})
    assert calls[-1][0] == 3 and calls[-1][1] == calls[-1][2] == path.stat().st_size


def test_map_override_must_name_an_existing_column(tmp_path):
    path = tmp_path / "v.csv"
    path.write_text("first,last,addr,zip\nAna,Ruiz,1 Main St,90012\n")
    mapping = ColumnMapping.build(None, "first_name=first,last_name=last,street=addr,zip=zip")
    assert [r.fields["first_name"] for r in read_voter_file(path, mapping)] == ["Ana"]
    bad = ColumnMapping.build(None, "first_name=first,last_name=surname,street=addr,zip=zip")
    with pytest.raises(MappingError, match="surname"):
        list(read_voter_file(path, bad))


# ------------------------------------------------------------------ keys
def test_probe_keys_survive_the_usual_differences():
    voter = {"first_name": "ROBERT", "middle_name": "JAMES", "last_name": "GARCIA LOPEZ",
             "street": "123 N MAIN ST", "unit": "APT 4", "city": "LOS ANGELES", "zip": "90012-1111"}
    vk = voter_keys(REG, voter)
    line = {"first_name": "Bob", "last_name": "García", "street": "123 North Main Street",
            "unit": "", "city": "Los Angeles", "zip": "90012"}
    assert set(probe_keys(REG, line).address) & set(vk.address)
    swapped = dict(line, first_name="Garcia Lopez", last_name="Robert")
    assert set(probe_keys(REG, swapped).address) & set(vk.address)
    moved = dict(line, street="9 Elm St", zip="91101")
    pk = probe_keys(REG, moved)
    assert not set(pk.address) & set(vk.address) and set(pk.person) & set(vk.person)
    other = dict(line, first_name="Roberta")
    assert not set(probe_keys(REG, other).all()) & set(vk.all())


def test_registration_keys_never_equal_dedup_keys():
    fields = {"first_name": "Ana", "last_name": "Ruiz", "street": "1 Main St", "zip": "90012"}
    reg = {k.hex() for k in voter_keys(REG, fields).all()}
    assert reg and not reg & set(matching_keys(KEY, fields))
    assert voter_keys(registration_subkey(bytes(32)), fields).all() != voter_keys(REG, fields).all()


# ------------------------------------------------------------------ index
def _random_keys(n: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(16) for _ in range(n)]


def test_index_contains_all_and_false_positives_near_stated_rate():
    keys = _random_keys(60_000, 1)
    index = build_index(keys, version=3)
    assert all(index.contains(k) for k in keys)
    absent = _random_keys(200_000, 2)
    hits = sum(index.contains(k) for k in absent)
    rate = index.false_positive_rate
    assert 1 / 8000 < rate < 1 / 2000
    # 200k probes at ~1/4096: expect ~50; a generous band still fails a broken index.
    assert hits <= 3 * rate * len(absent) + 10
    assert index.nbytes < 2.5 * len(keys) + 4 * (len(index.offsets)) + 64


def test_index_file_round_trip_and_refuses_damage(tmp_path):
    index = build_index(_random_keys(5000, 3), version=7)
    path = tmp_path / "x.regindex"
    index.write(path)
    again = RegistrationIndex.read(path)
    assert again.version == 7 and len(again) == len(index)
    assert list(again.fingerprints()) == list(index.fingerprints())
    data = path.read_bytes()
    with pytest.raises(IndexFormatError):
        RegistrationIndex.from_bytes(data[:-2])
    with pytest.raises(IndexFormatError):
        RegistrationIndex.from_bytes(b"XXXX" + data[4:])


def test_delta_turns_old_into_new_with_set_semantics():
    keys = _random_keys(20_000, 4)
    old = build_index(keys, version=1, bucket_bits=10)
    new_keys = keys[2000:] + _random_keys(3000, 5)
    new = build_index(new_keys, version=2, bucket_bits=10)
    delta = diff(old, new)
    assert 0 < len(delta.added) <= 3000 and 0 < len(delta.removed) <= 2000
    wire = unpack_fingerprints(pack_fingerprints(delta.added))
    assert wire == delta.added
    applied = apply_delta(old, delta)
    assert applied.version == 2
    assert applied.to_bytes() == new.to_bytes()
    with pytest.raises(IndexFormatError):
        apply_delta(new, delta)  # wrong starting version


# ------------------------------------------------------------------ matcher vs truth (in memory)
@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("voters") / "county.csv"
    return write_voter_file(path, 12_000, seed=11, n_entries=3000)


def test_matcher_and_device_answers_against_truth(small_file):
    source = MemoryVoterSource(KEY)
    for row in read_voter_file(small_file.path, ColumnMapping.build()):
        source.add(row.line, row.fields)
    assert len(source.voters) == small_file.rows
    index = build_index(source.registration_keys())
    truths = Counter(e.truth for e in small_file.entries)
    assert min(truths.values()) > 50  # all three answers are exercised
    faults = Counter(f for e in small_file.entries for f in e.faults)
    assert {"nickname", "no_unit", "zip4", "typo", "swapped", "caps"} <= set(faults)
    server_wrong, device_wrong = [], []
    for e in small_file.entries:
        got = match_entry(KEY, e.fields, source, reg_key=REG).match.value
        if got != e.truth:
            server_wrong.append((e.truth, got, e.faults))
        probes = probe_keys(REG, e.fields)
        device = ("registered_here" if index.contains_any(probes.address) else
                  "registered_elsewhere" if index.contains_any(probes.person) else "not_found")
        if device != e.truth and "typo" not in e.faults:
            device_wrong.append((e.truth, device, e.faults))
    assert server_wrong == []
    # The device checks exact keys (typos excluded above); besides false positives of the
    # compact index, a device miss needs a fault combination the keys do not cover.
    assert len(device_wrong) <= 0.01 * len(small_file.entries)


def test_generator_is_reproducible(tmp_path):
    a = write_voter_file(tmp_path / "a.csv", 500, seed=5, n_entries=100)
    b = write_voter_file(tmp_path / "b.csv", 500, seed=5, n_entries=100)
    assert a.path.read_bytes() == b.path.read_bytes()
    assert [e.fields for e in a.entries] == [e.fields for e in b.entries]
    assert os.path.getsize(a.path) > 500 * 50
