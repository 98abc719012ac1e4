"""The device's encrypted local store.

    DeviceStore.create(path, pin, *, kdf=None) -> DeviceStore   (unlocked)
    DeviceStore.open(path) -> DeviceStore                       (locked)
    DeviceStore.exists(path) -> bool
    unlock(pin), lock(), is_unlocked, change_pin(old, new), close()
    set_secret / get_secret (encrypted), set_setting / get_setting (clear JSON)
    open_section, get_section, list_sections, close_section, next_line
    save_entry(entry, match_keys) -> SignerEntry, get_entry, entries, count_entries (purged
    lines included), purged_lines(section)
    pending_count, last_device_seq, next_batch, apply_batch_results
    apply_outcomes, outcomes_cursor, set_doorstep_filter, doorstep_filter, find_local_match,
    purge_acknowledged, wipe (no PIN needed)

Personal fields are AES-256-GCM sealed per field (AAD = entry id + field name) under a random
data key wrapped by an Argon2id key from the PIN. Everything but exists/open/unlock/lock/close/
change_pin/get_setting needs the store unlocked (StoreLocked). A correction may target a
closed section, on the corrected entry's own line only. See store.py for details.
"""

from sync.crypto import TamperedData

from .errors import (
    LineAlreadyUsed,
    NotFound,
    PinDelay,
    SectionClosed,
    StoreError,
    StoreLocked,
    StoreWiped,
    UnknownSection,
    WeakPin,
    WrongPin,
)
from .keyring import KdfParams
from .models import PENDING, OutboxBatch, StoredEntry
from .store import DeviceStore

__all__ = [
    "PENDING",
    "DeviceStore",
    "KdfParams",
    "LineAlreadyUsed",
    "NotFound",
    "OutboxBatch",
    "PinDelay",
    "SectionClosed",
    "StoreError",
    "StoreLocked",
    "StoreWiped",
    "StoredEntry",
    "TamperedData",
    "UnknownSection",
    "WeakPin",
    "WrongPin",
]
