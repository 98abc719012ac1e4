"""A pytest plugin: log everything at DEBUG for the whole session, then fail the session if a
seeded personal string (a test signer's name, street, phone, email) shows up in any log line.

Enable it from tests/conftest.py::

    pytest_plugins = ["log_audit_plugin"]

What it captures: every logger of this process (root at DEBUG, so canvass.*, uvicorn.* of
servers run in a thread, httpx, ...) and SQLAlchemy's engine at INFO (statements and bound
parameters: where plaintext would leak into a log). Rows (SQLAlchemy DEBUG) are left out: they
come back from the database encrypted, and they would multiply the log size. Set
CANVASS_LOG_AUDIT=0 to switch the plugin off, CANVASS_LOG_AUDIT_SQL=0 to leave out SQL.

Servers started as child processes (`canvass-server serve`) log to their own stderr, which
this plugin does not read.

The sentinel strings come from the test helpers' signer factories (see ``sentinels()``); each
is distinctive enough that it cannot appear in a log by chance.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import tempfile
from pathlib import Path

import pytest

_STATE: dict = {}
_FORMAT = "%(name)s %(levelname)s %(message)s"


def sentinels() -> list[str]:
    """Personal strings seeded by the tests' factories, collected from the helper modules."""
    found: set[str] = set()

    def take(module: str, getter) -> None:
        try:
            found.update(v for v in getter(importlib.import_module(module)) if isinstance(v, str))
        except Exception:  # a helper module renamed or absent: its sentinels are skipped
            pass

    def signer_defaults(mod):
        params = inspect.signature(mod.signer).parameters
        return [params[name].default for name in ("first", "last", "street")]

    take("server_helpers", signer_defaults)
    take("test_server_bad_input", lambda m: [m.SECRET_NAME])
    take("test_server_dump", lambda m: [*m.NAMES, m.STREET_WORD, "213-555-0147", "zebulon@example.org"])
    take("test_store_raw_bytes", lambda m: [s for s in m.SECRET_STRINGS if s not in {"Pasadena", "Glendale",
                                                                                       "Whittier"}])
    take("helpers_store", lambda m: ["Test Street"])
    take("test_hostile_input", lambda m: ["Hostile Avenue", "Owner Street"])
    take("test_key_rotation", lambda m: ["Rotation Way", "Busy Street", "Index Road"])
    take("test_revocation", lambda m: ["Revokefirst", "Revokelast", "Beforerevoke", "Afterrevoke"])
    return sorted(s for s in found if len(s) >= 5)


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("CANVASS_LOG_AUDIT", "1") == "0" or hasattr(config, "workerinput"):
        return
    fd, name = tempfile.mkstemp(prefix="canvass-log-audit-", suffix=".log")
    os.close(fd)
    handler = logging.FileHandler(name, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter(_FORMAT))
    root = logging.getLogger()
    _STATE.update(path=Path(name), handler=handler, root_level=root.level)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    sql = logging.getLogger("sqlalchemy.engine")
    _STATE["sql_level"] = sql.level
    sql.setLevel(logging.INFO if os.environ.get("CANVASS_LOG_AUDIT_SQL", "1") != "0" else logging.WARNING)
    for noisy in ("asyncio", "hpack", "urllib3.connectionpool", "filelock", "PIL"):
        logging.getLogger(noisy).setLevel(logging.INFO)


def scan(path: Path, strings: list[str]) -> dict[str, tuple[int, str]]:
    """sentinel -> (first line number, logger name) for every sentinel found in the log."""
    hits: dict[str, tuple[int, str]] = {}
    with path.open(encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, 1):
            for text in strings:
                if text not in hits and text in line:
                    hits[text] = (number, line.split(" ", 1)[0])
    return hits


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    handler = _STATE.pop("handler", None)
    if handler is None:
        return
    root = logging.getLogger()
    root.removeHandler(handler)
    root.setLevel(_STATE.get("root_level", logging.WARNING))
    logging.getLogger("sqlalchemy.engine").setLevel(_STATE.get("sql_level", logging.NOTSET))
    handler.close()
    path: Path = _STATE["path"]
    strings = sentinels()
    hits = scan(path, strings)
    size = path.stat().st_size
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if hits:
        # Only the sentinel, line number and logger: never the log line itself.
        lines = [f"  {text!r} at line {number} (logger {logger})"
                 for text, (number, logger) in sorted(hits.items())]
        message = (f"log audit: personal test data found in the DEBUG log ({path}, {size} bytes):\n"
                   + "\n".join(lines))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        _STATE["result"] = ("failed", hits)
    else:
        message = f"log audit: {len(strings)} sentinel strings, none in {size} bytes of DEBUG log"
        path.unlink(missing_ok=True)
        _STATE["result"] = ("clean", {})
    if reporter is not None:
        reporter.write_line(message, red=bool(hits), green=not hits)
