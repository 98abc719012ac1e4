"""Entry for `flet build apk|ipa`: the app with its profile in the app's private storage.

The server address comes from the enrollment link (or is typed on the enroll screen)."""

from __future__ import annotations

import os
from pathlib import Path

import flet as ft

from canvass.app import build_main


def _profile_dir() -> Path:
    base = os.environ.get("FLET_APP_STORAGE_DATA") or os.path.expanduser("~/.canvass")
    return Path(base) / "profile"


if __name__ == "__main__":
    ft.run(build_main(_profile_dir(), os.environ.get("CANVASS_SERVER_URL", "")))
