"""Field-level encryption shared by the device store and the server database.

Each personal field is sealed on its own with AES-256-GCM under a data key, with a fresh
96-bit nonce, and with associated data naming the record and the field. A ciphertext copied
to another row or another column therefore fails to open, loudly, instead of showing the
wrong person's data.

Blob layout (bytes): version (1) | key id (1) | nonce (12) | ciphertext+tag. The key id lets a
store hold values sealed under an old key while a rotation is under way.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

BLOB_VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12
_HEADER = 2


class CryptoError(Exception):
    """Base of every error this module raises."""


class TamperedData(CryptoError):
    """A ciphertext failed authentication: altered, truncated, or moved to another place."""


class UnknownKey(CryptoError):
    """A ciphertext names a key id this cipher does not hold."""


def new_key() -> bytes:
    return os.urandom(KEY_BYTES)


def _aad(record_id: str, field: str) -> bytes:
    # Length-prefixed so ("ab", "c") and ("a", "bc") can never produce the same bytes.
    r, f = record_id.encode(), field.encode()
    return len(r).to_bytes(2, "big") + r + len(f).to_bytes(2, "big") + f


class FieldCipher:
    """Seals and opens single field values bound to (record_id, field).

    ``keys`` maps key id (0-255) to a 32-byte key; ``current`` is the id new values use.
    """

    def __init__(self, key: bytes | None = None, *, keys: dict[int, bytes] | None = None,
                 current: int = 1) -> None:
        if keys is None:
            if key is None:
                raise ValueError("give a key or a keys mapping")
            keys = {current: key}
        for kid, k in keys.items():
            if not 0 <= kid <= 255 or len(k) != KEY_BYTES:
                raise ValueError("keys must be 32 bytes with ids 0-255")
        if current not in keys:
            raise ValueError("current key id missing from keys")
        self._aead = {kid: AESGCM(k) for kid, k in keys.items()}
        self.current = current

    def encrypt(self, plaintext: str, *, record_id: str, field: str) -> bytes:
        return self.encrypt_bytes(plaintext.encode("utf-8"), record_id=record_id, field=field)

    def encrypt_bytes(self, plaintext: bytes, *, record_id: str, field: str) -> bytes:
        """``encrypt`` for binary content (the door-step filter: no base64 inflation)."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead[self.current].encrypt(nonce, plaintext, _aad(record_id, field))
        return bytes((BLOB_VERSION, self.current)) + nonce + sealed

    def decrypt(self, blob: bytes, *, record_id: str, field: str) -> str:
        return self.decrypt_bytes(blob, record_id=record_id, field=field).decode("utf-8")

    def decrypt_bytes(self, blob: bytes, *, record_id: str, field: str) -> bytes:
        if not isinstance(blob, (bytes, bytearray, memoryview)) or len(blob) < _HEADER + NONCE_BYTES + 16:
            raise TamperedData(f"ciphertext for field {field!r} is truncated or missing")
        blob = bytes(blob)
        if blob[0] != BLOB_VERSION:
            raise TamperedData(f"ciphertext for field {field!r} has an unknown format")
        aead = self._aead.get(blob[1])
        if aead is None:
            raise UnknownKey(f"ciphertext for field {field!r} uses key id {blob[1]}, not held")
        nonce = blob[_HEADER:_HEADER + NONCE_BYTES]
        try:
            return aead.decrypt(nonce, blob[_HEADER + NONCE_BYTES:], _aad(record_id, field))
        except InvalidTag:
            raise TamperedData(
                f"ciphertext for field {field!r} failed authentication (altered or moved)"
            ) from None

    @staticmethod
    def key_id_of(blob: bytes) -> int:
        return bytes(blob)[1]


def wrap_key(wrapping_key: bytes, data_key: bytes, *, label: str) -> bytes:
    """Seal a data key under a key-encryption key (AES-GCM, label as associated data)."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(wrapping_key).encrypt(nonce, data_key, label.encode())


def unwrap_key(wrapping_key: bytes, wrapped: bytes, *, label: str) -> bytes:
    """Open a wrapped data key. Raises TamperedData when the wrapping key is wrong."""
    try:
        return AESGCM(wrapping_key).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], label.encode())
    except InvalidTag:
        raise TamperedData("wrapped key did not open") from None
