"""The synthetic drive generator: reproducible, realistic shape, ground truth consistent."""

from __future__ import annotations

from sync.domain import PAPER_FIELDS, SignerEntry
from sync.jurisdiction import load_jurisdiction
from sync.synthetic import generate_drive
from sync.validation import validate_entry


def test_same_seed_same_drive_other_seed_other_drive():
    a, b = generate_drive(600, seed=7), generate_drive(600, seed=7)
    assert [e.fields for e in a.entries] == [e.fields for e in b.entries]
    c = generate_drive(600, seed=8)
    assert [e.fields for e in a.entries] != [e.fields for e in c.entries]


def test_duplicate_share_and_ground_truth():
    drive = generate_drive(2000, dup_rate=0.06, seed=3)
    assert len(drive.entries) == 2000
    assert drive.true_duplicates() == 120
    seen = set()
    for entry in drive.entries:
        assert entry.is_repeat == (entry.person_id in seen)
        seen.add(entry.person_id)
        assert set(entry.fields) == set(PAPER_FIELDS)
    assert [e.index for e in drive.entries] == list(range(2000))


def test_entries_are_valid_la_county_signers():
    jurisdiction = load_jurisdiction("los_angeles_county")
    drive = generate_drive(1500, seed=1)
    invalid = 0
    for entry in drive.entries:
        signer = SignerEntry(section="S-1", line=1, **entry.fields)
        invalid += bool(validate_entry(signer, jurisdiction=jurisdiction))
    assert invalid == 0


def test_households_and_hard_negatives_exist():
    drive = generate_drive(4000, seed=1)
    originals = [e for e in drive.entries if not e.is_repeat]
    by_address: dict[tuple, set[int]] = {}
    for e in originals:
        by_address.setdefault((e.fields["street"], e.fields["unit"], e.fields["zip"]), set()).add(e.person_id)
    assert sum(1 for people in by_address.values() if len(people) >= 2) > 200
    # Same full name at one address, two different people (father and son).
    same_name = {}
    pairs = 0
    for e in originals:
        key = (e.fields["first_name"], e.fields["last_name"], e.fields["street"], e.fields["zip"])
        if key in same_name and same_name[key] != e.person_id:
            pairs += 1
        same_name[key] = e.person_id
    assert pairs > 0


def test_repeats_carry_paper_errors():
    drive = generate_drive(4000, seed=1)
    errors = drive.stats["errors"]
    for kind in ("typo_first", "typo_last", "street_form", "zip4", "swap_names", "identical"):
        assert errors.get(kind, 0) > 0
    repeats = [e for e in drive.entries if e.is_repeat]
    assert sum(1 for e in repeats if e.errors) > len(repeats) // 2
