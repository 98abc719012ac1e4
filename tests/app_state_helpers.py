"""Helpers for the circulator-app state tests: an enrolled profile without a server."""

from __future__ import annotations

import base64
from pathlib import Path

from canvass.state.session import store_path
from canvass.store import DeviceStore, KdfParams
from sync.voters.keys import registration_subkey

CHEAP_KDF = KdfParams(memory_kib=64, time_cost=1, parallelism=1)
PIN = "246813"
INDEX_KEY = bytes(range(32))
CAMPAIGN = {"campaign_id": "c1", "name": "Demo", "goal": 1000, "deadline": "2030-01-01",
            "jurisdiction": "los_angeles_county", "jurisdiction_zips": [],
            "idle_lock_seconds": 60, "pin_max_failures": 0}


def enrolled_store(profile: Path, *, campaign: dict | None = None) -> DeviceStore:
    """A store as enrollment leaves it (settings + secrets), unlocked, at the app's path."""
    profile.mkdir(parents=True, exist_ok=True)
    store = DeviceStore.create(store_path(profile), PIN, kdf=CHEAP_KDF)
    store.set_setting("server_url", "http://127.0.0.1:9")
    store.set_setting("device_id", "dev-1")
    store.set_setting("circulator", "Circulator One")
    store.set_setting("campaign", campaign or CAMPAIGN)
    store.set_secret("device_token", "token")
    store.set_secret("registration_key", base64.b64encode(registration_subkey(INDEX_KEY)).decode())
    return store


SIGNER = {"first_name": "Maria", "middle_name": "", "last_name": "Lopez", "suffix": "",
          "street": "123 North Main Street", "unit": "", "city": "", "zip": "90012"}
