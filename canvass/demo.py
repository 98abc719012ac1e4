"""`canvass demo` and `canvass app`.

``canvass demo`` starts the central server on its embedded SQLite default in a data directory
(uvicorn in a background thread on 127.0.0.1), creates a demo campaign and a one-time
enrollment code (printed), and serves the circulator app in the browser with the server
address prefilled. ``canvass app --server URL`` serves the app against a real server.
"""

from __future__ import annotations

import argparse
import socket
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from canvass import demo_seed

DEMO_CAMPAIGN = "Demo petition drive"


def free_port(preferred: int = 0) -> int:
    """``preferred`` when it is free, else any free port on 127.0.0.1."""
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise OSError("no free port")


@dataclass
class DemoServer:
    """The central server (sync.server) on a SQLite file, served by uvicorn in a thread.
    ``stop()`` / ``start()`` keep the same port, so a device sees it go offline and come back."""

    data_dir: Path
    port: int = 0
    campaign_id: str = ""
    _thread: Any = field(default=None, repr=False)  # sync.server.threaded.ServerThread

    def __post_init__(self) -> None:
        from sync.server.admin import create_campaign
        from sync.server.config import Settings
        from sync.server.db import Database
        from sync.server.migrate import upgrade_head

        self.data_dir = Path(self.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.db_url = f"sqlite:///{(self.data_dir / 'server.db').resolve()}"
        self.settings = Settings.load(self.db_url)
        upgrade_head(self.db_url)
        self.db = Database(self.db_url)
        marker = self.data_dir / "campaign_id"
        if marker.exists():
            self.campaign_id = marker.read_text().strip()
        else:
            # A small goal 90 days out, so the sample drive's progress reads on the dashboard.
            deadline = (date.today() + timedelta(days=90)).isoformat()
            self.campaign_id = create_campaign(self.db, self.settings.keys, name=DEMO_CAMPAIGN,
                                               goal=1_000, deadline=deadline, actor="demo")
            marker.write_text(self.campaign_id)
        self.port = free_port(self.port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def enroll_code(self, circulator: str = "Demo Circulator") -> str:
        from sync.server.admin import create_enroll_code

        return create_enroll_code(self.db, self.settings.keys, campaign_id=self.campaign_id,
                                  circulator=circulator, actor="demo").code

    def enroll_link(self, code: str) -> str:
        from canvass.state.enrollment import enroll_link

        return enroll_link(self.url, code)

    def start(self) -> DemoServer:
        from sync.server.app import create_app
        from sync.server.threaded import ServerThread

        self._thread = ServerThread(create_app(self.settings), port=self.port).start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop()
            self._thread = None


def serve_app(profile_dir: Path, server_url: str, *, port: int, browser: bool) -> None:
    import flet as ft

    from canvass.app import build_main, shutdown_all

    view = ft.AppView.WEB_BROWSER if browser else None
    print(f"Circulator app: http://127.0.0.1:{port}", flush=True)
    try:
        ft.run(build_main(profile_dir, server_url), view=view, port=port, host="127.0.0.1",
               no_cdn=True, assets_dir=str(Path(__file__).resolve().parent.parent / "assets"))
    finally:
        shutdown_all()


def cmd_demo(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir)
    server = DemoServer(data_dir, port=args.server_port).start()
    code = server.enroll_code()
    print(f"Central server: {server.url}  (data in {data_dir.resolve()})")
    print(f"Enrollment code: {code}")
    print(f"Enrollment link: {server.enroll_link(code)}")
    if args.sample:
        print(f"Sending {args.sample} sample signers from 4 sample devices...", flush=True)
        demo_seed.seed_sample_drive(server, args.sample)
    print(f"Staff views (dashboard, intake): {server.url}/app/   logins kept in "
          f"{(data_dir / demo_seed.LOGINS_FILE).resolve()}:")
    for username, role, password in demo_seed.ensure_staff(server, data_dir):
        print(f"  {role:10s} {username} / {password}")
    profile = Path(args.profile) if args.profile else data_dir / "device"
    try:
        serve_app(profile, server.url, port=args.port, browser=not args.no_browser)
    finally:
        server.stop()
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    serve_app(Path(args.profile), args.server, port=args.port, browser=not args.no_browser)
    return 0


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("demo", help="central server + circulator app in the browser")
    p.add_argument("--no-browser", action="store_true", help="serve without opening a browser")
    p.add_argument("--port", type=int, default=8550, help="port of the app (default 8550)")
    p.add_argument("--server-port", type=int, default=8000,
                   help="port of the central server (default 8000, or a free one)")
    p.add_argument("--data-dir", default="./demo-data", help="server database and device profile")
    p.add_argument("--profile", default=None, help="device profile directory (default DATA_DIR/device)")
    p.add_argument("--sample", type=int, default=300, metavar="N",
                   help="synthetic signers sent from sample devices on first start (default 300; 0 for none)")
    p.set_defaults(func=cmd_demo)

    p = subparsers.add_parser("app", help="the circulator app against a real server")
    p.add_argument("--server", required=True, help="central server URL, e.g. https://canvass.example.org")
    p.add_argument("--profile", default=str(Path.home() / ".canvass" / "profile"),
                   help="device profile directory (holds the encrypted store)")
    p.add_argument("--port", type=int, default=8550)
    p.add_argument("--no-browser", action="store_true")
    p.set_defaults(func=cmd_app)


if __name__ == "__main__":  # pragma: no cover
    from canvass.cli import main

    sys.exit(main(["demo", *sys.argv[1:]]))
