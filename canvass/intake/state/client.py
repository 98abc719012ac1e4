"""The intake panels' HTTP client: one staff session, fixed error texts (never a server
body, which could echo a signer's data)."""

from __future__ import annotations

import requests

from canvass.staff.text import tr
from sync.client import problem_code_of

TIMEOUT = 60.0  # seconds to connect, and between bytes of the answer (an import's upload)


class IntakeError(Exception):
    """A refused or failed request; ``str()`` is safe to show."""

    def __init__(self, text: str, status: int = 0) -> None:
        super().__init__(text)
        self.status = status


class IntakeClient:
    """HTTP calls of the intake panels with the staff session of the one staff login
    (canvass.staff.login_state.StaffLogin); this client never logs in by itself. ``http`` is
    the login's requests.Session when the staff app makes it (one connection pool a tab),
    else a session of its own: the staff app, like the device's sync client, speaks HTTP
    through requests only (tests/test_import_closure.py)."""

    def __init__(self, server_url: str, token: str = "", role: str = "",
                 http: requests.Session | None = None) -> None:
        self.server_url = server_url.rstrip("/")
        self.token = token
        self.role = role
        self.http = http or requests.Session()

    def request(self, method: str, path: str, **kw) -> requests.Response:
        try:
            # No redirect is followed: the bearer token goes to the server's own paths only.
            r = self.http.request(method, f"{self.server_url}{path}", timeout=TIMEOUT,
                                  allow_redirects=False,
                                  headers={"Authorization": f"Bearer {self.token}"}, **kw)
        except requests.RequestException:
            raise IntakeError(tr("intake.err.unreachable")) from None
        if r.status_code == 403:
            raise IntakeError(tr("intake.err.forbidden"), 403)
        if r.status_code == 401:
            raise IntakeError(tr("intake.err.session"), 401)
        if r.status_code >= 400:
            code = problem_code_of(r) or ""
            raise IntakeError(tr("intake.err.refused", status=f"{r.status_code} {code}".strip()),
                              r.status_code)
        return r

