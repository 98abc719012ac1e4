"""The intake's cheap pre-filters never change a decision: a pair they skip is one the full
scorer calls distinct (sync.scoring.address_conflict)."""

from __future__ import annotations

import itertools
import random

from sync.crypto import FieldCipher, new_key
from sync.normalize import house_number, normalize_street, normalized_record
from sync.scoring import DISTINCT, address_conflict, match_records, score_records
from sync.server import dedup
from sync.synthetic import generate_drive


def _pairs(n: int = 1500, seed: int = 11):
    drive = generate_drive(n, seed=seed)
    records = [normalized_record(e.fields) for e in drive.entries]
    rng = random.Random(seed)
    by_zip: dict[str, list] = {}
    for r in records:
        by_zip.setdefault(r.zip5, []).append(r)
    pairs = [(records[e.index], records[i]) for e in drive.entries if e.is_repeat
             for i in range(e.index) if drive.entries[i].person_id == e.person_id]
    for group in by_zip.values():  # neighbors, households, common surnames of one ZIP
        pairs += list(itertools.islice(itertools.combinations(group, 2), 400))
    pairs += [(rng.choice(records), rng.choice(records)) for _ in range(3000)]
    return pairs


def test_prefilter_skips_only_distinct_pairs():
    skipped = 0
    for ra, rb in _pairs():
        decision = score_records(ra, rb).decision
        if address_conflict(ra.house_number, ra.zip5, rb.house_number, rb.zip5):
            assert decision == DISTINCT
            skipped += 1
    assert skipped > 1000  # the filter does rule most pairs out


def test_match_records_is_score_records_without_the_distinct_pairs():
    seen = set()
    for ra, rb in _pairs():
        for a, b in ((ra, rb), (rb, ra)):
            full, quick = score_records(a, b), match_records(a, b)
            assert quick == (None if full.decision == DISTINCT else full)
            seen.add(full.decision)
    assert seen == {"duplicate", "possible_duplicate", "distinct"}


def test_prefilter_keeps_one_edit_slips():
    a = normalized_record({"first_name": "Ana", "last_name": "Diaz", "street": "1234 Main St",
                           "zip": "90012"})
    for street, zip_code in (("1243 Main St", "90012"), ("1234 Main St", "90021"),
                             ("134 Main St", "90012"), ("1234 Main St", "")):
        b = normalized_record({"first_name": "Ana", "last_name": "Diaz", "street": street,
                               "zip": zip_code})
        assert not address_conflict(a.house_number, a.zip5, b.house_number, b.zip5)
    far = normalized_record({"first_name": "Ana", "last_name": "Diaz", "street": "4321 Main St",
                             "zip": "90012"})
    assert address_conflict(a.house_number, a.zip5, far.house_number, far.zip5)


def test_candidate_cache_is_checked_against_the_stored_ciphertexts(tmp_path):
    from sqlalchemy import insert

    from sync.domain import utcnow
    from sync.server.caches import SharedCache
    from sync.server.db import Database
    from sync.server.migrate import upgrade_head
    from sync.server.models import Campaign, Device, Entry

    url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade_head(url)
    db = Database(url)
    cipher = FieldCipher(new_key())
    cache = SharedCache(10)
    now = utcnow()

    def store(entry_id: str, last: str, house: str) -> None:
        fields = {"first_name": "Ana", "last_name": last, "street": f"{house} Main St", "zip": "90012"}
        with db.write() as s:
            s.execute(insert(Entry).values(
                id=entry_id, campaign_id="c", device_id="d", device_seq=1, batch_id="b", section="S1",
                line=1, captured_at=now, fingerprint="f", received_at=now, status="accepted",
                counted=True,
                **{f"enc_{k}": cipher.encrypt(v, record_id=entry_id, field=k) for k, v in fields.items()}))

    try:
        with db.write() as s:
            s.add(Campaign(id="c", name="C", goal=1, deadline="2030-01-01", jurisdiction="los_angeles_county",
                           index_key_wrapped=b"x", created_at=now))
            s.flush()
            s.add(Device(id="d", campaign_id="c", circulator="x", name="x", token_hash="t", enrolled_at=now))
        store("e1", "Diaz", "12")
        with db.read() as s:
            first = dedup.candidates(s, cipher, ["e1"], cache)["e1"]
        assert (first.house, first.zip5, first.record(cipher).last) == ("12", "90012", "diaz")
        with db.write() as s:  # the same id with other sealed values: never the cached record
            s.query(Entry).delete()
        store("e1", "Ruiz", "34")
        with db.read() as s:
            again = dedup.candidates(s, cipher, ["e1"], cache)["e1"]
        assert again is not first
        assert (again.house, again.record(cipher).last) == ("34", "ruiz")
    finally:
        db.dispose()


def test_house_number_fast_path_equals_normalize_street():
    streets = [e.fields["street"] for e in generate_drive(3000, seed=5).entries]
    streets += ["0012 Main St", "12 1/2 Main St", "12A Main St", "12-B Main St", "12 B St",
                "12 N Main St", " 12 Main", "12  Main St", "0 Main St", "00 Main", "12 Main St #4",
                "12 Apt 4", "١٢ Main St", "12½ Main St", "12 ½ Main", "12. Main", "12 Main-St",
                "12 St. James Pl", "12 W 3 St", "12 #4 Main", "1600 W. Sunset Blvd., Apt #3"]
    for street in streets:
        assert house_number(street) == normalize_street(street).house_number, street
