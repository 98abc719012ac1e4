"""The per-process objects every request needs, built once by create_app."""

from __future__ import annotations

from dataclasses import dataclass, field

from sync.crypto import FieldCipher
from sync.server.config import Settings
from sync.server.db import Database
from sync.server.keys import FINGERPRINT_LABEL, OFFICE_ID_LABEL
from sync.server.ratelimit import TokenBuckets
from sync.server.rotation import ServerCipher


@dataclass
class Services:
    settings: Settings
    db: Database
    cipher: FieldCipher | ServerCipher  # ServerCipher: every data key, re-read while serving
    code_key: bytes
    fingerprint_key: bytes  # entry and batch fingerprints (ingest.py)
    office_id_key: bytes  # office-keyed and imported entry ids (importer.stable_entry_id)
    device_buckets: TokenBuckets
    login_buckets: TokenBuckets
    doorstep_buckets: TokenBuckets  # door-step checks per device (doorstep.py)
    index_keys: dict = field(default_factory=dict)  # campaign id -> unwrapped index key (cache)

    @classmethod
    def build(cls, settings: Settings) -> Services:
        keys, limits = settings.keys, settings.rate_limits
        db = Database(settings.db_url)
        return cls(
            settings=settings,
            db=db,
            cipher=ServerCipher(db, keys),
            code_key=keys.subkey("canvass/enroll-code/v1"),
            fingerprint_key=keys.subkey(FINGERPRINT_LABEL),
            office_id_key=keys.subkey(OFFICE_ID_LABEL),
            device_buckets=TokenBuckets(limits.device_capacity, limits.device_per_second),
            login_buckets=TokenBuckets(limits.login_capacity, limits.login_per_second),
            doorstep_buckets=TokenBuckets(limits.doorstep_capacity, limits.doorstep_per_second),
        )
