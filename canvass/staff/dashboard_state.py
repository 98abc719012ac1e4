"""Dashboard state: fetches the /v1/dashboard figures and keeps the latest good copy. Sorting,
team filter and the circulator search apply to the rows already fetched (no name in a URL)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import requests

from canvass.staff.login_state import StaffLogin
from canvass.staff.text import tr

SORTS = ("team", "circulator", "last_sync", "entries_today", "entries_total", "duplicate_rate",
         "rejection_rate")  # labels: staff.sort.<key>
DESCENDING = {"entries_today", "entries_total", "duplicate_rate", "rejection_rate"}


class DashboardError(Exception):
    pass


@dataclass
class DashboardState:
    login: StaffLogin
    trials: int = 1000
    devices: dict = field(default_factory=dict)
    progress: dict = field(default_factory=dict)
    simulation: dict = field(default_factory=dict)
    quality: dict = field(default_factory=dict)
    filing: dict = field(default_factory=dict)  # /v1/dashboard/filing: what blocks filing
    error: str = ""
    team: str | None = None  # None = every team in view; "" = the devices of no team
    search: str = ""
    sort: str = "team"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _get(self, path: str, **params) -> requests.Response:
        r = self.login.http.get(f"{self.login.server_url}/v1/dashboard/{path}", params=params,
                                headers=self.login.headers(), timeout=60)
        if r.status_code in (401, 403):
            raise DashboardError(tr("dash.session_ended"))
        if r.status_code != 200:
            raise DashboardError(tr("server_error", status=r.status_code))
        return r

    def refresh(self) -> bool:
        """Fetch everything; on failure keep the previous figures and set ``error``."""
        try:
            devices = self._get("devices").json()
            progress = self._get("progress").json()
            quality = self._get("quality").json()
            simulation = self._get("simulation", trials=self.trials).json()
            filing = self._get("filing").json()
        except (requests.RequestException, ValueError):
            self.error = tr("dash.unreachable")
            return False
        except DashboardError as exc:
            self.error = str(exc)
            return False
        with self._lock:
            self.devices, self.progress = devices, progress
            self.quality, self.simulation, self.filing = quality, simulation, filing
            self.error = ""
        return True

    @property
    def computed_at(self) -> str:
        return self.devices.get("computed_at", "")

    @property
    def teams(self) -> list[str]:
        return list(self.devices.get("teams", []))

    def visible_rows(self) -> list[dict]:
        needle = self.search.strip().casefold()
        rows = [r for r in self.devices.get("rows", [])
                if (self.team is None or r["team"] == self.team)
                and (not needle or needle in r["circulator"].casefold()
                     or needle in r["device_name"].casefold())]
        rows.sort(key=lambda r: (r["team"].casefold(), r["circulator"].casefold()))
        if self.sort == "circulator":
            rows.sort(key=lambda r: r["circulator"].casefold())
        elif self.sort == "last_sync":
            rows.sort(key=lambda r: r["last_sync"] or "")
        elif self.sort in DESCENDING:
            rows.sort(key=lambda r: r[self.sort], reverse=True)
        return rows
