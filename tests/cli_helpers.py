"""The two commands as child processes, the one way the tests run them: ``canvass`` (the
device's support command, canvass.cli) and ``cli`` (``canvass-server``, sync.server.cli)."""

from __future__ import annotations

import os
import subprocess
import sys

from fault_layer import REPO_ROOT, TEST_PIN


def canvass(*args, pin: str | None = TEST_PIN, stdin: str | None = None):
    env = {k: v for k, v in os.environ.items() if k != "CANVASS_PIN"}
    env["PYTHONPATH"] = str(REPO_ROOT)
    if pin is not None:
        env["CANVASS_PIN"] = pin
    return subprocess.run([sys.executable, "-m", "canvass.cli", *args], env=env, cwd=str(REPO_ROOT),
                          input=stdin, capture_output=True, text=True, timeout=120)


def cli(*args: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sync.server.cli", *args], input=stdin, text=True,
                          capture_output=True, cwd=REPO_ROOT, env={**os.environ, **(env or {})}, timeout=120)
