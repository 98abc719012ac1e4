"""README "Set-up": `canvass demo --no-browser` as the installed command, from an empty
directory. It must send its sample drive (Faker's synthetic signers), print its addresses and
serve both: a package the README's install leaves out fails here."""

from __future__ import annotations

import re
import subprocess

import httpx
from readme_commands import OutputLines, code_blocks, installed_env
from server_helpers import free_port, stop_process, wait_healthy


def test_readme_demo_command_installs_what_the_demo_needs():
    install, = [line for block in code_blocks("Set-up (fresh machine, Python 3.11+)") for line in block
                if "canvass demo" in line]
    assert install == 'python3 -m pip install -c constraints.txt -e ".[demo]" && canvass demo'


def test_demo_starts_sends_its_sample_and_serves(tmp_path):
    app_port, server_port = free_port(), free_port()
    proc = subprocess.Popen(["canvass", "demo", "--no-browser", "--port", str(app_port),
                             "--server-port", str(server_port)],
                            cwd=tmp_path, env=installed_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    out = OutputLines(proc)
    try:
        app = out.wait_for("Circulator app: ", timeout=240)
        server = re.match(r"Central server: (\S+)", out.wait_for("Central server: ", timeout=1))
        assert server and server[1] == f"http://127.0.0.1:{server_port}"
        assert app == f"Circulator app: http://127.0.0.1:{app_port}"
        assert httpx.get(f"{server[1]}/healthz", timeout=10).json() == {"status": "ok"}
        assert (tmp_path / "demo-data" / "staff-logins.txt").exists()
        assert any(line.startswith("Sending 300 sample signers") for line in out.lines)
        assert not any("Traceback" in line for line in out.lines), "\n".join(out.lines)
        # The app's own server answers too (Flet serves its web client once it is up).
        wait_healthy(f"http://127.0.0.1:{app_port}", proc, path="/", limit=120)
    finally:
        stop_process(proc, group=True, timeout=20)
