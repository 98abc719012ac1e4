"""Server side of sealed offline export bundles: ``canvass-server import-bundle FILE``.

``import_bundle(services_or_settings_or_db_url, path)`` opens the bundle with the server's
X25519 private key (the ``box_private_key`` of the server keys), checks that it comes from an
enrolled device (the device token sealed inside the bundle must match the device's stored
token hash; a revoked device is refused unless ``allow_revoked``), and feeds every batch
through ``sync.server.ingest.handle_batch`` -- the very function behind ``POST
/v1/entries/batch``. Idempotency is therefore identical to a sync: importing a bundle twice,
or syncing the same entries from the device afterwards, answers ``already_received`` and never
stores or counts an entry twice.

Nothing personal is printed or logged: only ids and counts.
"""

from __future__ import annotations

import hmac
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sync.bundle import open_bundle
from sync.errors import BundleError
from sync.server.audit import audit
from sync.server.auth import DeviceIdentity
from sync.server.config import Settings
from sync.server.ingest import handle_batch
from sync.server.models import Device, Entry
from sync.server.review import emit_outcome
from sync.server.services import Services
from sync.server.tokens import token_hash

log = logging.getLogger("canvass.server")


@dataclass
class ImportResult:
    device_id: str
    batches: int = 0
    entries: int = 0
    statuses: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(self.statuses.items())) or "nothing"
        return (f"Imported {self.entries} entries in {self.batches} batches "
                f"from device {self.device_id}: {counts}")


def _services(target: Any, key_file: str | None):
    if isinstance(target, Services):
        return target, False
    if isinstance(target, Settings):
        return Services.build(target), True
    if isinstance(target, str):
        return Services.build(Settings.load(target, key_file)), True
    raise TypeError("give Services, Settings or a database URL")


def import_bundle(services_or_db_url: Any, path: str | Path, *, key_file: str | None = None,
                  allow_revoked: bool = False, require_token: bool = True) -> ImportResult:
    svc, owned = _services(services_or_db_url, key_file)
    try:
        data = Path(path).read_bytes()
        opened = open_bundle(data, svc.settings.keys.box_private_key)
        with svc.db.read() as s:
            device = s.get(Device, opened.device_id) if opened.device_id else None
            if device is None:
                raise BundleError("the bundle names no device enrolled on this server")
            if device.revoked_at is not None and not allow_revoked:
                raise BundleError("the bundle's device is revoked (use --allow-revoked to import anyway)")
            if opened.device_token:
                if not hmac.compare_digest(token_hash(opened.device_token), device.token_hash):
                    raise BundleError("the bundle's device token does not match the enrolled device")
            elif require_token:
                raise BundleError("the bundle carries no device token")
            identity = DeviceIdentity(device.id, device.campaign_id, metered=False)
        result = ImportResult(device_id=identity.device_id)
        for batch in opened.batches:
            response = handle_batch(svc, identity, batch)
            result.batches += 1
            result.entries += len(batch.entries)
            result.statuses.update(str(r.status) for r in response.results)
            _announce_verdicts(svc, [e.entry_id for e in batch.entries])
        with svc.db.write() as s:
            audit(s, "cli", "bundle.import", identity.device_id,
                  f"{result.entries} entries, {result.batches} batches")
        log.info("bundle imported: device %s, %d entries", identity.device_id, result.entries)
        return result
    finally:
        if owned:
            svc.db.dispose()


def _announce_verdicts(svc: Any, entry_ids: list[str]) -> None:
    """The device never saw these batch answers: when it syncs later it gets only
    ``already_received``. Put each entry's verdict in the device's outcomes feed, so the device
    learns whether its signer counted."""
    with svc.db.write() as s:
        for entry_id in entry_ids:
            entry = s.get(Entry, entry_id)
            if entry is not None:
                emit_outcome(s, entry)


def main_import_bundle(args: Any) -> int:
    """Entry for ``canvass-server import-bundle FILE [--db URL] [--key-file F] [--allow-revoked]``."""
    import sys

    db_url = getattr(args, "db", None) or getattr(args, "db_url", None)
    try:
        result = import_bundle(db_url, args.file, key_file=getattr(args, "key_file", None),
                               allow_revoked=bool(getattr(args, "allow_revoked", False)))
    except (BundleError, OSError) as exc:
        print(f"canvass-server: {exc}", file=sys.stderr)
        return 1
    print(result.summary())
    return 0
