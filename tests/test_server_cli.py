"""`canvass-server` commands as a real process: init, campaign create, user add, enroll-code,
device revoke, serve; JSON output; the key file next to a SQLite database."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import httpx
from cli_helpers import cli
from server_helpers import REPO, free_port, server_keys_for, stop_process, wait_healthy
from sqlalchemy import create_engine, text


def test_cli_workflow_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    init = cli("init", "--db", url, "--json")
    assert init.returncode == 0, init.stderr
    key_file = tmp_path / "c.db.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    keys = server_keys_for(url)
    assert json.loads(init.stdout)["server_public_key"] == keys.box_public_b64

    made = cli("campaign", "create", "--db", url, "--name", "Measure Q", "--goal", "566857",
               "--deadline", "2022-07-06", "--jurisdiction", "los_angeles_county",
               "--validity-rate", "0.726", "--json")
    cid = json.loads(made.stdout)["campaign_id"]
    user = cli("user", "add", "--db", url, "--username", "lead1", "--role", "team_lead",
               "--campaign", cid, "--team", "North", "--json", stdin="s3cret passphrase\n")
    uid = json.loads(user.stdout)["user_id"]
    code = json.loads(cli("enroll-code", "--db", url, "--campaign", cid, "--circulator", "Ann",
                          "--team", "North", "--json").stdout)["code"]
    assert len(code) == 10 and code.isalnum() and not set(code) & set("01OIL")

    engine = create_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users WHERE id = :i"), {"i": uid}).scalar()
        codes = [r[0] for r in conn.execute(text("SELECT code_hash FROM enroll_codes"))]
    engine.dispose()
    assert stored.startswith("$argon2id$") and "s3cret" not in stored
    assert code not in codes and len(codes) == 1
    assert key_file.read_bytes() not in Path(tmp_path / "c.db").read_bytes()

    bad = cli("campaign", "create", "--db", url, "--name", "x", "--goal", "1", "--deadline", "July")
    assert bad.returncode == 2 and "deadline" in bad.stderr

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sync.server.cli", "serve", "--db", url,
                             "--port", str(port)], cwd=REPO)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, proc)
        enrolled = httpx.post(f"{base}/v1/devices/enroll", json={"code": code, "device_name": "p"}).json()
        auth = {"Authorization": f"Bearer {enrolled['device_token']}"}
        assert httpx.get(f"{base}/v1/outcomes", headers=auth).status_code == 200
        engine = create_engine(url)
        with engine.connect() as conn:  # the code's team went onto the device
            team = conn.execute(text("SELECT team FROM devices WHERE id = :i"),
                                {"i": enrolled["device_id"]}).scalar()
        engine.dispose()
        assert team == "North"
        revoked = cli("device", "revoke", "--db", url, "--device", enrolled["device_id"], "--json")
        assert json.loads(revoked.stdout) == {"revoked": enrolled["device_id"]}
        assert httpx.get(f"{base}/v1/outcomes", headers=auth).status_code == 401
    finally:
        stop_process(proc)
