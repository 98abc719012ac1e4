"""No personal field ever reaches the disk in clear: not the database file, not its WAL, not
a rollback journal, neither while the store is open nor after it is closed."""

from __future__ import annotations

from pathlib import Path

from helpers_store import SERIAL, key_for, new_store

from sync.domain import SignerEntry

SIGNERS = [
    dict(first_name="Zebulon", middle_name="Quixote", last_name="Marchbanks", suffix="III",
         street="4821 Wisteria Lane", unit="Apt 7Q", city="Pasadena", zip="91101",
         phone="626-555-0199", email="zebulon.marchbanks@example.org", notes="Prefers mornings"),
    dict(first_name="Philippa", last_name="Oyelaran-Thistlewood", street="77 Quetzal Terrace",
         city="Glendale", zip="91203", phone="818-555-0143", email="pippa.thistle@example.net",
         notes="Gate code asked"),
    dict(first_name="José", last_name="Ñúñez-Bórquez", street="12 Calle Cañón", city="Whittier",
         zip="90601", email="jose.nunez@example.com"),
]
# Strings long enough that a random ciphertext will not contain them by chance.
SECRET_STRINGS = [
    value for signer in SIGNERS for name, value in signer.items()
    if name not in ("zip", "suffix", "city") and len(value) >= 6
] + ["Pasadena", "Glendale", "Whittier", "device-token-7f3a9c2b"]


def _files(db: Path) -> list[Path]:
    return [p for p in (db, Path(f"{db}-wal"), Path(f"{db}-journal"), Path(f"{db}-shm"))
            if p.exists()]


def _assert_clean(db: Path) -> int:
    checked = 0
    # Positive control: clear metadata (the circulator's name) is found by this very scan, so
    # a miss below means "not there", not "not looked at properly".
    assert any(b"Circulator One" in p.read_bytes() for p in _files(db))
    for path in _files(db):
        raw = path.read_bytes()
        lower = raw.lower()
        for text in SECRET_STRINGS:
            assert text.encode("utf-8") not in raw, f"{text!r} in clear in {path.name}"
            assert text.lower().encode("utf-8") not in lower, f"{text!r} (any case) in {path.name}"
        checked += 1
    return checked


def test_personal_fields_never_on_disk_in_clear(tmp_path):
    store = new_store(tmp_path)
    db = store.path
    saved = []
    for i, signer in enumerate(SIGNERS, start=1):
        saved.append(store.save_entry(SignerEntry(section=SERIAL, line=i, **signer),
                                      [key_for(signer["last_name"])]))
    # A correction and a secret go through the same sealing.
    store.save_entry(saved[0].correction(notes="Prefers mornings, corrected"))
    store.set_secret("device_token", "device-token-7f3a9c2b")

    # While open: the WAL holds the fresh pages.
    assert Path(f"{db}-wal").exists()
    assert _assert_clean(db) >= 2

    # The data really is there (the test would pass vacuously if nothing was written).
    assert store.get_entry(saved[1].entry_id).entry.last_name == "Oyelaran-Thistlewood"
    assert store.get_secret("device_token") == "device-token-7f3a9c2b"

    store.close()
    assert _assert_clean(db) >= 1
    assert db.stat().st_size > 0
