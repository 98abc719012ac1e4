"""Process settings of a serving process (``canvass-server serve`` and each of its workers)."""

from __future__ import annotations

import gc


def tune_gc(mode: str) -> None:
    """Fewer cyclic garbage collections while serving.

    The intake allocates many short-lived objects per entry (rows, results, records) that
    reference counting frees at once; the cyclic collector still runs every 700 allocations
    by default and, now and then, walks every live object -- the fuzzy matcher's candidate
    cache holds up to 100,000 decoded records. Measured in-process at 1,000,000 stored: ~11%
    of the intake's CPU went to collections. Objects alive at start-up (modules, the app) are
    frozen out of the collector's walks; the first threshold goes from 700 to 50,000.
    ``mode`` "default" (Settings.gc, CANVASS_GC=default) keeps Python's settings (to compare)."""
    if mode == "default":
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
