"""Conversion between SignerEntry and rows of the entries table, sealing personal fields.

Each personal field is its own AES-256-GCM ciphertext bound to (entry_id, field name), so a
blob copied to another row or column fails to open with TamperedData instead of showing the
wrong signer's data. Everything else is clear metadata the store queries on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sync.crypto import FieldCipher
from sync.domain import PERSONAL_FIELDS, SignerEntry, as_utc

_HEX_KEY = re.compile(r"[0-9a-fA-F]{2,128}")


def iso(moment: datetime) -> str:
    """Fixed-width UTC text, so SQL string comparison orders by time."""
    return as_utc(moment).isoformat(timespec="microseconds")


def parse_iso(text: str | None) -> datetime | None:
    if text is None:
        return None
    return as_utc(datetime.fromisoformat(text))


def epoch_to_datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def seal_entry(cipher: FieldCipher, entry: SignerEntry) -> dict[str, bytes]:
    return {name: cipher.encrypt(getattr(entry, name), record_id=entry.entry_id, field=name)
            for name in PERSONAL_FIELDS}


def open_entry(cipher: FieldCipher, row: Mapping[str, Any]) -> SignerEntry:
    entry_id = row["entry_id"]
    personal = {name: cipher.decrypt(row[name], record_id=entry_id, field=name)
                for name in PERSONAL_FIELDS}
    return SignerEntry(
        entry_id=entry_id, device_id=row["device_id"], device_seq=row["device_seq"],
        section=row["section"], line=row["line"], captured_at=parse_iso(row["captured_at"]),
        supersedes=row["supersedes"], **personal,
    )


def key_blob(key: str) -> bytes:
    """A matching key (hex string from sync.matching) as compact bytes: 32 hex chars -> 16 bytes."""
    if not isinstance(key, str) or len(key) % 2 or not _HEX_KEY.fullmatch(key):
        raise ValueError("matching keys must be even-length hex strings")
    return bytes.fromhex(key)


def key_blobs(keys: Iterable[str]) -> list[bytes]:
    """Distinct keys as bytes, sorted (a b-tree takes sorted inserts fastest). Refuses the
    whole list, with key_blob's ValueError, if any key is not what key_blob accepts."""
    return sorted({key_blob(k) for k in keys})
