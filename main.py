"""The circulator app on a phone or tablet: the entry `flet build apk|ipa` packages
([tool.flet.app] in pyproject.toml: the repository root is the app folder, this is its module).

The profile (the device's encrypted store) lives in the app's private storage, which the
platform names in FLET_APP_STORAGE_DATA; the server address comes from the enrollment link
(or is typed on the enroll screen). CANVASS_SERVER_URL may prefill it for a test build."""

from __future__ import annotations

import os
from pathlib import Path

import flet as ft

from canvass.app import build_main


def profile_dir() -> Path:
    base = os.environ.get("FLET_APP_STORAGE_DATA") or os.path.expanduser("~/.canvass")
    return Path(base) / "profile"


if __name__ == "__main__":
    ft.run(build_main(profile_dir(), os.environ.get("CANVASS_SERVER_URL", "")))
