"""Flet's web client with no request off the server: the Rive runtime served locally.

flet-web 1.0.5's compiled client (main.dart.js, and main.dart.wasm for the WebAssembly build)
loads ``rive_native.js`` from a public CDN at start-up, whatever ``no_cdn`` says: the CDN base
is a constant compiled into the Rive plugin, and flet-web ships no copy of those files. The
staff app draws no Rive animation, but the request still leaves the office network (and fails
when it is down). So the server hands out the two entry files with that base replaced by the
same-length relative path ``././…/rive-wasm/`` (same length, so the wasm binary's data segment stays
valid), which the browser resolves under the app's own path, and serves ``rive-wasm/`` from
RIVE_DIR when it holds the files (scripts/fetch_rive_wasm.sh puts the pinned npm package
there); without them the request gets a 404 from this server, never a trip outside."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

RIVE_CDN = b"https://cdn.jsdelivr.net/npm/@rive-app/flutter-native-wasm@44.0.0/"
ENTRY_FILES = {"main.dart.js": "application/javascript", "main.dart.wasm": "application/wasm"}
RIVE_DIR = Path(os.environ.get("CANVASS_RIVE_DIR")
                or Path(__file__).resolve().parents[2] / "assets" / "web" / "rive")


def local_rive_base() -> bytes:
    """A relative URL as long as RIVE_CDN that names ``rive-wasm/`` beside the entry file."""
    tail = b"rive-wasm/"
    pad = len(RIVE_CDN) - len(tail)
    assert pad % 2 == 0, "the CDN base's length leaves no whole ./ padding"
    return b"./" * (pad // 2) + tail


@cache
def patched_entry(name: str) -> bytes:
    import flet_web

    data = (Path(flet_web.__file__).parent / "web" / name).read_bytes()
    return data.replace(RIVE_CDN, local_rive_base())


def serve_local_web_assets(app: Any, path: str) -> None:
    """Routes on ``app`` for ``path``/main.dart.* (patched) and ``path``/rive-wasm/; call before
    mounting the Flet app at ``path`` so these match first."""
    from fastapi.responses import Response
    from fastapi.staticfiles import StaticFiles

    def route(name: str, media: str):
        # No parameters: nothing in the request chooses the file read.
        def entry() -> Response:
            return Response(patched_entry(name), media_type=media)
        return entry

    for name, media in ENTRY_FILES.items():
        app.add_api_route(f"{path}/{name}", route(name, media), methods=["GET"],
                          include_in_schema=False)
    if RIVE_DIR.is_dir():
        app.mount(f"{path}/rive-wasm", StaticFiles(directory=str(RIVE_DIR)), name="staff-rive")
