"""The README's shell blocks, read from README.md itself, so the tests run what a reader runs."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def code_blocks(section: str) -> list[list[str]]:
    """The indented (4-space) code blocks under the ``## section`` heading, as lines."""
    text = README.read_text()
    start = text.index(f"## {section}\n")
    end = text.find("\n## ", start + 1)
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in text[start:end if end != -1 else None].splitlines():
        if line.startswith("    "):
            current.append(line[4:])
        elif current and line.strip():
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def installed_env(**extra: str) -> dict[str, str]:
    """The environment of a person who installed Canvass into this interpreter's environment:
    its bin directory (`canvass`, `canvass-server`) first on PATH, nothing else put on
    PYTHONPATH, so a package only the repository checkout would provide is missed."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return {**env, **extra}


class OutputLines:
    """The merged output of a child process, line by line, read in a thread (never blocks the
    test on a pipe), with a wait for a line that starts with a given text."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._new: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            self.lines.append(line)
            self._new.put(line)

    def wait_for(self, prefix: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        seen = [line for line in self.lines if line.startswith(prefix)]
        while not seen:
            left = deadline - time.monotonic()
            if left <= 0 or (self.proc.poll() is not None and self._new.empty()):
                raise AssertionError(f"no line starting {prefix!r}; the output was:\n"
                                     + "\n".join(self.lines[-40:]))
            try:
                line = self._new.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if line.startswith(prefix):
                return line
        return seen[0]
