"""The dashboard API over HTTP on a real server (SQLite and PostgreSQL): figures, team scope,
roles, a device token refused, CSV export."""

from __future__ import annotations

import csv
import io
import uuid

import httpx
import pytest
from dashboard_helpers import dashboard_server, seed_drive

ENDPOINTS = ("devices", "progress", "simulation?trials=50", "quality", "export.csv?trials=50")


@pytest.fixture
def drive_server(db_url):
    with dashboard_server(db_url) as server:
        drive = seed_drive(server)
        # pg_url is one database per module: names unique per test.
        tag = uuid.uuid4().hex[:8]
        drive.users = {k: f"{k}-{tag}" for k in ("director", "lead-north", "intake")}
        server.add_user(drive.users["director"], "pw-director", role="admin")
        server.add_user(drive.users["lead-north"], "pw-north", role="team_lead",
                        campaign_id=drive.campaign_id, team="North")
        server.add_user(drive.users["intake"], "pw-intake", role="intake",
                        campaign_id=drive.campaign_id)
        yield server, drive


def _get(server, path, token, **params):
    return httpx.get(f"{server.url}/v1/dashboard/{path}", params=params,
                     headers={"Authorization": f"Bearer {token}"} if token else {})


def test_director_sees_every_device_with_exact_figures(drive_server):
    server, drive = drive_server
    token = server.login(drive.users["director"], "pw-director")
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
    token = server.login(drive.users["director"], "pw-director")
    p = _get(server, "progress", token, campaign_id=drive.campaign_id).json()["progress"]
    assert (p["raw_entries"], p["unique_signers"], p["rejected"], p["duplicates"]) == (14, 12, 1, 1)
    assert p["projected_valid"] == 6 and p["goal"] == 100 and p["remaining"] == 94
    assert p["series"][-1][1] == 6 and len(p["series"]) == 2
    assert p["days_left"] in (30, 31)
    sim = _get(server, "simulation", token, campaign_id=drive.campaign_id, trials=50).json()
    sim = sim["simulation"]
    assert sim["sample"] == 14 and sim["trials"] == 50
    assert sim["chances"] == {"certified": 0.0, "full_count": 0.0, "failed": 1.0}
    again = _get(server, "simulation", token, campaign_id=drive.campaign_id, trials=50).json()
    assert again["simulation"] == sim


def test_team_lead_sees_only_their_team(drive_server):
    server, drive = drive_server
    token = server.login(drive.users["lead-north"], "pw-north")
    body = _get(server, "devices", token).json()
    assert sorted(r["circulator"] for r in body["rows"]) == ["Ana", "Ben"]
    flags = _get(server, "quality", token).json()
    assert flags["drive_duplicate_rate"] == round(1 / 14, 4)
    assert all(f["team"] == "North" for f in flags["flags"])
    assert _get(server, "devices", token, campaign_id=drive.other_campaign_id).status_code == 403
    # The drive's progress is the campaign's, the same for the director.
    assert _get(server, "progress", token).json()["progress"]["projected_valid"] == 6


def test_device_token_intake_role_and_no_token_are_refused(drive_server):
    server, drive = drive_server
    intake = server.login(drive.users["intake"], "pw-intake")
    for path in ENDPOINTS:
        device = _get(server, path, drive.device_token)
        assert device.status_code == 403, path
        assert device.headers["content-type"].startswith("application/problem+json")
        assert _get(server, path, intake).status_code == 403, path
        assert _get(server, path, None).status_code == 401, path


def test_csv_export(drive_server):
    server, drive = drive_server
    token = server.login(drive.users["lead-north"], "pw-north")
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
