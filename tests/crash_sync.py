"""Test-only entry module: one sync round, as `canvass sync` runs it, SIGKILLed at a chosen point.

    python -m crash_sync STORE PIN MAX_ENTRIES [POINT NTH]

With POINT (before_send, after_send, after_apply, after_outcomes) the process kills itself with
SIGKILL the NTH time the round reaches that point, through the client's ``checkpoint`` seam, so
no kill switch lives in production code. Without POINT the round runs to its end. The exit code
is 0 only when the round succeeded.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable

from canvass.state.device_sync import device_sync_client
from canvass.store import DeviceStore

POINTS = ("before_send", "after_send", "after_apply", "after_outcomes")


def kill_at(point: str, nth: int) -> Callable[[str], None]:
    """A checkpoint that SIGKILLs this process the ``nth`` time ``point`` is reached."""
    if point not in POINTS:
        raise ValueError(f"unknown crash point {point!r}")
    reached = 0

    def checkpoint(name: str) -> None:
        nonlocal reached
        if name == point:
            reached += 1
            if reached >= nth:
                os.kill(os.getpid(), signal.SIGKILL)

    return checkpoint


def main(argv: list[str]) -> int:
    path, pin, max_entries, *crash = argv
    store = DeviceStore.open(path)
    store.unlock(pin)
    extra = {"checkpoint": kill_at(crash[0], int(crash[1]))} if crash else {}
    report = device_sync_client(store, max_entries=int(max_entries), sleep=lambda s: None,
                                **extra).sync_once()
    store.close()
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
