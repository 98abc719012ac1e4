"""Time-ordered identifiers (UUID version 7, RFC 9562) for entries and batches."""

from __future__ import annotations

import os
import time
import uuid


def new_uuid7() -> str:
    """A UUIDv7 string: 48-bit Unix milliseconds, version 7, variant 10, 74 random bits."""
    millis = time.time_ns() // 1_000_000
    rand_a = int.from_bytes(os.urandom(2), "big") & 0x0FFF  # 12 bits
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)  # 62 bits
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= rand_a << 64
    value |= 0b10 << 62
    value |= rand_b
    return str(uuid.UUID(int=value))


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except (ValueError, TypeError, AttributeError):
        return False
    return True
