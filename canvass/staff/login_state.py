"""Staff login: a session token from POST /v1/auth/login, kept in memory only (never in a
URL, a log or a file). Messages never repeat what was typed."""

from __future__ import annotations

from dataclasses import dataclass

import requests

from canvass.staff.text import tr
from sync.protocol import LoginResponse

STAFF_ROLES_WITH_DASHBOARD = ("admin", "team_lead")

# The staff app's panels, in navigation order, by role. Exports of signer data are admin-only
# (the server refuses them to every other role as well).
DASHBOARD = "Dashboard"
INTAKE_PANELS = ("Key lines", "Review", "Check-in", "Import")
EXPORT = "Export"
PANELS_BY_ROLE: dict[str, tuple[str, ...]] = {
    "admin": (DASHBOARD, *INTAKE_PANELS, EXPORT),
    "team_lead": (DASHBOARD,),
    "intake": INTAKE_PANELS,
}


def panels_for(role: str) -> tuple[str, ...]:
    """The panels ``role`` may open ("" for an unknown role: nothing)."""
    return PANELS_BY_ROLE.get(role, ())


class LoginError(Exception):
    """A login that did not work; ``str()`` is a message for the person at the screen."""


@dataclass
class StaffLogin:
    server_url: str
    token: str = ""
    role: str = ""
    username: str = ""
    http: requests.Session | None = None

    def __post_init__(self) -> None:
        self.server_url = self.server_url.rstrip("/")
        self.http = self.http or requests.Session()

    @property
    def logged_in(self) -> bool:
        return bool(self.token)

    @property
    def may_see_dashboard(self) -> bool:
        return self.role in STAFF_ROLES_WITH_DASHBOARD

    @property
    def panels(self) -> tuple[str, ...]:
        return panels_for(self.role)

    def login(self, username: str, password: str) -> None:
        if not username.strip() or not password:
            raise LoginError(tr("login.empty"))
        try:
            r = self.http.post(f"{self.server_url}/v1/auth/login", timeout=15,
                               json={"username": username.strip(), "password": password})
        except requests.RequestException:
            raise LoginError(tr("login.unreachable")) from None
        if r.status_code in (401, 422):
            raise LoginError(tr("login.wrong"))
        if r.status_code == 429:
            raise LoginError(tr("login.too_many"))
        if r.status_code != 200:
            raise LoginError(tr("server_error", status=r.status_code))
        body = LoginResponse.model_validate(r.json())
        self.token, self.role, self.username = body.token, body.role, username.strip()

    def logout(self) -> None:
        """End the session on the server (POST /v1/auth/logout: the token is refused from
        then on), then forget it. Blocking: call it from a worker thread in a Flet handler.
        An unreachable server still forgets the token here; the server's idle timeout ends
        the session there."""
        token = self.token
        self.token = self.role = self.username = ""
        if not token:
            return
        try:
            self.http.post(f"{self.server_url}/v1/auth/logout", timeout=15,
                           headers={"Authorization": f"Bearer {token}"})
        except requests.RequestException:
            pass

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}
