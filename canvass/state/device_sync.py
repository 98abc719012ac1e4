"""The app's sync client: sync.client.SyncClient with what only the app knows passed in (its
version for the heartbeat, and the registration index file it keeps beside the store).

sync/ imports nothing of canvass/ (the device-side core stays a library both sides share), so
every place of the app that syncs builds its client here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from canvass import __version__
from canvass.state.registration_check import RegistrationCheck, update_registration_index
from sync.client import SyncClient


class RegistrationPull:
    """``sync.client.RegistrationPull`` for the app: keeps one RegistrationCheck per index key
    (a rotated campaign key reloads it) and brings its file up to date."""

    def __init__(self) -> None:
        self._held: tuple[str | None, RegistrationCheck] | None = None

    def __call__(self, store: Any, fetch: Callable[[int], dict[str, Any]]) -> int:
        key = store.get_secret("index_key")
        if self._held is None or self._held[0] != key:
            self._held = (key, RegistrationCheck.for_store(store))
        check = self._held[1]
        check.refresh()
        return update_registration_index(check, fetch)


def device_sync_client(store: Any, **options: Any) -> SyncClient:
    """A SyncClient for the app's store (options as SyncClient takes them)."""
    options.setdefault("app_version", __version__)
    options.setdefault("registration", RegistrationPull())
    return SyncClient(store, **options)
