"""Canvass: the Flet client (circulator app, staff views) and the device's encrypted store."""

import logging

__version__ = "0.1.0"

# Flet's own loggers write every event and patch at DEBUG, with its data: the text of each
# keystroke in a field ("Trigger event TextField.on_change data='Maria'"), a field's new value.
# A device, or the server serving the staff views, run at DEBUG would log what signers wrote
# (found by the tests' log audit when the office keying test typed 20 lines). No level set
# for the app's own loggers changes that: these stay at INFO or above, whatever the root's.
for _name in ("flet_controls", "flet_object_patch", "flet_components", "flet_transport"):
    _logger = logging.getLogger(_name)
    if _logger.level == logging.NOTSET or _logger.level < logging.INFO:
        _logger.setLevel(logging.INFO)
