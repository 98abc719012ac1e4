"""README "Running a campaign's server", run as written: its first block in bash (the installed
`canvass-server` on PATH) against a fresh PostgreSQL database, ending in `serve` on a free port;
then a device enrolls with the printed code, the team lead logs in and sees it, and every
command of the second block is one the CLI accepts. The only changes to the README's lines: the
example database URL becomes the test's database and port 8000 a free port."""

from __future__ import annotations

import base64
import json
import re
import shlex
import stat
import subprocess

import httpx
import pytest
from readme_commands import OutputLines, code_blocks, installed_env
from server_helpers import free_port, stop_process

from sync.server.cli import build_parser

SECTION = "Running a campaign's server"
SERVING = "canvass-server: serving on "

pytestmark = pytest.mark.postgres


def _setup_script(pg_url: str, port: int) -> str:
    setup = code_blocks(SECTION)[0]
    assert setup[-1].startswith("canvass-server serve "), "the README's first block ends in serve"
    db_lines = [n for n, line in enumerate(setup) if line.startswith("DB=")]
    assert len(db_lines) == 1, "the README names the database once, as DB=..."
    setup[db_lines[0]] = f"DB={shlex.quote(pg_url)}"
    assert setup[-1].count("--port 8000") == 1
    setup[-1] = setup[-1].replace("--port 8000", f"--port {port}")
    return "\n".join(setup)


def test_readme_production_steps_on_postgresql(pg_url, tmp_path):
    port = free_port()
    proc = subprocess.Popen(["bash", "-euo", "pipefail", "-c", _setup_script(pg_url, port)],
                            cwd=tmp_path, env=installed_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    out = OutputLines(proc)
    try:
        serving = out.wait_for(SERVING, timeout=180)
        assert serving.startswith(f"{SERVING}http://0.0.0.0:{port} (2 workers)")
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/healthz", timeout=10).json() == {"status": "ok"}

        key_file = tmp_path / "canvass-key.json"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        secrets = json.loads(key_file.read_text()).values()
        assert not any(s in line for s in secrets for line in out.lines)  # no key in the output

        codes = [line for line in out.lines if re.fullmatch(r"[A-Z2-9]{10}", line)]
        assert len(codes) == 1, out.lines
        enrolled = httpx.post(f"{base}/v1/devices/enroll", timeout=30,
                              json={"code": codes[0], "device_name": "tablet 1"})
        assert enrolled.status_code == 200, enrolled.text
        device_id = enrolled.json()["device_id"]

        login = httpx.post(f"{base}/v1/auth/login", timeout=30,
                           json={"username": "lead1", "password": "a long passphrase"})
        assert login.status_code == 200, login.text
        seen = httpx.get(f"{base}/v1/dashboard/devices", timeout=30,
                         headers={"Authorization": f"Bearer {login.json()['token']}"})
        assert seen.status_code == 200, seen.text
        rows = seen.json()["rows"]
        assert [(r["device_id"], r["team"], r["circulator"]) for r in rows] == [(device_id, "North", "Ana")]
        assert seen.json()["campaign"]["name"] == "Recall 2027"
    finally:
        stop_process(proc, group=True)
    assert proc.returncode is not None


def test_readme_while_serving_commands_are_ones_the_cli_accepts(capsys):
    blocks = code_blocks(SECTION)
    assert len(blocks) == 2
    values = {"DB": "postgresql+psycopg://canvass@127.0.0.1:5432/canvass", "ID": "c1"}
    for line in blocks[1]:
        words = shlex.split(line, comments=True)
        assert words[0] == "canvass-server"
        words = [w.replace("$DB", values["DB"]).replace("$ID", values["ID"]) for w in words]
        try:
            args = build_parser().parse_args(words[1:])
        except SystemExit as exc:  # `--help` prints and exits 0; a usage error exits 2
            assert exc.code == 0, f"{line!r}: {capsys.readouterr().err}"
            continue
        if args.command == "import-bundle":
            assert args.db == values["DB"] and args.key_file == "canvass-key.json"


def test_keys_new_never_overwrites_and_makes_a_working_key(tmp_path):
    out = tmp_path / "k.json"
    made = subprocess.run(["canvass-server", "keys", "new", "--out", str(out), "--json"],
                          env=installed_env(), capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    body = json.loads(out.read_text())
    assert len(base64.b64decode(body["server_key"])) == 32
    assert json.loads(made.stdout)["server_public_key"]
    before = out.read_bytes()
    again = subprocess.run(["canvass-server", "keys", "new", "--out", str(out)],
                           env=installed_env(), capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "never overwritten" in again.stderr
    assert out.read_bytes() == before
