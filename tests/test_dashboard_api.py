"""The dashboard API over HTTP on a real server (SQLite and PostgreSQL): figures, team scope,
roles, a device token refused, CSV export."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from dashboard_helpers import add_south_entries, dashboard_server, seed_drive
from sqlalchemy import func, select

from sync.server.config import DEFAULT_TIMEZONE
from sync.server.models import DashboardRollup

ENDPOINTS = ("devices", "progress", "simulation?trials=50", "quality", "export.csv?trials=50")


@pytest.fixture
def drive_server(db_url):
    with dashboard_server(db_url) as server:
        drive = seed_drive(server)
        # pg_url is one database per module: names unique per test.
        tag = uuid.uuid4().hex[:8]
        drive.users = {k: f"{k}-{tag}" for k in ("director", "lead-north", "intake")}
        server.add_user(drive.users["director"], "pw-director-passphrase", role="admin")
        server.add_user(drive.users["lead-north"], "pw-north-passphrase", role="team_lead",
                        campaign_id=drive.campaign_id, team="North")
        server.add_user(drive.users["intake"], "pw-intake-passphrase", role="intake",
                        campaign_id=drive.campaign_id)
        yield server, drive


def _get(server, path, token, **params):
    return httpx.get(f"{server.url}/v1/dashboard/{path}", params=params,
                     headers={"Authorization": f"Bearer {token}"} if token else {})


def test_director_sees_every_device_with_exact_figures(drive_server):
    server, drive = drive_server
    token = server.login(drive.users["director"], "pw-director-passphrase")
    body = _get(server, "devices", token, campaign_id=drive.campaign_id).json()
    assert body["campaign"]["stale_after_minutes"] == 60 and body["teams"] == ["North", "South"]
    rows = {r["circulator"]: r for r in body["rows"]}
    assert set(rows) == {"Ana", "Ben", "Cleo"}
    ana, ben, cleo = rows["Ana"], rows["Ben"], rows["Cleo"]
    assert (ana["entries_total"], ana["entries_today"], ana["pending_reported"]) == (10, 10, 3)
    assert (ana["duplicate_rate"], ana["rejection_rate"], ana["open_sections"]) == (0.1, 0.1, 1)
    assert ana["stale"] is False and ana["team"] == "North"
    assert ben["stale"] is True and ben["entries_total"] == 4 and ben["entries_today"] == 0
    assert ben["minutes_since_sync"] == 180 or ben["minutes_since_sync"] == 181
    assert cleo["stale"] is True and cleo["last_sync"] is None and cleo["entries_total"] == 0
    assert body["stale_count"] == 2
    south = _get(server, "devices", token, campaign_id=drive.campaign_id, team="South").json()
    assert [r["circulator"] for r in south["rows"]] == ["Cleo"]
    by_total = _get(server, "devices", token, campaign_id=drive.campaign_id,
                    sort="entries_total", descending="true").json()
    assert [r["circulator"] for r in by_total["rows"]] == ["Ana", "Ben", "Cleo"]


def test_progress_and_simulation(drive_server):
    server, drive = drive_server
    token = server.login(drive.users["director"], "pw-director-passphrase")
    p = _get(server, "progress", token, campaign_id=drive.campaign_id).json()["progress"]
    assert (p["raw_entries"], p["unique_signers"], p["rejected"], p["duplicates"]) == (14, 12, 1, 1)
    assert p["projected_valid"] == 6 and p["goal"] == 100 and p["remaining"] == 94
    assert p["series"][-1][1] == 6 and len(p["series"]) == 2
    # Days from the campaign's own today (America/Los_Angeles) to the deadline, both counted.
    # The fixture's deadline is 30 days after the UTC date, which runs a day ahead of Los
    # Angeles from midnight UTC until 08:00: then 32 days are left, not 31.
    local_today = datetime.now(ZoneInfo("America/Los_Angeles")).date()
    assert p["today"] == local_today.isoformat()
    assert p["days_left"] == (date.fromisoformat(p["deadline"]) - local_today).days + 1
    sim = _get(server, "simulation", token, campaign_id=drive.campaign_id, trials=50).json()
    sim = sim["simulation"]
    assert sim["sample"] == 14 and sim["trials"] == 50
    assert sim["chances"] == {"certified": 0.0, "full_count": 0.0, "failed": 1.0}
    again = _get(server, "simulation", token, campaign_id=drive.campaign_id, trials=50).json()
    assert again["simulation"] == sim


def test_team_lead_sees_only_their_team(drive_server):
    server, drive = drive_server
    token = server.login(drive.users["lead-north"], "pw-north-passphrase")
    body = _get(server, "devices", token).json()
    assert sorted(r["circulator"] for r in body["rows"]) == ["Ana", "Ben"]
    flags = _get(server, "quality", token).json()
    assert flags["drive_duplicate_rate"] == round(1 / 14, 4)
    assert all(f["team"] == "North" for f in flags["flags"])
    assert _get(server, "devices", token, campaign_id=drive.other_campaign_id).status_code == 403
    assert body["scope"] == {"teams": ["North"]}


def test_team_lead_progress_is_their_teams(drive_server):
    server, drive = drive_server
    add_south_entries(server, drive)
    lead = server.login(drive.users["lead-north"], "pw-north-passphrase")
    director = server.login(drive.users["director"], "pw-director-passphrase")
    north = _get(server, "progress", lead).json()
    drive_wide = _get(server, "progress", director, campaign_id=drive.campaign_id).json()
    assert north["scope"] == {"teams": ["North"]} and drive_wide["scope"] == {"teams": None}
    n, d = north["progress"], drive_wide["progress"]
    assert (n["raw_entries"], n["unique_signers"], n["rejected"]) == (14, 12, 1)
    assert (d["raw_entries"], d["unique_signers"], d["rejected"]) == (19, 17, 1)
    assert n["series"][-1][1] == 6 and n["goal"] == d["goal"] == 100
    sim = _get(server, "simulation", lead, trials=50).json()["simulation"]
    assert sim["sample"] == 14


def test_device_token_intake_role_and_no_token_are_refused(drive_server):
    server, drive = drive_server
    intake = server.login(drive.users["intake"], "pw-intake-passphrase")
    for path in ENDPOINTS:
        device = _get(server, path, drive.device_token)
        assert device.status_code == 403, path
        assert device.headers["content-type"].startswith("application/problem+json")
        assert _get(server, path, intake).status_code == 403, path
        assert _get(server, path, None).status_code == 401, path


def test_csv_export(drive_server):
    server, drive = drive_server
    token = server.login(drive.users["lead-north"], "pw-north-passphrase")
    r = _get(server, "export.csv", token, trials=50)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith('attachment; filename="dashboard-')
    blocks = r.text.split("\r\n\r\n")
    devices = list(csv.DictReader(io.StringIO(next(b for b in blocks if b.startswith("team,")))))
    assert sorted(d["circulator"] for d in devices) == ["Ana", "Ben"]
    assert {d["circulator"]: d["stale"] for d in devices} == {"Ana": "no", "Ben": "yes"}
    assert "projected_valid,6" in r.text


def test_migration_adopts_the_stopgap_circulator_teams(tmp_path):
    """0400 copies the teams of a server that used the dashboard's stopgap table onto its
    devices (by campaign and circulator) and drops the table."""
    from alembic import command
    from sqlalchemy import create_engine, inspect, text

    from sync.server.migrate import alembic_config, upgrade_head

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0300_data_keys")
            conn.execute(text("INSERT INTO campaigns (id, name, goal, deadline, jurisdiction, "
                              "jurisdiction_zips, validity_rate, settings_json, index_key_wrapped,"
                              " index_key_id, created_at) VALUES ('c1', 'x', 10, '2030-01-01', "
                              "'los_angeles_county', '', 0.7, '{}', x'00', 1, CURRENT_TIMESTAMP)"))
            for dev, circ in (("d1", "Ana"), ("d2", "Ben"), ("d3", "Cleo")):
                conn.execute(text("INSERT INTO devices (id, campaign_id, circulator, name, "
                                  "token_hash, enrolled_at, pending_count, last_device_seq, "
                                  "app_version) VALUES (:d, 'c1', :c, 't', :d, CURRENT_TIMESTAMP,"
                                  " 0, 0, '')"), {"d": dev, "c": circ})
            conn.execute(text("CREATE TABLE circulator_teams (campaign_id VARCHAR(36), "
                              "circulator VARCHAR(100), team VARCHAR(100), "
                              "PRIMARY KEY (campaign_id, circulator))"))
            conn.execute(text("INSERT INTO circulator_teams VALUES ('c1', 'Ana', 'North'), "
                              "('c1', 'Ben', 'South'), ('other', 'Cleo', 'West')"))
        upgrade_head(url)
        with engine.connect() as conn:
            teams = dict(conn.execute(text("SELECT id, team FROM devices")).all())
            tables = set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
    assert teams == {"d1": "North", "d2": "South", "d3": ""}
    assert "circulator_teams" not in tables


def test_rollup_stays_exact_through_arrivals_corrections_reviews_and_bursts(db_url):
    """The dashboard's rollup (settled entries) plus the live part give the figures of a full
    scan at every step: after a build, after new arrivals, a correction of a settled entry and
    a review decision, and once those arrivals have settled in turn. A burst split between the
    rollup and the live part is counted whole."""
    from datetime import UTC, datetime, timedelta

    from dashboard_helpers import _entry

    from sync.domain import utcnow
    from sync.reports.quality import quality_flags
    from sync.server import dashboard as q
    from sync.server.models import Entry
    from sync.server.review import emit_outcome

    with dashboard_server(db_url) as server:
        drive = seed_drive(server)
        db, cid = server.db, drive.campaign_id
        ana, ben = drive.devices["Ana"], drive.devices["Ben"]
        now = utcnow()
        window = datetime.fromtimestamp((now.timestamp() - 3600) // 600 * 600, UTC)
        with db.write() as s:  # 10 of Ben's entries in one 10-minute window, settled
            s.add_all(_entry(cid, ben, 100 + i, "B2", i + 1, window + timedelta(seconds=30 * i),
                             now - timedelta(minutes=10)) for i in range(10))
        with db.read() as s:
            info = q.campaign_info(s, cid, timezone=DEFAULT_TIMEZONE)

        def figures(use_rollup: bool, at):
            with db.read() as s:
                q.snapshot(s)
                refs = q.devices_in_scope(s, info, None)
                return (q.device_stats(s, info, refs, at, use_rollup=use_rollup),
                        q.drive_totals(s, info, use_rollup=use_rollup),
                        q.circulator_activity(s, info, refs, use_rollup=use_rollup))

        def by_circulator(fig):
            return {a.circulator: a for a in fig[2]}, {d.circulator: d for d in fig[0]}

        q.refresh_rollup(db, info, now)
        with db.read() as s:
            assert s.scalar(select(func.count()).select_from(DashboardRollup)
                            .where(DashboardRollup.campaign_id == cid)) >= 3
        built = figures(True, now)
        assert built == figures(False, now)
        activity, _ = by_circulator(built)
        assert activity["Ben"].max_in_window == 10 and activity["Ben"].entries == 14

        with db.write() as s:
            # Five more in Ben's window, arriving now (live): the window holds 15.
            s.add_all(_entry(cid, ben, 200 + i, "B2", 20 + i, window + timedelta(seconds=300 + 30 * i),
                             now) for i in range(5))
            # Ana corrects a settled entry (A1 line 1): the old one stops counting.
            old = s.scalar(select(Entry).where(Entry.device_id == ana, Entry.section == "A1",
                                               Entry.line == 1))
            fix = _entry(cid, ana, 11, "A1", 1, now, now)
            fix.supersedes = old.id
            s.add(fix)
            old.superseded_by, old.counted = fix.id, False
            # A reviewer turns one of Ben's settled entries into a duplicate (outcomes feed).
            reviewed = s.scalar(select(Entry).where(Entry.device_id == ben, Entry.section == "B1",
                                                    Entry.line == 2))
            reviewed.status, reviewed.counted = "duplicate", False
            s.flush()
            emit_outcome(s, reviewed)
        q.refresh_rollup(db, info, now)
        later = figures(True, now)
        assert later == figures(False, now)
        activity, stats = by_circulator(later)
        assert activity["Ben"].max_in_window == 15 and activity["Ben"].duplicates == 1
        assert (stats["Ana"].entries_total, stats["Ben"].entries_total) == (10, 19)
        totals = later[1]
        assert (totals.raw, totals.unique, totals.rejected) == (29, 26, 1)
        assert [f.kind for f in quality_flags(later[2]) if f.circulator == "Ben"] == ["burst"]

        # Ten minutes on, the arrivals are settled too (folded into the rollup).
        on = now + timedelta(minutes=10)
        q.refresh_rollup(db, info, on)
        with db.read() as s:
            assert q.settled_before(s, info, True) > now
        assert figures(True, on) == figures(False, on) == later

        # A signer withdraws (EC 11303; sync.server.withdrawals.apply): a settled counted entry
        # stops counting through the outcomes feed; its line stays a raw entry.
        from sync.ids import new_uuid7
        from sync.server import withdrawals
        from sync.server.models import Withdrawal

        with db.write() as s:
            target = s.scalar(select(Entry).where(Entry.device_id == ana, Entry.section == "A1",
                                                  Entry.line == 2))
            w = Withdrawal(id=new_uuid7(), campaign_id=cid, received_at=now, received_via="mail",
                           recorded_by="test", recorded_at=now, state="pending", match="exact",
                           candidates_json="[]", decided_by="")
            s.add(w)
            s.flush()
            assert withdrawals.apply(s, w, target.id, "test", "exact") == [target.id]
        q.refresh_rollup(db, info, on)
        gone = figures(True, on)
        assert gone == figures(False, on)
        assert (gone[1].raw, gone[1].unique, gone[1].withdrawn) == (29, 25, 1)

        token = server.login(*_admin(server))
        flags = _get(server, "quality", token, campaign_id=cid).json()["flags"]
        assert {(f["circulator"], f["kind"], f["value"]) for f in flags} >= {("Ben", "burst", 15.0)}


def _admin(server) -> tuple[str, str]:
    name = f"director-{uuid.uuid4().hex[:8]}"
    server.add_user(name, "pw-director-passphrase", role="admin")
    return name, "pw-director-passphrase"


def test_projected_valid_refined_by_the_voter_file(db_url, tmp_path):
    """With an active voter file the projection counts signers found registered here as valid,
    those registered elsewhere or not found as invalid, and only the unchecked ones at the
    campaign's rate (voters.registrations.registration_summary); without one, unique x rate."""
    from datetime import UTC, datetime, timedelta

    import server_helpers
    from dashboard_helpers import _entry

    from sync.domain import utcnow
    from sync.server.voters.importer import import_voter_file
    from sync.server.voters.registrations import registration_summary
    from sync.voters.columns import ColumnMapping
    from sync.voters.reader import read_voter_file
    from sync.voters.synthetic import write_voter_file

    with dashboard_server(db_url) as server:
        deadline = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
        cid = server.create_campaign(name="Voter drive", goal=100, deadline=deadline,
                                     validity_rate=0.5)
        enrolled = server.enroll_device(cid, circulator="Ana", team="North")
        vf = write_voter_file(tmp_path / "county.csv", 300, seed=9)
        rows = list(read_voter_file(vf.path, ColumnMapping.build()))
        wire = [{k: r.fields[k] for k in ("first_name", "last_name", "street", "unit", "city", "zip")}
                for r in rows[:3]]
        wire[1].update(street="77 Unlikely Way", zip="90012", city="Los Angeles", unit="")
        wire[2].update(first_name="Zzyzx", last_name="Qwertyuiop", unit="")
        entries = [server_helpers.signer(first=f["first_name"], last=f["last_name"],
                                         street=f["street"], city=f["city"], zip=f["zip"],
                                         unit=f["unit"]) for f in wire]
        body = server_helpers.batch_body(entries)
        r = httpx.post(f"{server.url}/v1/entries/batch", json=body,
                       headers=server_helpers.device_headers(enrolled.device_token, body))
        r.raise_for_status()
        assert [x["status"] for x in r.json()["results"]] == ["accepted"] * 3
        token = server.login(*_admin(server))

        def progress():
            return _get(server, "progress", token, campaign_id=cid).json()["progress"]

        before = progress()  # no voter file: 3 unique x 0.5 = 1.5 -> 1
        assert (before["unique_signers"], before["checked"], before["projected_valid"]) == (3, 0, 1)

        result = import_voter_file(server.db, server.keys, cid, vf.path)
        assert result.rematched == {"registered_here": 1, "registered_elsewhere": 1, "not_found": 1}
        now = utcnow()
        with server.db.write() as s:  # three more signers, not matched yet (unknown)
            s.add_all(_entry(cid, enrolled.device_id, 100 + i, "U1", i + 1, now, now)
                      for i in range(3))
        p = progress()
        with server.db.read() as s:
            summary = registration_summary(s, cid)
        assert summary["by_match"] == {"registered_here": 1, "registered_elsewhere": 1,
                                       "not_found": 1, "unknown": 3}
        # 1 registered here + 3 unknown x 0.5 = 2.5 -> 2 (unique x rate alone would say 3).
        assert (p["unique_signers"], p["checked"], p["registered"]) == (6, 3, 1)
        assert p["projected_valid"] == 2 == summary["projected_valid"]
        assert p["effective_validity_rate"] == round(2.5 / 6, 4) and p["remaining"] == 98
        assert p["series"][-1][1] == 2
