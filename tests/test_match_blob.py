"""The match blob (sync.server.match_blob): an entry's normalized record sealed at intake,
read by the fuzzy matcher instead of decrypting and normalizing the fields. It must give
exactly the record the fields give, and never a record another normalizer made."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from sync.crypto import FieldCipher, TamperedData, new_key
from sync.domain import utcnow
from sync.normalize import normalized_record
from sync.server import dedup, match_blob
from sync.server.caches import SharedCache
from sync.server.db import Database
from sync.server.match_blob import open_match, seal_match
from sync.server.migrate import upgrade_head
from sync.server.models import Campaign, Device, Entry
from sync.synthetic import generate_drive

SCORED = dedup.SCORED_FIELDS
OLD_DIGEST = "3f9c2a7e41d0b8a5"  # blobs before NORMALIZER_VERSION held a digest of the sources


def _scored(fields: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in fields.items() if k in SCORED}


def test_the_blob_opens_to_the_record_the_fields_give():
    cipher = FieldCipher(new_key())
    for i, entry in enumerate(generate_drive(2000, seed=11).entries):
        record = normalized_record(entry.fields)
        opened = open_match(cipher, f"e{i}", seal_match(cipher, f"e{i}", record))
        assert opened == normalized_record(_scored(entry.fields))


def test_a_blob_is_bound_to_its_entry():
    cipher = FieldCipher(new_key())
    blob = seal_match(cipher, "e1", normalized_record({"first_name": "Ana", "last_name": "Diaz"}))
    with pytest.raises(TamperedData):
        open_match(cipher, "e2", blob)


def test_a_blob_of_another_normalizer_is_not_used(monkeypatch):
    cipher = FieldCipher(new_key())
    record = normalized_record({"first_name": "Ana", "last_name": "Diaz", "street": "12 Main St"})
    for older in (match_blob.NORMALIZER - 1, OLD_DIGEST):  # a version before, a source digest
        monkeypatch.setattr(match_blob, "NORMALIZER", older)
        old = seal_match(cipher, "e1", record)
        monkeypatch.undo()
        assert open_match(cipher, "e1", old) is None
        assert not match_blob.is_current(cipher, "e1", old)
    current = seal_match(cipher, "e1", record)
    assert open_match(cipher, "e1", current) == record and match_blob.is_current(cipher, "e1", current)


def test_candidates_read_from_blobs_equal_candidates_read_from_fields(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade_head(url)
    db = Database(url)
    cipher = FieldCipher(new_key())
    now = utcnow()
    drive = generate_drive(400, seed=12).entries
    try:
        with db.write() as s:
            s.add(Campaign(id="c", name="C", goal=1, deadline="2030-01-01",
                           jurisdiction="los_angeles_county", index_key_wrapped=b"x", created_at=now))
            s.flush()
            s.add(Device(id="d", campaign_id="c", circulator="x", name="x", token_hash="t", enrolled_at=now))
        with db.write() as s:
            for i, entry in enumerate(drive):
                kind = ("blob", "fields", "stale")[i % 3]
                values = {f"enc_{k}": cipher.encrypt(v, record_id=f"b{i}", field=k)
                          for k, v in entry.fields.items() if v}
                if kind == "blob":
                    values["enc_match"] = seal_match(cipher, f"b{i}", normalized_record(entry.fields))
                elif kind == "stale":
                    monkeypatch.setattr(match_blob, "NORMALIZER", OLD_DIGEST)
                    values["enc_match"] = seal_match(cipher, f"b{i}", normalized_record(entry.fields))
                    monkeypatch.undo()
                s.execute(insert(Entry).values(
                    id=f"b{i}", campaign_id="c", device_id="d", device_seq=i + 1, batch_id="b",
                    section="S1", line=i + 1, captured_at=now, fingerprint="f", received_at=now,
                    status="accepted", counted=True, **values))
        ids = [f"b{i}" for i in range(len(drive))]
        cache = SharedCache(1000)
        read = []
        for _ in range(2):  # a cold read, then one from the cache
            with db.read() as s:
                found = dedup.candidates(s, cipher, ids, cache)
            read.append(found)
            assert set(found) == set(ids)
            for i, entry in enumerate(drive):
                want = normalized_record(_scored(entry.fields))
                cand = found[f"b{i}"]
                assert cand.record(cipher) == want
                assert (cand.house, cand.zip5) == (want.house_number, want.zip5)
        assert all(read[1][i] is read[0][i] for i in ids)  # the second read was all hits
    finally:
        db.dispose()
