"""The compact registration index a device holds: keyed hashes only, never plaintext.

Structure (a bucketed sorted array of truncated keys, a "quotient" layout):

- every registration key (16-byte HMAC, see keys.py) is truncated to a *fingerprint* of
  ``bucket_bits + 16`` bits (its leading bits);
- the leading ``bucket_bits`` select a bucket; the remaining 16 bits are stored, sorted, in one
  array of uint16 ``remainders``; ``offsets`` (uint32, 2**bucket_bits + 1 entries) says where
  each bucket's slice starts;
- ``bucket_bits`` is chosen as round(log2(n)) - 4 (about 16 keys per bucket), so a key costs
  16 bits of remainder + about 2 bits of offset: **about 18 bits per key**.

False positives. A lookup of a key that is not in the set hits when its fingerprint equals one
of the n stored ones: probability n / 2**(bucket_bits + 16), about **2**-12 = 1/4096 per
probed key** (between 1/5800 and 1/2900 with the rounding; ``false_positive_rate`` gives the
exact figure of an index). There are no false negatives. A device check probes up to ~4
address keys and ~4 person keys, so a "not found" signer reads as found about 1 time in 500.

File format (little-endian)::

    magic b"CVRI" | format u8 (=1) | bucket_bits u8 | reserved u16 | version u64 |
    key_count u32 | offsets u32 * (2**bucket_bits + 1) | remainders u16 * key_count

Versions and deltas. Each published index has a version (increasing per campaign). A delta
from version a to b lists the fingerprints added and removed (set semantics: a fingerprint
shared by two voters stays while either remains). Deltas need the same ``bucket_bits`` on
both sides; the server keeps ``bucket_bits`` while the key count stays within a factor of 2,
and sends a full snapshot otherwise.
"""

from __future__ import annotations

import bisect
import math
import os
import sys
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

MAGIC = b"CVRI"
FORMAT = 1
REMAINDER_BITS = 16
_HEADER = 4 + 1 + 1 + 2 + 8 + 4
_LITTLE = sys.byteorder == "little"
MIN_BUCKET_BITS = 4
MAX_BUCKET_BITS = 28


class IndexFormatError(ValueError):
    """A serialized index or delta is malformed."""


def choose_bucket_bits(key_count: int, previous: int | None = None) -> int:
    """About 16 keys per bucket; keep ``previous`` while it stays within a factor of 2."""
    bits = round(math.log2(max(key_count, 1))) - 4
    bits = min(max(bits, MIN_BUCKET_BITS), MAX_BUCKET_BITS)
    if previous is not None and abs(previous - bits) <= 1:
        return previous
    return bits


def fingerprint(key: bytes, bucket_bits: int) -> int:
    """Leading ``bucket_bits + 16`` bits of a 16-byte key."""
    return int.from_bytes(key[:8], "big") >> (64 - bucket_bits - REMAINDER_BITS)


def _to_le(arr: array) -> bytes:
    if _LITTLE:
        return arr.tobytes()
    copy = array(arr.typecode, arr)
    copy.byteswap()
    return copy.tobytes()


def _from_le(typecode: str, data: bytes | memoryview) -> array:
    arr = array(typecode)
    arr.frombytes(data)
    if not _LITTLE:
        arr.byteswap()
    return arr


class RegistrationIndex:
    """An immutable set of fingerprints with O(log) membership (see module docstring)."""

    __slots__ = ("bucket_bits", "version", "offsets", "remainders")

    def __init__(self, bucket_bits: int, version: int, offsets: array, remainders: array) -> None:
        if len(offsets) != (1 << bucket_bits) + 1 or offsets[-1] != len(remainders):
            raise IndexFormatError("offsets do not match the remainders")
        self.bucket_bits = bucket_bits
        self.version = version
        self.offsets = offsets
        self.remainders = remainders

    # ---------------------------------------------------------------- queries
    def __len__(self) -> int:
        return len(self.remainders)

    @property
    def false_positive_rate(self) -> float:
        """Probability that one probed key that is not in the set is reported present."""
        return len(self) / float(1 << (self.bucket_bits + REMAINDER_BITS))

    def contains_fingerprint(self, fp: int) -> bool:
        bucket, rem = fp >> REMAINDER_BITS, fp & 0xFFFF
        lo, hi = self.offsets[bucket], self.offsets[bucket + 1]
        i = bisect.bisect_left(self.remainders, rem, lo, hi)
        return i < hi and self.remainders[i] == rem

    def contains(self, key: bytes) -> bool:
        return self.contains_fingerprint(fingerprint(key, self.bucket_bits))

    def contains_any(self, keys: Iterable[bytes]) -> bool:
        return any(self.contains(k) for k in keys)

    def fingerprints(self) -> Iterator[int]:
        rems, offs = self.remainders, self.offsets
        for bucket in range(1 << self.bucket_bits):
            lo, hi = offs[bucket], offs[bucket + 1]
            base = bucket << REMAINDER_BITS
            for i in range(lo, hi):
                yield base | rems[i]

    @property
    def nbytes(self) -> int:
        """Size of the serialized index (= its size on disk)."""
        return _HEADER + 4 * len(self.offsets) + 2 * len(self.remainders)

    @property
    def memory_bytes(self) -> int:
        """Bytes held by the two arrays once loaded (the object overhead is ~200 bytes)."""
        return self.offsets.itemsize * len(self.offsets) + self.remainders.itemsize * len(self.remainders)

    # ---------------------------------------------------------------- serialization
    def to_bytes(self) -> bytes:
        head = (MAGIC + bytes((FORMAT, self.bucket_bits)) + b"\0\0"
                + self.version.to_bytes(8, "little") + len(self).to_bytes(4, "little"))
        return head + _to_le(self.offsets) + _to_le(self.remainders)

    @classmethod
    def from_bytes(cls, data: bytes | memoryview) -> RegistrationIndex:
        view = memoryview(data)
        if len(view) < _HEADER or bytes(view[:4]) != MAGIC or view[4] != FORMAT:
            raise IndexFormatError("not a registration index")
        bits = view[5]
        if not MIN_BUCKET_BITS <= bits <= MAX_BUCKET_BITS:
            raise IndexFormatError("bad bucket size")
        version = int.from_bytes(view[8:16], "little")
        count = int.from_bytes(view[16:20], "little")
        n_off = (1 << bits) + 1
        if len(view) != _HEADER + 4 * n_off + 2 * count:
            raise IndexFormatError("registration index has the wrong length")
        offsets = _from_le("I", view[_HEADER:_HEADER + 4 * n_off])
        remainders = _from_le("H", view[_HEADER + 4 * n_off:])
        if offsets[0] != 0:
            raise IndexFormatError("offsets do not start at 0")
        return cls(bits, version, offsets, remainders)

    def write(self, path: str | os.PathLike) -> None:
        """Atomic replace: write a temporary file, fsync it, rename it over ``path``."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as fh:
            fh.write(self.to_bytes())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        try:
            dir_fd = os.open(path.parent, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(dir_fd)
        except OSError:
            pass
        finally:
            os.close(dir_fd)

    @classmethod
    def read(cls, path: str | os.PathLike) -> RegistrationIndex:
        return cls.from_bytes(Path(path).read_bytes())


# -------------------------------------------------------------------- building
class SortedIndexBuilder:
    """Builds an index from fingerprints given in ascending order (duplicates allowed), in one
    pass with memory for the output only: what the server does while streaming keys out of
    the database in key order (a key's fingerprint is its prefix, so key order is fp order)."""

    def __init__(self, bucket_bits: int) -> None:
        self.bucket_bits = bucket_bits
        self._offsets = array("I", [0])
        self._rems = array("H")
        self._bucket = 0
        self._last = -1

    def add(self, fp: int) -> None:
        if fp == self._last:
            return
        if fp < self._last:
            raise ValueError("fingerprints must come in ascending order")
        self._last = fp
        bucket = fp >> REMAINDER_BITS
        if bucket >= (1 << self.bucket_bits):
            raise ValueError("fingerprint too wide for the bucket size")
        while self._bucket < bucket:
            self._offsets.append(len(self._rems))
            self._bucket += 1
        self._rems.append(fp & 0xFFFF)

    def add_key(self, key: bytes) -> None:
        self.add(fingerprint(key, self.bucket_bits))

    def build(self, version: int) -> RegistrationIndex:
        total = 1 << self.bucket_bits
        n = len(self._rems)
        while len(self._offsets) < total + 1:
            self._offsets.append(n)
        return RegistrationIndex(self.bucket_bits, version, self._offsets, self._rems)


def build_index(keys: Iterable[bytes], *, version: int = 1,
                bucket_bits: int | None = None) -> RegistrationIndex:
    """An index over ``keys`` (any order). Holds the distinct keys in a set while building:
    for tests and small sets; the server streams sorted keys into SortedIndexBuilder."""
    keys = set(keys)
    bits = bucket_bits if bucket_bits is not None else choose_bucket_bits(len(keys))
    return build_from_fingerprints(sorted({fingerprint(k, bits) for k in keys}), bits, version)


def build_from_fingerprints(fps: Iterable[int], bucket_bits: int, version: int) -> RegistrationIndex:
    builder = SortedIndexBuilder(bucket_bits)
    for fp in fps:
        builder.add(fp)
    return builder.build(version)


# -------------------------------------------------------------------- deltas
@dataclass(frozen=True)
class IndexDelta:
    from_version: int
    to_version: int
    bucket_bits: int
    added: tuple[int, ...]
    removed: tuple[int, ...]


def diff(old: RegistrationIndex, new: RegistrationIndex) -> IndexDelta:
    """Fingerprints to add and remove to turn ``old`` into ``new`` (same bucket_bits)."""
    if old.bucket_bits != new.bucket_bits:
        raise IndexFormatError("a delta needs the same bucket size on both sides")
    added: list[int] = []
    removed: list[int] = []
    oo, no, orem, nrem = old.offsets, new.offsets, old.remainders, new.remainders
    for bucket in range(1 << new.bucket_bits):
        a = orem[oo[bucket]:oo[bucket + 1]]
        b = nrem[no[bucket]:no[bucket + 1]]
        if a == b:
            continue
        base = bucket << REMAINDER_BITS
        sa, sb = set(a), set(b)
        added.extend(base | r for r in sorted(sb - sa))
        removed.extend(base | r for r in sorted(sa - sb))
    return IndexDelta(old.version, new.version, new.bucket_bits, tuple(added), tuple(removed))


def apply_delta(index: RegistrationIndex, delta: IndexDelta) -> RegistrationIndex:
    """A new index: ``index`` plus ``delta.added`` minus ``delta.removed``. Untouched buckets
    are copied in bulk, so the cost is one pass over the arrays plus the touched buckets."""
    if delta.bucket_bits != index.bucket_bits:
        raise IndexFormatError("the delta's bucket size differs from the index's")
    if delta.from_version != index.version:
        raise IndexFormatError("the delta does not start at this index's version")
    touched: dict[int, tuple[set[int], set[int]]] = {}
    for fp in delta.added:
        touched.setdefault(fp >> REMAINDER_BITS, (set(), set()))[0].add(fp & 0xFFFF)
    for fp in delta.removed:
        touched.setdefault(fp >> REMAINDER_BITS, (set(), set()))[1].add(fp & 0xFFFF)
    offs, rems = index.offsets, index.remainders
    new_rems = array("H")
    n_buckets = 1 << index.bucket_bits
    position = 0  # next remainder of the old array not yet copied
    shifts: list[tuple[int, int]] = []  # (bucket, new size - old size)
    for bucket in sorted(touched):
        if bucket >= n_buckets:
            raise IndexFormatError("delta fingerprint outside the index")
        lo, hi = offs[bucket], offs[bucket + 1]
        new_rems.extend(rems[position:lo])
        add, remove = touched[bucket]
        merged = sorted((set(rems[lo:hi]) | add) - remove)
        new_rems.extend(merged)
        shifts.append((bucket, len(merged) - (hi - lo)))
        position = hi
    new_rems.extend(rems[position:])
    new_offs = array("I", offs)
    if shifts:
        # offsets[j] moves by the sum of size changes of buckets < j.
        running, k = 0, 0
        for j in range(shifts[0][0] + 1, len(new_offs)):
            while k < len(shifts) and shifts[k][0] < j:
                running += shifts[k][1]
                k += 1
            new_offs[j] += running
    return RegistrationIndex(index.bucket_bits, delta.to_version, new_offs, new_rems)


def pack_fingerprints(fps: Iterable[int]) -> bytes:
    """Fingerprints as little-endian uint64s (for the wire, base64 on top)."""
    arr = array("Q", fps)
    return _to_le(arr)


def unpack_fingerprints(data: bytes) -> tuple[int, ...]:
    if len(data) % 8:
        raise IndexFormatError("packed fingerprints have a bad length")
    return tuple(_from_le("Q", data))
