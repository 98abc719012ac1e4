"""Background sync: a daemon thread that syncs while the store is unlocked and the server is
reachable.

Every ``interval`` seconds (or at once after ``sync_now()``) the runner:

1. skips the round while the store is locked (nothing can be read or decrypted);
2. makes a cheap reachability check (``GET /healthz``); when it fails the status turns
   ``offline`` ("No connection - 14 signatures waiting") and the next try backs off
   exponentially with jitter (``offline_backoff``) instead of hammering a dead link;
3. runs ``client.sync_once()``; a failed round backs off the same way, a good one resets it;
4. after a 401 (``needs_reenroll``) it stops trying until ``sync_now()`` -- re-enrolling is a
   person's job, not a retry loop's.

``stop()`` wakes the thread and joins it; a round in progress finishes its current request
(bounded by the client's timeouts) and leaves the outbox consistent: only answered batches
are ever removed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sync.backoff import Backoff
from sync.client import SyncClient, SyncReport
from sync.sync_status import SyncState, waiting

log = logging.getLogger("canvass.sync")


def _default_is_unlocked(store: Any) -> Callable[[], bool]:
    def check() -> bool:
        flag = getattr(store, "is_unlocked", None)
        if flag is not None:
            return bool(flag() if callable(flag) else flag)
        flag = getattr(store, "locked", None)
        if flag is not None:
            return not bool(flag() if callable(flag) else flag)
        try:
            store.get_secret("device_token")
        except Exception:
            return False
        return True

    return check


class BackgroundSync:
    def __init__(self, client: SyncClient, *, interval: float = 60.0,
                 offline_backoff: Backoff | None = None,
                 is_unlocked: Callable[[], bool] | None = None,
                 on_report: Callable[[SyncReport], None] | None = None) -> None:
        self.client = client
        self.interval = interval
        self.backoff = offline_backoff or Backoff(base=5.0, cap=300.0)
        self.is_unlocked = is_unlocked or _default_is_unlocked(client.store)
        self.on_report = on_report
        self.rounds = 0  # completed sync_once calls (for tests and diagnostics)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._failures = 0

    @property
    def status(self):
        return self.client.status

    def start(self) -> BackgroundSync:
        if self._thread is not None and self._thread.is_alive():
            return self
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="canvass-sync", daemon=True)
        self._thread.start()
        self._wake.set()  # first round at once
        return self

    def sync_now(self) -> None:
        """Wake the runner for a round now (e.g. the circulator tapped "Sync")."""
        self._failures = 0
        self._wake.set()

    def stop(self, timeout: float | None = 30.0) -> bool:
        """Stop the runner; True when the thread has ended."""
        self._stopping.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> BackgroundSync:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----------------------------------------------------------------------------- the loop

    def _run(self) -> None:
        delay: float | None = 0.0
        while not self._stopping.is_set():
            self._wake.wait(delay)
            self._wake.clear()
            if self._stopping.is_set():
                break
            try:
                delay = self._round()
            except Exception:  # never let the thread die silently
                log.exception("background sync round failed")
                self._failures += 1
                delay = self.backoff.delay(self._failures)

    def _round(self) -> float | None:
        if not self.is_unlocked():
            return self.interval
        if self.client.status.state == SyncState.NEEDS_REENROLL and self._failures:
            return None  # parked until sync_now()
        if not self.client.check_reachable():
            self._failures += 1
            try:
                pending = self.client.pending()
            except Exception:
                pending = self.client.status.pending
            self.client.status.update(state=SyncState.OFFLINE, pending=pending,
                                      last_error=f"No connection - {waiting(pending)}")
            return self.backoff.delay(self._failures)
        report = self.client.sync_once()
        self.rounds += 1
        if self.on_report is not None:
            self.on_report(report)
        if report.ok:
            self._failures = 0
            return self.interval
        self._failures += 1
        if report.state == SyncState.NEEDS_REENROLL:
            return None
        return self.backoff.delay(self._failures)
