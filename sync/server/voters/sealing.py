"""How a voter record is sealed: its fields as one JSON value under one AES-GCM seal (record id
``voter:<file>:<row>``, field ``voter``). The import seals with this, the matcher opens with
it, and data-key rotation (sync.server.rotation) re-seals under the same names."""

from __future__ import annotations

import json
from collections.abc import Mapping

from sync.crypto import FieldCipher

VOTER_FIELD = "voter"
_SEALED = ("voter_id", "first_name", "middle_name", "last_name", "suffix", "street", "unit", "city", "zip")


def _record_id(file_id: int, row: int) -> str:
    return f"voter:{file_id}:{row}"


def seal_voter(cipher: FieldCipher, file_id: int, row: int, fields: Mapping[str, str]) -> bytes:
    data = {k: fields[k] for k in _SEALED if fields.get(k)}
    return cipher.encrypt(json.dumps(data, separators=(",", ":"), ensure_ascii=False),
                          record_id=_record_id(file_id, row), field=VOTER_FIELD)


def open_voter(cipher: FieldCipher, file_id: int, row: int, blob: bytes) -> dict[str, str]:
    return json.loads(cipher.decrypt(blob, record_id=_record_id(file_id, row), field=VOTER_FIELD))


def voter_record_id(file_id: int, row: int) -> tuple[str, str]:
    """(record id, field) a voter record is sealed under (rotation.py re-seals with these)."""
    return _record_id(file_id, row), VOTER_FIELD
