"""In-memory token buckets, per server process.

With N uvicorn workers a client can get up to N times the configured rate (each worker keeps
its own buckets); that is acceptable for the goal here -- slowing password guessing and a
runaway device -- and keeps the database out of the hot path. Buckets are keyed by opaque ids
(device id, client IP, a hash of the username), never by personal data.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class TokenBuckets:
    def __init__(self, capacity: float, per_second: float, *, clock=time.monotonic,
                 max_keys: int = 100_000) -> None:
        self.capacity, self.per_second, self.clock, self.max_keys = capacity, per_second, clock, max_keys
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()  # protects the dict only; not a correctness guarantee

    def take(self, key: str, cost: float = 1.0) -> float:
        """0.0 when allowed; else the seconds to wait before retrying. A cost above the
        capacity is charged as a full bucket: it would otherwise never be allowed."""
        cost = min(cost, self.capacity)
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self.max_keys:
                    self._buckets.clear()  # crude bound on memory under a flood of new keys
                bucket = self._buckets[key] = _Bucket(self.capacity, now)
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.stamp) * self.per_second)
            bucket.stamp = now
            if bucket.tokens >= cost:
                bucket.tokens -= cost
                return 0.0
            return (cost - bucket.tokens) / self.per_second if self.per_second > 0 else 3600.0
