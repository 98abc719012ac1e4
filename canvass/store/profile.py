"""Where a device profile keeps its store: the one file name the app and the support
commands (`canvass status|sync|export-pending --profile DIR`) both open."""

from __future__ import annotations

from pathlib import Path

STORE_FILE = "device.sqlite"


def store_path(profile_dir: str | Path) -> Path:
    return Path(profile_dir) / STORE_FILE
