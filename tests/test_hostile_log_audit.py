"""The log audit plugin (tests/log_audit_plugin.py) finds what it looks for: a positive
control, so a clean session report means "not logged", not "not looked at"."""

from __future__ import annotations

import logging

import log_audit_plugin


def test_sentinels_come_from_the_signer_factories():
    strings = log_audit_plugin.sentinels()
    assert {"Lopez", "123 North Main Street", "Xylophonia", "Wanderlust"} <= set(strings)


def test_scan_reports_line_and_logger_of_a_leak(tmp_path):
    path = tmp_path / "audit.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    log = logging.getLogger("canvass.audit-probe")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    # Keep the planted leak out of the session's own audit log (the root handler), which would
    # otherwise rightly fail the whole session.
    log.propagate = False
    try:
        log.debug("nothing personal here")
        log.debug("saved entry for %s", "Xylophonia")
    finally:
        log.propagate = True
        log.removeHandler(handler)
        handler.close()
    assert log_audit_plugin.scan(path, ["Xylophonia", "Wanderlust"]) == {
        "Xylophonia": (2, "canvass.audit-probe")}
