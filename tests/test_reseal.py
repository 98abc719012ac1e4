"""``canvass-server reseal`` (sync/server/reseal.py): match blobs an older normalizer sealed are
sealed again under NORMALIZER_VERSION, in batches, idempotently, one campaign or all; the
fuzzy matcher then reads them from the blob instead of from the fields (the slow path)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import insert, select

from sync.crypto import FieldCipher, new_key
from sync.domain import utcnow
from sync.normalize import NORMALIZER_VERSION, normalized_record
from sync.server import cli, dedup, match_blob
from sync.server.caches import SharedCache
from sync.server.db import Database
from sync.server.keys import load_keys
from sync.server.match_blob import seal_match
from sync.server.migrate import upgrade_head
from sync.server.models import Campaign, Device, Entry
from sync.server.reseal import reseal
from sync.server.rotation import data_cipher
from sync.synthetic import generate_drive

OLD_DIGEST = "3f9c2a7e41d0b8a5"  # what blobs held before NORMALIZER_VERSION: a source digest


def _store(db: Database, cipher, campaign: str, drive, kinds: tuple[str, ...]) -> dict[str, str]:
    """Entries of ``drive`` in ``campaign``, each sealed as its kind says; entry id -> kind."""
    now = utcnow()
    with db.write() as s:
        s.add(Campaign(id=campaign, name=campaign, goal=1, deadline="2030-01-01",
                       jurisdiction="los_angeles_county", index_key_wrapped=b"x", created_at=now))
        s.flush()
        s.add(Device(id=f"d-{campaign}", campaign_id=campaign, circulator="x", name="x", token_hash=campaign,
                     enrolled_at=now))
    made = {}
    with db.write() as s:
        for i, entry in enumerate(drive):
            entry_id, kind = f"{campaign}-{i:04d}", kinds[i % len(kinds)]
            values = {f"enc_{k}": cipher.encrypt(v, record_id=entry_id, field=k)
                      for k, v in entry.fields.items() if v}
            older = {"stale": OLD_DIGEST, "previous": NORMALIZER_VERSION - 1}.get(kind)
            if kind != "none":
                if older is not None:
                    match_blob.NORMALIZER = older  # sealed by an older normalizer
                try:
                    values["enc_match"] = seal_match(cipher, entry_id, normalized_record(entry.fields))
                finally:
                    match_blob.NORMALIZER = NORMALIZER_VERSION
            s.execute(insert(Entry).values(
                id=entry_id, campaign_id=campaign, device_id=f"d-{campaign}", device_seq=i + 1, batch_id="b",
                section="S1", line=i + 1, captured_at=now, fingerprint="f", received_at=now,
                status="accepted", counted=True, **values))
            made[entry_id] = kind
    return made


def _slow_path(monkeypatch, db: Database, cipher, ids: list[str]) -> tuple[dict, set[str]]:
    """dedup.candidates of ``ids`` (no cache) and the ids it read from their fields."""
    from_fields: set[str] = set()
    real = dedup._from_fields

    def spy(session, cipher_, cache, entry_ids, out, fresh):
        from_fields.update(entry_ids)
        return real(session, cipher_, cache, entry_ids, out, fresh)

    monkeypatch.setattr(dedup, "_from_fields", spy)
    with db.read() as s:
        found = dedup.candidates(s, cipher, ids, SharedCache(0))
    monkeypatch.setattr(dedup, "_from_fields", real)
    return found, from_fields


def _blobs(db: Database) -> dict[str, bytes | None]:
    with db.read() as s:
        return dict(s.execute(select(Entry.id, Entry.enc_match)).all())


def test_stale_blobs_are_resealed_and_read_from_the_blob_again(db_url, monkeypatch):
    upgrade_head(db_url)
    db = Database(db_url)
    cipher = FieldCipher(new_key())
    drive = generate_drive(90, seed=31).entries
    try:
        a = _store(db, cipher, "ca", drive[:60], ("stale", "current", "previous", "none"))
        b = _store(db, cipher, "cb", drive[60:], ("stale",))
        ids = sorted(a | b)
        stale_a = {i for i, kind in a.items() if kind in ("stale", "previous")}
        _found, slow = _slow_path(monkeypatch, db, cipher, ids)
        assert slow == stale_a | {i for i, k in a.items() if k == "none"} | set(b)
        before = _blobs(db)

        seen = []
        report = reseal(db, cipher, campaign_id="ca", batch_size=7,
                        progress=lambda done, total, resealed: seen.append((done, total, resealed)))
        assert (report.examined, report.resealed) == (45, len(stale_a))
        assert seen[-1] == (45, 45, len(stale_a)) and len(seen) == 7  # batches of 7: 45 = 6 * 7 + 3
        assert [done for done, _t, _r in seen] == sorted(done for done, _t, _r in seen)
        after = _blobs(db)
        changed = {i for i in ids if after[i] != before[i]}
        assert changed == stale_a  # current blobs, entries without one, campaign cb: as they were
        assert after[next(i for i, k in a.items() if k == "none")] is None

        found, slow = _slow_path(monkeypatch, db, cipher, ids)
        assert slow == {i for i, k in a.items() if k == "none"} | set(b)  # ca's blobs all read
        for n, entry in enumerate(drive[:60]):
            want = normalized_record({k: v for k, v in entry.fields.items() if k in dedup.SCORED_FIELDS})
            assert found[f"ca-{n:04d}"].record(cipher) == want

        again = reseal(db, cipher, campaign_id="ca")
        assert (again.examined, again.resealed) == (45, 0) and _blobs(db) == after  # idempotent
        everything = reseal(db, cipher, batch_size=1000)
        assert (everything.examined, everything.resealed) == (75, len(b))
        assert _slow_path(monkeypatch, db, cipher, ids)[1] == {i for i, k in a.items() if k == "none"}
    finally:
        db.dispose()


def test_reseal_command_on_a_sqlite_file(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    assert cli.main(["init", "--db", url]) == 0
    db = Database(url)
    try:
        cipher = data_cipher(db, load_keys(url))  # the server's own data key (key file beside)
        made = _store(db, cipher, "c1", generate_drive(12, seed=5).entries, ("stale", "current"))
        capsys.readouterr()
        assert cli.main(["reseal", "--db", url, "--campaign", "c1", "--batch-size", "5", "--json"]) == 0
        out = capsys.readouterr()
        assert json.loads(out.out) == {"examined": 12, "resealed": 6,
                                       "normalizer_version": NORMALIZER_VERSION}
        assert out.err.splitlines() == [f"reseal: {n}/12 entries examined, {r} resealed"
                                        for n, r in ((5, 3), (10, 5), (12, 6))]
        with db.read() as s:
            assert all(match_blob.is_current(cipher, entry_id, blob)
                       for entry_id, blob in s.execute(select(Entry.id, Entry.enc_match)))
        assert cli.main(["reseal", "--db", url]) == 0
        assert capsys.readouterr().out.strip() == (
            f"12 match records examined, 0 resealed (normalizer version {NORMALIZER_VERSION})")
        assert cli.main(["reseal", "--db", url, "--campaign", "nope"]) == 2
        assert "unknown campaign" in capsys.readouterr().err
        assert len(made) == 12
    finally:
        db.dispose()


@pytest.mark.parametrize("size", [0, -3])
def test_a_batch_size_below_one_is_refused(tmp_path, capsys, size):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    assert cli.main(["init", "--db", url]) == 0
    assert cli.main(["reseal", "--db", url, "--batch-size", str(size)]) == 2
    assert "batch size" in capsys.readouterr().err
