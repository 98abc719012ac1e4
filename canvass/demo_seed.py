"""Sample data for `canvass demo`: staff logins and a small synthetic drive, so the staff
dashboard and the review queue show something on first start.

Everything goes through the real server: staff users through the admin functions the
`canvass-server user add` command uses, the sample signers through enrollment and
POST /v1/entries/batch over HTTP, deduplicated like any device's entries.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from sync.ids import new_uuid7
from sync.protocol import IDEMPOTENCY_HEADER, PROTOCOL_VERSION, BatchRequest, EntryWire
from sync.synthetic import generate_drive

# (username, role, team): a director, a team lead and an office clerk.
DEMO_STAFF = (("director", "admin", ""), ("lead", "team_lead", "North"), ("office", "intake", ""))
SAMPLE_TEAMS = ("North", "South")
LOGINS_FILE = "staff-logins.txt"


def ensure_staff(server, data_dir: Path) -> list[tuple[str, str, str]]:
    """Create the demo staff once (random passwords kept in DATA_DIR/staff-logins.txt, 0600)
    and return (username, role, password) for each."""
    from sync.server.admin import add_user

    path = Path(data_dir) / LOGINS_FILE
    if path.exists():
        return [tuple(line.split("\t")) for line in path.read_text().splitlines() if line]
    logins = []
    for username, role, team in DEMO_STAFF:
        password = secrets.token_urlsafe(9)
        add_user(server.db, username=username, password=password, role=role,
                 campaign_id=server.campaign_id, team=team, actor="demo")
        logins.append((username, role, password))
    path.write_text("".join("\t".join(row) + "\n" for row in logins))
    path.chmod(0o600)
    return logins


def seed_sample_drive(server, n_entries: int, *, seed: int = 7) -> int:
    """Send ``n_entries`` synthetic signers (6% repeats) from sample devices, captured over the
    last ten days. Returns how many were sent. Runs once per data directory."""
    marker = Path(server.data_dir) / "sample-drive"
    if n_entries <= 0 or marker.exists():
        return 0
    drive = generate_drive(n_entries, seed=seed, circulators=4)
    by_circulator: dict[int, list] = defaultdict(list)
    for entry in drive.entries:
        by_circulator[entry.circulator].append(entry)
    start = datetime.now(UTC) - timedelta(days=10)
    step = timedelta(days=10) / max(1, n_entries)
    for circulator, entries in by_circulator.items():
        team = SAMPLE_TEAMS[circulator % len(SAMPLE_TEAMS)]
        token = _enroll(server, f"Sample circulator {circulator + 1}", team)
        section = f"S-{circulator + 1:03d}"
        wires = [EntryWire(entry_id=new_uuid7(), device_seq=i + 1, section=section, line=i + 1,
                           captured_at=start + step * e.index, **e.fields)
                 for i, e in enumerate(entries)]
        for i in range(0, len(wires), 500):
            _send(server, token, wires[i:i + 500])
    marker.write_text(str(n_entries))
    return n_entries


def _enroll(server, circulator: str, team: str) -> str:
    from sync.server.admin import create_enroll_code

    code = create_enroll_code(server.db, server.settings.keys, campaign_id=server.campaign_id,
                              circulator=circulator, team=team, actor="demo").code
    answer = requests.post(f"{server.url}/v1/devices/enroll",
                           json={"code": code, "device_name": "sample tablet"}, timeout=30)
    answer.raise_for_status()
    return answer.json()["device_token"]


def _send(server, token: str, wires: list[EntryWire]) -> None:
    batch = BatchRequest(protocol_version=PROTOCOL_VERSION, batch_id=new_uuid7(), entries=wires)
    answer = requests.post(f"{server.url}/v1/entries/batch", data=batch.model_dump_json(),
                           headers={"Authorization": f"Bearer {token}", IDEMPOTENCY_HEADER: batch.batch_id,
                                    "Content-Type": "application/json"}, timeout=120)
    answer.raise_for_status()
