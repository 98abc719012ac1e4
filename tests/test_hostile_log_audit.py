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


def test_flet_event_logs_carry_no_typed_text_even_at_debug():
    """Flet logs each event with its data at DEBUG (a keystroke's text in a field); the apps
    keep Flet's loggers at INFO, so a process run at DEBUG logs no signer's writing."""
    import logging

    import canvass  # noqa: F401 - sets Flet's loggers' levels

    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    root, handler = logging.getLogger(), Keep(level=logging.DEBUG)
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        for name in ("flet_controls", "flet_object_patch", "flet_components", "flet_transport"):
            logging.getLogger(name).debug("Trigger event TextField.on_change data='Zebulon'")
        logging.getLogger("flet_controls").info("a session started")  # INFO still gets through
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    assert seen == ["a session started"]
