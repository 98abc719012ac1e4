"""Exponential backoff with full jitter ("AWS full jitter"), honouring a server's Retry-After.

``delay(attempt)`` for attempt 0, 1, 2... is uniform in [0, min(cap, base * 2**attempt)].
When the server said how long to wait (429/503 Retry-After), that wait is a floor: the client
waits at least that long (bounded by ``max_retry_after`` so a bad header cannot park a device
for a day).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


@dataclass
class Backoff:
    base: float = 0.5
    cap: float = 60.0
    max_retry_after: float = 900.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        ceiling = min(self.cap, self.base * (2 ** max(0, attempt)))
        wait = self.rng.uniform(0.0, ceiling)
        if retry_after is not None and retry_after > 0:
            wait = max(wait, min(float(retry_after), self.max_retry_after))
        return wait

    def sleep(self, attempt: int, retry_after: float | None = None,
              sleep: Callable[[float], None] = time.sleep) -> float:
        wait = self.delay(attempt, retry_after)
        sleep(wait)
        return wait


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date. None when absent/invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if moment is None:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)
