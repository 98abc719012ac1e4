"""The offline door-step filter a device pulls (issue 15): which signers, which keys, cached.

A device holds, for checking people at the door without the server, a sync.keyfilter blob of
the door-step keys (sync.matching.doorstep_keys) of the counted signers in its scope, and the
door-step key that makes them (a one-way sub-key of the campaign index key). The campaign
chooses the scope (CampaignSettings.doorstep_scope):

- ``none``: nothing; the device checks only its own lines (and the server, online);
- ``region`` (the default): signers whose ZIP is assigned to the device's team (table
  ``team_zips``, set with ``canvass-server team zips``) or one the team's devices entered a
  line in during the last ``doorstep_region_days`` days (the devices enrolled without a team
  are one team, "");
- ``campaign``: every counted signer.

Nothing outside the scope is in the blob, and the keys are HMACs: the device can test a
name it guesses against the signers it holds, never against anyone else (SECURITY.md).
Rotating the index key (rotation.py) changes the door-step key: a revoked device's copy
keeps matching the signers it held, and none counted after the rotation.

Building the filter decrypts the counted entries' match blobs (dedup.candidates' cache) and
peels a binary fuse filter in pure Python: about 1.4 s per 100,000 keys. Filters are cached
per content tag (scope, key id, index counter, counted entries, ZIP set), the last 32 in the
Services' ``doorstep_filters``, so devices of one team, or of one campaign-scoped campaign,
share one build; a build that took seconds is served again for ten times as long even after
new signers (below). Not done: keeping per-entry door-step keys in a table at intake, so
that a large scope's build does not read every counted entry's match blob.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from sync.domain import utcnow
from sync.keyfilter import KeyFilter
from sync.matching import DOORSTEP_KEYS_VERSION, doorstep_keys, doorstep_subkey
from sync.normalize import zip5
from sync.server import dedup
from sync.server.models import Campaign, Counter, Device, Entry, TeamZip
from sync.server.rotation import index_reset_name

if TYPE_CHECKING:
    from sync.server.services import Services

SCOPES = ("none", "region", "campaign")


@dataclass(frozen=True)
class DeviceFilter:
    scope: str
    tag: str
    key_id: int | None = None
    doorstep_key: bytes | None = None
    signers: int = 0
    blob: bytes | None = None


REUSE_AFTER_BUILD_SECONDS = 0.5
REUSE_FACTOR = 10.0


def campaign_scope(campaign: Campaign) -> tuple[str, int]:
    extra = json.loads(campaign.settings_json or "{}")
    scope = extra.get("doorstep_scope", "region")
    return (scope if scope in SCOPES else "region"), int(extra.get("doorstep_region_days", 14))


def set_scope(s: Session, campaign_id: str, scope: str, region_days: int | None = None) -> None:
    if scope not in SCOPES:
        raise ValueError("scope must be none, region or campaign")
    campaign = s.get(Campaign, campaign_id)
    if campaign is None:
        raise LookupError("unknown campaign")
    extra = json.loads(campaign.settings_json or "{}")
    extra["doorstep_scope"] = scope
    if region_days is not None:
        if not 0 <= region_days <= 365:
            raise ValueError("region days must be 0..365")
        extra["doorstep_region_days"] = region_days
    campaign.settings_json = json.dumps(extra, sort_keys=True)


def set_team_zips(s: Session, campaign_id: str, team: str, zips: list[str]) -> list[str]:
    """Replace a team's assigned ZIPs; returns them normalized (five digits each)."""
    clean = sorted({zip5(z) for z in zips})
    if any(len(z) != 5 for z in clean):
        raise ValueError("every ZIP must have five digits")
    if s.get(Campaign, campaign_id) is None:
        raise LookupError("unknown campaign")
    s.execute(delete(TeamZip).where(TeamZip.campaign_id == campaign_id, TeamZip.team == team))
    s.add_all([TeamZip(campaign_id=campaign_id, team=team, zip5=z) for z in clean])
    return clean


def team_zips(s: Session, campaign_id: str, team: str) -> list[str]:
    return sorted(s.scalars(select(TeamZip.zip5).where(TeamZip.campaign_id == campaign_id,
                                                       TeamZip.team == team)))


def region_zips(s: Session, svc: Services, device: Device, days: int) -> set[str]:
    """The team's assigned ZIPs plus those its devices worked in during the last ``days``
    (devices without a team count as the team "")."""
    zips = set(team_zips(s, device.campaign_id, device.team))
    since = utcnow() - timedelta(days=days)
    devices = select(Device.id).where(Device.campaign_id == device.campaign_id, Device.team == device.team)
    recent = s.scalars(select(Entry.id).where(Entry.campaign_id == device.campaign_id,
                                              Entry.device_id.in_(devices), Entry.received_at >= since))
    records = dedup.candidate_records(s, svc.cipher, list(recent), svc.candidates)
    zips.update(r.zip5 for r in records.values() if r.zip5)
    return zips


def _tag(key: bytes, parts: list) -> str:
    return hmac.new(key, json.dumps(parts).encode(), hashlib.sha256).hexdigest()[:32]


def device_filter(s: Session, svc: Services, device: Device, campaign: Campaign,
                  index_key: bytes) -> DeviceFilter:
    """The filter of ``device``'s scope, from the Services' caches (``doorstep_filters`` by
    content tag, ``doorstep_reuse`` by scope) or built."""
    scope, days = campaign_scope(campaign)
    dkey = doorstep_subkey(index_key)
    if scope == "none":
        return DeviceFilter(scope, _tag(dkey, ["none", campaign.index_key_id]))
    zips = None if scope == "campaign" else sorted(region_zips(s, svc, device, days))
    counter = s.scalar(select(Counter.value).where(
        Counter.name == dedup.index_counter_name(campaign.id))) or 0
    # The index reset floor moves when the campaign is purged (sync/server/purge.py): no
    # process may then serve a filter built before it, not even an expensive one it reuses.
    floor = s.scalar(select(Counter.value).where(Counter.name == index_reset_name(campaign.id))) or 0
    counted = select(Entry.id).where(Entry.campaign_id == campaign.id, Entry.counted.is_(True))
    n_counted = s.scalar(select(func.count()).select_from(counted.subquery())) or 0
    # The key kinds' version: a device holding a filter of older kinds gets a new one, although
    # the signers are the same (it probes with its own code's kinds).
    tag = _tag(dkey, [scope, campaign.index_key_id, counter, floor, n_counted, zips, DOORSTEP_KEYS_VERSION])
    same_scope = _tag(dkey, [scope, campaign.index_key_id, floor, zips, DOORSTEP_KEYS_VERSION])
    now = time.monotonic()
    hit = svc.doorstep_filters.get(tag)
    recent = svc.doorstep_reuse.get(same_scope)
    if hit is not None:
        return hit
    if recent is not None and now < recent[0]:
        return recent[1]  # an expensive build is not redone for every new signer (below)
    wanted = set(zips or ())
    keys: list[str] = []
    signers = 0
    if zips is None or wanted:
        records = dedup.candidate_records(s, svc.cipher, list(s.scalars(counted)), svc.candidates)
        for record in records.values():
            if zips is not None and record.zip5 not in wanted:
                continue
            mine = doorstep_keys(dkey, record)
            signers += bool(mine)
            keys.extend(mine)
    built = DeviceFilter(scope, tag, campaign.index_key_id, dkey, signers, KeyFilter.build(keys).to_bytes())
    cost = time.monotonic() - now
    svc.doorstep_filters.put(tag, built)
    if cost >= REUSE_AFTER_BUILD_SECONDS:
        # A build that took seconds (a campaign scope of many signers) is served for a
        # while, ten times its cost (at most an hour), to devices of the same scope even
        # as new signers are counted: a device's offline copy is hours old anyway.
        svc.doorstep_reuse.put(same_scope, (time.monotonic() + min(REUSE_FACTOR * cost, 3600.0), built))
    else:
        svc.doorstep_reuse.pop(same_scope)
    return built
