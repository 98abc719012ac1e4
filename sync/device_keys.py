"""The keys an enrolled device holds, and none more (issue 15: "keys are never derivable for
people outside what the device holds").

A device used to hold the campaign's index key itself. With it, and a dump of the server's
database, anyone holding the device could compute the server's matching and blocking keys of
any guessed person and confirm who signed. Now a device holds three keys, none of which
yields a server matching or blocking key:

- ``registration_key`` (from the server): ``sync.voters.keys.registration_subkey`` of the
  index key, the key of the registration index the server sends (the voter file, which a
  campaign holds anyway). One-way: it gives nothing of the index key.
- ``own_lines_key`` (made on the device, never sent): the key of the exact keys of the device's
  own lines, which only this device's store compares (``DeviceStore.find_local_match``).
  Random, so no server-side value can ever equal one.
- the door-step key (sealed with the door-step filter; ``sync.matching.doorstep_subkey``).

A store enrolled before this held ``index_key``: ``upgrade`` (run by every reader here, once)
derives the registration key from it, makes an own-lines key, re-keys the own lines with it,
and deletes the index key.
"""

from __future__ import annotations

import base64
import logging
import os
from typing import Any

from sync.matching import matching_keys
from sync.voters.keys import registration_subkey

log = logging.getLogger("canvass.device_keys")

REGISTRATION_KEY = "registration_key"
OWN_LINES_KEY = "own_lines_key"
_RETIRED_INDEX_KEY = "index_key"  # what stores enrolled before 2026-12-04 hold


def _read(store: Any, name: str) -> bytes | None:
    value = store.get_secret(name)
    return base64.b64decode(value) if value else None


def registration_key(store: Any) -> bytes | None:
    """The key of the device's registration index, or None (not enrolled)."""
    upgrade(store)
    return _read(store, REGISTRATION_KEY)


def own_lines_key(store: Any) -> bytes:
    """The key of the device's own lines' exact keys; made on first use."""
    upgrade(store)
    return _own_key(store)


def _own_key(store: Any) -> bytes:
    """The own lines' key held, or a new random one, kept."""
    key = _read(store, OWN_LINES_KEY)
    if key is None:
        key = os.urandom(32)
        store.set_secret(OWN_LINES_KEY, base64.b64encode(key).decode())
    return key


def keep_registration_key(store: Any, key_b64: str) -> None:
    """Keep the registration key the server sent (at enrollment, or after a rotation)."""
    base64.b64decode(key_b64, validate=True)  # a broken value is refused before it replaces one
    upgrade(store)  # first: an upgrade must not put a key derived from an old one over it
    store.set_secret(REGISTRATION_KEY, key_b64)


def upgrade(store: Any) -> bool:
    """Replace a held campaign index key by the keys above; True if there was one. The own
    lines are re-keyed in the same store transaction that deletes the index key."""
    index_key = _read(store, _RETIRED_INDEX_KEY)
    if index_key is None:
        return False
    store.set_secret(REGISTRATION_KEY, base64.b64encode(registration_subkey(index_key)).decode())
    own = _own_key(store)
    rekeyed = store.rekey_local_lines(lambda fields: matching_keys(own, fields),
                                      drop_secret=_RETIRED_INDEX_KEY)
    log.info("device keys upgraded: campaign index key removed, %d own lines re-keyed", rekeyed)
    return True
