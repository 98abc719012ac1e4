"""The server's in-process caches: bounded, owned by the Services object (services.py), never
module-level state, so that two apps in one process (tests, ``canvass demo``) share nothing and
whatever a cache holds goes with the Services that made it.

Each is a ``SharedCache``: cachetools' FIFOCache behind a lock, because request threads share
it and cachetools' caches are not thread-safe. FIFO, not LRU, on purpose: a hit then only
reads (an LRU reorders on every hit, a write under the lock), and the caches these replaced
were FIFOs; what is evicted first is what was stored first.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Generic, TypeVar

from cachetools import FIFOCache

K = TypeVar("K")
V = TypeVar("V")


class SharedCache(Generic[K, V]):
    """A bounded FIFO cache several threads use: at most ``size`` entries, the oldest stored
    goes first, storing a key again makes it the newest. Size 0 keeps nothing."""

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError("a cache's size is 0 or more")
        self.size = size
        self._entries: FIFOCache | None = FIFOCache(size) if size else None
        self._lock = threading.Lock()

    def get(self, key: K, default: V | None = None) -> V | None:
        if self._entries is None:
            return default
        with self._lock:
            return self._entries.get(key, default)

    def get_many(self, keys: Iterable[K]) -> dict[K, V]:
        """The entries held of ``keys``, under one lock (a batch reads many at once)."""
        if self._entries is None:
            return {}
        found: dict[K, V] = {}
        with self._lock:
            entries = self._entries
            for key in keys:
                if key in entries:
                    found[key] = entries[key]
        return found

    def put(self, key: K, value: V) -> None:
        if self._entries is not None:
            with self._lock:
                self._entries[key] = value

    def put_many(self, items: Iterable[tuple[K, V]]) -> None:
        if self._entries is not None:
            with self._lock:
                entries = self._entries
                for key, value in items:
                    entries[key] = value

    def pop(self, key: K) -> None:
        if self._entries is not None:
            with self._lock:
                self._entries.pop(key, None)

    def clear(self) -> None:
        if self._entries is not None:
            with self._lock:
                self._entries.clear()

    def __len__(self) -> int:
        if self._entries is None:
            return 0
        with self._lock:
            return len(self._entries)
