"""A compact, static set of keyed hashes for the device: a binary fuse filter (pure Python).

The offline door-step check (issue 15) holds the door-step keys of the signers in the
device's scope (sync.matching.doorstep_keys) in one of these instead of 16-byte keys in
SQLite rows. It answers "is this key in the set?" with no false negatives and a false
positive rate of about **2**-16 = 1/65,536 per probed key** (16-bit fingerprints), in about
**18 bits per key** for large sets (the 3-wise binary fuse layout of Graf and Lemire, "Binary
Fuse Filters: Fast and Smaller Than Xor Filters", 2022: 1.125 slots a key from 1 M keys up,
somewhat more for small sets). A signer has 6 or 7 keys, 6.3 on the generated drives.

It cannot list its keys (a slot holds an XOR of fingerprints), and a key is an HMAC under the
door-step key: the blob alone tells nothing; with the key, its holder can test a guessed name
(the bounded offline leak stated in SECURITY.md).

A lookup: h = mix64(first 8 bytes of the key + seed); three slots h0, h1, h2 in three
consecutive segments; the key is present when fp(h) == F[h0] ^ F[h1] ^ F[h2]. Building peels
the 3-hypergraph (slots hit by one remaining key are assigned last), retrying with another
seed, and a little more room after a few failures, when the peeling stalls.

Blob (little-endian)::

    magic b"CVKF" | format u8 (=1) | reserved u8 * 3 | seed u64 | segment_length u32 |
    segment_count_length u32 | key_count u32 | slot_count u32 | fingerprints u16 * slot_count
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable

from sync.voters.regindex import _from_le, _to_le

MAGIC = b"CVKF"
FORMAT = 1
FINGERPRINT_BITS = 16
_HEADER = 4 + 1 + 3 + 8 + 4 + 4 + 4 + 4
_M64 = (1 << 64) - 1
MAX_SLOTS = 1 << 30


class KeyFilterError(ValueError):
    """A serialized filter is malformed, or a filter could not be built."""


def _mix(x: int) -> int:
    """MurmurHash3's 64-bit finalizer: the seed must change every slot on a retry."""
    x ^= x >> 33
    x = (x * 0xFF51AFD7ED558CCD) & _M64
    x ^= x >> 33
    x = (x * 0xC4CEB9FE1A85EC53) & _M64
    return x ^ (x >> 33)


def _as_bytes(key: bytes | str) -> bytes:
    return bytes.fromhex(key) if isinstance(key, str) else key


def _layout(size: int, room: float = 1.0) -> tuple[int, int, int]:
    """(segment_length, segment_count_length, slot_count) for ``size`` keys (arity 3)."""
    size = max(size, 2)
    segment_length = min(1 << int(math.floor(math.log(size) / math.log(3.33) + 2.25)), 1 << 18)
    factor = max(1.125, 0.875 + 0.25 * math.log(1_000_000) / math.log(size)) * room
    capacity = round(size * factor)
    segment_count = max((capacity + segment_length - 1) // segment_length - 2, 1)
    return segment_length, segment_count * segment_length, (segment_count + 2) * segment_length


class KeyFilter:
    """An immutable filter; build it with ``KeyFilter.build(keys)``."""

    __slots__ = ("seed", "segment_length", "segment_count_length", "key_count", "slots", "_mask")

    def __init__(self, seed: int, segment_length: int, segment_count_length: int, key_count: int,
                 slots: array) -> None:
        if segment_length & (segment_length - 1) or segment_count_length % max(segment_length, 1):
            raise KeyFilterError("bad filter layout")
        if key_count and len(slots) != segment_count_length + 2 * segment_length:
            raise KeyFilterError("filter slots do not match its layout")
        self.seed = seed
        self.segment_length = segment_length
        self.segment_count_length = segment_count_length
        self.key_count = key_count
        self.slots = slots
        self._mask = segment_length - 1

    # ---------------------------------------------------------------- queries
    def _hash(self, key: bytes) -> int:
        return _mix((int.from_bytes(key[:8], "little") + self.seed) & _M64)

    def _positions(self, h: int) -> tuple[int, int, int]:
        h0 = (h * self.segment_count_length) >> 64
        h1 = (h0 + self.segment_length) ^ ((h >> 18) & self._mask)
        h2 = (h0 + 2 * self.segment_length) ^ (h & self._mask)
        return h0, h1, h2

    def __contains__(self, key: bytes | str) -> bool:
        if not self.key_count:
            return False
        h = self._hash(_as_bytes(key))
        h0, h1, h2 = self._positions(h)
        s = self.slots
        return (h ^ (h >> 32)) & 0xFFFF == s[h0] ^ s[h1] ^ s[h2]

    def hits(self, probes: dict[str, str]) -> set[str]:
        """The names (kinds) of the probed keys that are present."""
        return {name for name, key in probes.items() if key in self}

    def __len__(self) -> int:
        return self.key_count

    @property
    def false_positive_rate(self) -> float:
        """Probability that one probed key outside the set is reported present."""
        return 2.0 ** -FINGERPRINT_BITS if self.key_count else 0.0

    @property
    def nbytes(self) -> int:
        return _HEADER + 2 * len(self.slots)

    # ---------------------------------------------------------------- building
    @classmethod
    def build(cls, keys: Iterable[bytes | str], *, seed: int = 0x9E3779B97F4A7C15) -> KeyFilter:
        raw = {_as_bytes(k)[:8] for k in keys}
        if not raw:
            return cls(seed, 1, 0, 0, array("H"))
        room = 1.0
        for attempt in range(40):
            if attempt and attempt % 8 == 0:
                room *= 1.1  # small sets stall more often: give them a little more room
            segment_length, scl, slot_count = _layout(len(raw), room)
            if slot_count > MAX_SLOTS:
                raise KeyFilterError("too many keys for one filter")
            shell = cls(seed, segment_length, scl, len(raw), array("H", bytes(2 * slot_count)))
            hashes = {shell._hash(k) for k in raw}
            if len(hashes) == len(raw) and shell._fill(hashes):
                return shell
            seed = _mix(seed + 1)
        raise KeyFilterError("could not build the filter")

    def _fill(self, hashes: set[int]) -> bool:
        n = len(self.slots)
        count = [0] * n
        xors = [0] * n
        positions = self._positions
        for h in hashes:
            for p in positions(h):
                count[p] += 1
                xors[p] ^= h
        queue = [i for i in range(n) if count[i] == 1]
        order: list[tuple[int, int]] = []
        while queue:
            i = queue.pop()
            if count[i] != 1:
                continue
            h = xors[i]
            order.append((i, h))
            for p in positions(h):
                count[p] -= 1
                xors[p] ^= h
                if count[p] == 1:
                    queue.append(p)
        if len(order) != len(hashes):
            return False
        s = self.slots
        for i, h in reversed(order):
            h0, h1, h2 = positions(h)
            s[i] = ((h ^ (h >> 32)) & 0xFFFF) ^ s[h0] ^ s[h1] ^ s[h2]  # s[i] is still 0
        return True

    # ---------------------------------------------------------------- serialization
    def to_bytes(self) -> bytes:
        head = (MAGIC + bytes((FORMAT, 0, 0, 0)) + self.seed.to_bytes(8, "little")
                + self.segment_length.to_bytes(4, "little") + self.segment_count_length.to_bytes(4, "little")
                + self.key_count.to_bytes(4, "little") + len(self.slots).to_bytes(4, "little"))
        return head + _to_le(self.slots)

    @classmethod
    def from_bytes(cls, data: bytes | memoryview) -> KeyFilter:
        view = memoryview(data)
        if len(view) < _HEADER or bytes(view[:4]) != MAGIC or view[4] != FORMAT:
            raise KeyFilterError("not a key filter")

        def u(offset: int, size: int) -> int:
            return int.from_bytes(view[offset:offset + size], "little")

        seed, segment_length, scl, key_count, slot_count = u(8, 8), u(16, 4), u(20, 4), u(24, 4), u(28, 4)
        if segment_length < 1 or slot_count > MAX_SLOTS or len(view) != _HEADER + 2 * slot_count:
            raise KeyFilterError("key filter has the wrong length")
        return cls(seed, segment_length, scl, key_count, _from_le("H", view[_HEADER:]))
