"""Bearer tokens, enrollment codes and passwords: generation and the hashes we store.

Tokens carry 256 random bits, so a plain SHA-256 is a safe stored form. Enrollment codes are
short enough to type (10 characters, ~50 bits), so they are stored as an HMAC under a key
derived from the server key: a stolen database alone cannot be brute-forced for live codes.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# No 0/O, 1/I/L: read aloud or copied from a screen without ambiguity.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10

_hasher = PasswordHasher()  # Argon2id with the library's current defaults


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so both paths cost one Argon2
    verification. Made on first use: hashing at import would slow every process start."""
    return _hasher.hash(secrets.token_urlsafe(16))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_enroll_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch not in " -")


def code_hash(code_key: bytes, code: str) -> str:
    return hmac.new(code_key, normalize_code(code).encode("utf-8"), hashlib.sha256).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
