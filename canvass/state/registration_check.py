"""Device-side registration check: while the circulator types, after name, street and ZIP,
one of "Registered here", "Registered, but at another address", "Not found".

Where the index lives: a file next to the device store, ``<store file>.regindex`` (format in
sync/voters/regindex.py), replaced atomically (temporary file, fsync, rename) on each update.
It holds keyed hashes only (truncated HMACs under a sub-key of the campaign index key, which
itself stays sealed in the store's secrets), so the file reveals no voter's data and cannot be
used to test a name without the key; it is therefore not encrypted, and it is loaded once
(about 18 bits per voter key; 4-6 MB per million voters) and kept in memory, so a check is a
few HMACs plus binary searches: well under a millisecond.

What the answers mean (and what the screen must say):
- ``registered_here``: a voter of this name is registered at this house number and ZIP.
- ``registered_elsewhere``: *a voter with this name* is registered at another address -- the
  signer may have moved, or it may be a namesake. Never "you are registered at ...": the
  device knows no address, and shows no other voter's data.
- ``not_found``: no voter of this name in the file (check the spelling; the signer may need
  to register).
- ``unknown``: no voter file on this device yet, or name/street/ZIP not filled in.
The index has false positives (``false_positive_rate`` per probed key, about 1/4096; see
regindex.py): rarely a "not found" signer reads as found. The server's answer, which scores
the full records, arrives later in the line's outcome (protocol.Outcome.registration).
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sync.device_keys import registration_key
from sync.normalize import normalized_record
from sync.voters.keys import probe_keys
from sync.voters.regindex import (
    IndexDelta,
    IndexFormatError,
    RegistrationIndex,
    apply_delta,
    unpack_fingerprints,
)

log = logging.getLogger("canvass.app")

UNKNOWN = "unknown"
REGISTERED_HERE = "registered_here"
REGISTERED_ELSEWHERE = "registered_elsewhere"
NOT_FOUND = "not_found"
# The screen shows every answer but UNKNOWN in the catalogues' words (registration.<answer>).
ANSWERS = (UNKNOWN, REGISTERED_HERE, REGISTERED_ELSEWHERE, NOT_FOUND)
INDEX_SUFFIX = ".regindex"


def index_path_for(store_path: str | Path) -> Path:
    store_path = Path(store_path)
    return store_path.with_name(store_path.name + INDEX_SUFFIX)


class RegistrationCheck:
    """The device's registration index and the check against it. Thread-safe: the sync
    thread applies updates while the UI thread checks."""

    def __init__(self, index_path: str | Path, reg_key: bytes | None) -> None:
        """``reg_key``: the registration key (sync.device_keys.registration_key)."""
        self.path = Path(index_path)
        self._reg_key = reg_key
        self._lock = threading.Lock()
        self._index: RegistrationIndex | None = None
        self._loaded: tuple | None = None  # (inode, mtime, size) of the file _index came from
        self._load()

    def _signature(self) -> tuple | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _load(self) -> None:
        signature = self._signature()
        self._index, self._loaded = None, signature
        if signature is None:
            return
        try:
            self._index = RegistrationIndex.read(self.path)
        except (OSError, IndexFormatError):
            log.warning("registration index unreadable; it will be fetched again")
            self._index = None

    def refresh(self) -> None:
        """Reload the file if another instance replaced it since (the sync client updates the
        index through an instance of its own while the capture form keeps this one): one stat."""
        if self._signature() != self._loaded:
            with self._lock:
                if self._signature() != self._loaded:
                    self._load()

    @classmethod
    def for_store(cls, store: Any, store_path: str | Path | None = None) -> RegistrationCheck:
        """From an unlocked DeviceStore: its registration key, the file beside it."""
        return cls(index_path_for(store_path or store.path), registration_key(store))

    # ------------------------------------------------------------------ state
    @property
    def version(self) -> int:
        index = self._index
        return index.version if index is not None else 0

    @property
    def available(self) -> bool:
        return self._index is not None and self._reg_key is not None

    @property
    def false_positive_rate(self) -> float:
        index = self._index
        return index.false_positive_rate if index is not None else 0.0

    def stats(self) -> dict:
        index = self._index
        if index is None:
            return {"version": 0, "keys": 0, "bytes_on_disk": 0, "bytes_in_memory": 0}
        return {"version": index.version, "keys": len(index), "bytes_on_disk": index.nbytes,
                "bytes_in_memory": index.memory_bytes, "false_positive_rate": index.false_positive_rate}

    # ------------------------------------------------------------------ the check
    def check(self, fields: Mapping[str, str]) -> str:
        """One of ANSWERS for the fields typed so far (wire field names)."""
        if self._reg_key is None:
            return UNKNOWN
        self.refresh()
        index, reg_key = self._index, self._reg_key
        if index is None:
            return UNKNOWN
        record = normalized_record(fields)
        if not (record.first and record.last and record.house_number and record.zip5):
            return UNKNOWN
        probes = probe_keys(reg_key, record)
        if index.contains_any(probes.address):
            return REGISTERED_HERE
        if index.contains_any(probes.person):
            return REGISTERED_ELSEWHERE
        return NOT_FOUND

    # ------------------------------------------------------------------ updates
    def apply_response(self, answer: Mapping[str, Any]) -> int:
        """Apply one GET /v1/registration-index answer (as a dict); returns the new version.

        A snapshot replaces the file; a delta is applied to the current index; ``reset``
        without a snapshot (the campaign has no voter file any more) drops the index."""
        version = int(answer["version"])
        snapshot = answer.get("snapshot")
        with self._lock:
            current = self._index
            if snapshot:
                new = RegistrationIndex.from_bytes(base64.b64decode(snapshot))
            elif answer.get("reset"):
                self._drop()
                return 0
            elif current is None or version == current.version:
                return self.version
            else:
                delta = IndexDelta(current.version, version, int(answer["bucket_bits"]),
                                   unpack_fingerprints(base64.b64decode(answer.get("added") or "")),
                                   unpack_fingerprints(base64.b64decode(answer.get("removed") or "")))
                new = apply_delta(current, delta)
                if int(answer.get("key_count", len(new))) != len(new):
                    raise IndexFormatError("delta applied to a different index; fetch a snapshot")
            new.write(self.path)
            self._index, self._loaded = new, self._signature()
            return new.version

    def _drop(self) -> None:
        self._index = None
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        self._loaded = None


def update_registration_index(check: RegistrationCheck, fetch: Callable[[int], Mapping[str, Any]]) -> int:
    """Bring ``check`` up to date with ``fetch(since)`` -> one GET /v1/registration-index answer
    (as a dict). On a delta that does not apply it asks again for a full snapshot (since=0).
    Returns the version now held (0: the campaign has no voter file)."""
    for since in (check.version, 0):
        answer = fetch(since)
        try:
            return check.apply_response(answer)
        except IndexFormatError:
            log.warning("registration index delta did not apply; fetching a snapshot")
    raise IndexFormatError("registration index could not be updated")
