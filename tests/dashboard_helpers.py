"""A real server with the dashboard router (and optionally the staff web app), and a small
seeded drive with exact figures for the dashboard tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from server_helpers import ServerHandle, running_server

from sync.domain import utcnow
from sync.ids import new_uuid7
from sync.server.app import create_app
from sync.server.config import Settings
from sync.server.models import Campaign, Device, Entry, SectionCheckIn
from sync.server.routes import dashboard


def build_app(settings: Settings, *, staff_web: bool = False):
    app = create_app(settings)
    if not any(getattr(r, "path", "").startswith("/v1/dashboard") for r in app.routes):
        app.include_router(dashboard.router)
    if staff_web and not any(getattr(r, "path", "") == "/app" for r in app.routes):
        from canvass.staff.web_mount import mount_staff_app
        mount_staff_app(app)
    return app


@contextmanager
def dashboard_server(db_url: str, *, staff_web: bool = False) -> Iterator[ServerHandle]:
    with running_server(db_url, staff_web=staff_web, build_app=build_app) as server:
        yield server


@dataclass
class Drive:
    campaign_id: str
    other_campaign_id: str
    devices: dict[str, str]  # circulator -> device id
    device_token: str
    users: dict[str, str] = field(default_factory=dict)


def _entry(campaign_id, device_id, seq, section, line, captured, received, status="accepted",
           reason=None):
    return Entry(
        id=new_uuid7(), campaign_id=campaign_id, device_id=device_id, device_seq=seq,
        batch_id="b-" + device_id[:8], section=section, line=line, captured_at=captured,
        fingerprint="0" * 64, received_at=received, status=status, counted=status == "accepted",
        reason_code=reason)


def seed_drive(server: ServerHandle, *, goal: int = 100, stale_after: int = 60) -> Drive:
    """Three circulators: Ana (North, synced 5 min ago: 8 accepted, 1 duplicate, 1 rejected
    for a ZIP outside the jurisdiction; sections A1 checked in and A2 open), Ben (North, synced
    3 hours ago: 4 accepted, 3 days ago), Cleo (South, never synced). Validity rate 0.5."""
    deadline = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    cid = server.create_campaign(name="Recall drive", goal=goal, deadline=deadline,
                                 validity_rate=0.5)
    other = server.create_campaign(name="Other drive", goal=10, deadline=deadline)
    devices, token = {}, ""
    for name, team in (("Ana", "North"), ("Ben", "North"), ("Cleo", "South")):
        # The enrollment code carries the team; the server copies it onto the device.
        enrolled = server.enroll_device(cid, device_name=f"{name} tablet", circulator=name,
                                        team=team)
        devices[name] = enrolled.device_id
        token = token or enrolled.device_token
    now = utcnow()
    with server.db.write() as s:
        s.get(Campaign, cid).settings_json = json.dumps({"stale_after_minutes": stale_after})
        ana, ben = devices["Ana"], devices["Ben"]
        rows = []
        for i in range(8):
            rows.append(_entry(cid, ana, i + 1, "A1" if i < 4 else "A2", i + 1,
                               now - timedelta(minutes=2), now - timedelta(minutes=5)))
        rows.append(_entry(cid, ana, 9, "A2", 20, now - timedelta(minutes=2),
                           now - timedelta(minutes=5), status="duplicate"))
        rows.append(_entry(cid, ana, 10, "A2", 21, now - timedelta(minutes=2),
                           now - timedelta(minutes=5), status="rejected", reason=103))
        for i in range(4):
            rows.append(_entry(cid, ben, i + 1, "B1", i + 1, now - timedelta(days=3),
                               now - timedelta(hours=3)))
        s.add_all(rows)
        s.add(SectionCheckIn(campaign_id=cid, serial="A1", returned_by="Ana", returned_at=now,
                             signed_lines=4, received_by="office", recorded_at=now))
        s.get(Device, ana).last_seen_at = now - timedelta(minutes=4)
        s.get(Device, ana).pending_count = 3
        s.get(Device, ben).last_seen_at = now - timedelta(hours=3)
    return Drive(cid, other, devices, token)


def add_south_entries(server, drive, n: int = 5) -> None:
    """Cleo (South) syncs ``n`` accepted entries: the drive grows, North's figures do not."""
    now = utcnow()
    with server.db.write() as s:
        s.add_all([_entry(drive.campaign_id, drive.devices["Cleo"], i + 1, "C1", i + 1, now, now)
                   for i in range(n)])
