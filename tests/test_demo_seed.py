"""`canvass demo` sample data: staff logins that work, and a sample drive sent through the real
server over HTTP, once per data directory."""

from __future__ import annotations

import stat

import requests
from sqlalchemy import func, select

from canvass import demo_seed
from canvass.demo import DemoServer
from sync.server.models import Device, Entry


def test_demo_staff_and_sample_drive(tmp_path):
    server = DemoServer(tmp_path / "demo").start()
    try:
        logins = demo_seed.ensure_staff(server, server.data_dir)
        assert [(u, r) for u, r, _ in logins] == [("director", "admin"), ("lead", "team_lead"),
                                                  ("office", "intake")]
        logins_file = server.data_dir / demo_seed.LOGINS_FILE
        assert stat.S_IMODE(logins_file.stat().st_mode) == 0o600
        for username, role, password in logins:
            answer = requests.post(f"{server.url}/v1/auth/login",
                                   json={"username": username, "password": password}, timeout=30)
            assert answer.status_code == 200 and answer.json()["role"] == role
        # A second start keeps the same logins instead of adding users.
        assert demo_seed.ensure_staff(server, server.data_dir) == logins

        assert demo_seed.seed_sample_drive(server, 120) == 120
        assert demo_seed.seed_sample_drive(server, 120) == 0  # once per data directory
        with server.db.read() as s:
            statuses = dict(s.execute(select(Entry.status, func.count()).group_by(Entry.status)).all())
            teams = set(s.scalars(select(Device.team)))
        assert sum(statuses.values()) == 120
        assert statuses.get("accepted", 0) >= 100  # ~6% of the sample are repeat signers
        assert statuses.get("duplicate", 0) + statuses.get("possible_duplicate", 0) >= 1
        assert {"North", "South"} <= teams
    finally:
        server.stop()
