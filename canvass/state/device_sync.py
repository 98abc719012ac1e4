"""The app's sync client: sync.client.SyncClient with what only the app knows passed in (its
version for the heartbeat, and the registration index file it keeps beside the store), and
the campaign's retention applied after each good round.

sync/ imports nothing of canvass/ (the device-side core stays a library both sides share), so
every place of the app that syncs builds its client here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from canvass import __version__
from canvass.state.registration_check import RegistrationCheck, update_registration_index
from sync.client import SyncClient, SyncReport
from sync.device_keys import registration_key
from sync.protocol import CampaignSettings

log = logging.getLogger("canvass.app")

DEFAULT_RETENTION_DAYS = CampaignSettings.model_fields["retention_days"].default


class RegistrationPull:
    """``sync.client.RegistrationPull`` for the app: keeps one RegistrationCheck per index key
    (a rotated campaign key reloads it) and brings its file up to date."""

    def __init__(self) -> None:
        self._held: tuple[str | None, RegistrationCheck] | None = None

    def __call__(self, store: Any, fetch: Callable[[int], dict[str, Any]]) -> int:
        key = registration_key(store)
        if self._held is None or self._held[0] != key:
            self._held = (key, RegistrationCheck.for_store(store))
        check = self._held[1]
        check.refresh()
        return update_registration_index(check, fetch)


def retention_window(store: Any) -> timedelta:
    """The campaign's ``retention_days`` (CampaignSettings, stored at enrollment)."""
    campaign = store.get_setting("campaign", {}) or {}
    try:
        days = int(campaign.get("retention_days", DEFAULT_RETENTION_DAYS))
    except (AttributeError, TypeError, ValueError):
        days = DEFAULT_RETENTION_DAYS
    return timedelta(days=max(0, days))


def purge_settled(store: Any) -> int:
    """Drop entries the server settled longer ago than the campaign's retention window (the
    store keeps their lines, counted). Never fails the round: a locked store purges next time."""
    try:
        return int(store.purge_acknowledged(retention_window(store)))
    except Exception as exc:  # StoreLocked mid-round, a closed store: try after the next round
        log.info("retention purge skipped (%s)", type(exc).__name__)
        return 0


class AppSyncClient(SyncClient):
    """A SyncClient that applies the campaign's retention once a round succeeded: only then
    has the server answered everything it could, so what it settled may go."""

    def _finish(self, report: SyncReport, failure: BaseException | None) -> SyncReport:
        # Before the round's status is published: the app refreshes its counts and lines
        # when the state leaves "syncing", and must see the purge then.
        if failure is None:
            report.purged = purge_settled(self.store)
        return super()._finish(report, failure)


def device_sync_client(store: Any, **options: Any) -> AppSyncClient:
    """A SyncClient for the app's store (options as SyncClient takes them)."""
    options.setdefault("app_version", __version__)
    options.setdefault("registration", RegistrationPull())
    return AppSyncClient(store, **options)
