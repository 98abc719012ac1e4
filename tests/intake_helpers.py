"""The office for intake tests: a real server with the intake routes, a campaign with its
staff and one enrolled device (Office), the signers and spreadsheets they key and import.

    with intake_server(db_url) as server:
        office = Office(server)

The ``office`` fixture (tests/conftest.py) is one on SQLite and PostgreSQL (db_url)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import server_helpers

PASSWORD = "correct horse battery staple"
FULL_DECLARATION = ["circulator_name", "residence_address", "dates_gathered", "signature",
                    "date_and_place"]


@contextmanager
def intake_server(db_url: str, *, staff_web: bool = False) -> Iterator[server_helpers.ServerHandle]:
    """The real server (create_app includes the intake routers)."""
    with server_helpers.running_server(db_url, staff_web=staff_web) as server:
        yield server


class Office:
    """A campaign with an admin, an intake clerk, a team lead and one enrolled device."""

    def __init__(self, server: server_helpers.ServerHandle) -> None:
        self.server = server
        self.url = server.url
        self.cid = server.create_campaign(deadline="2030-12-31")
        tag = self.cid[-8:]
        server.add_user(f"admin-{tag}", PASSWORD, "admin", self.cid)
        server.add_user(f"clerk-{tag}", PASSWORD, "intake", self.cid)
        server.add_user(f"lead-{tag}", PASSWORD, "team_lead", self.cid)
        self.admin = {"Authorization": "Bearer " + server.login(f"admin-{tag}", PASSWORD)}
        self.clerk = {"Authorization": "Bearer " + server.login(f"clerk-{tag}", PASSWORD)}
        self.lead = {"Authorization": "Bearer " + server.login(f"lead-{tag}", PASSWORD)}
        enrolled = server.enroll_device(self.cid)
        self.device_id = enrolled.device_id
        self.device = {"Authorization": f"Bearer {enrolled.device_token}"}
        self.seq = 0

    def push(self, *entries) -> list[dict]:
        fixed = []
        for e in entries:
            self.seq += 1
            fixed.append(e.with_changes(device_seq=self.seq))
        body = server_helpers.batch_body(fixed)
        r = httpx.post(f"{self.url}/v1/entries/batch", json=body,
                       headers=server_helpers.device_headers(self.device["Authorization"][7:], body))
        assert r.status_code == 200, r.text
        return r.json()["results"]

    def get(self, path: str, who: dict, **kw) -> httpx.Response:
        return httpx.get(f"{self.url}/v1/intake{path}", headers=who, timeout=60, **kw)

    def post(self, path: str, who: dict, **kw) -> httpx.Response:
        return httpx.post(f"{self.url}/v1/intake{path}", headers=who, timeout=120, **kw)


def signer(section: str, line: int, n: int = 0, **kw):
    values = dict(first="Maria", last="Lopez", street=f"{100 + n} North Main Street")
    values.update(kw)
    return server_helpers.signer(section=section, line=line, **values)


def import_csv(rows: int, bad_every: int, section_size: int = 400) -> tuple[bytes, set[int]]:
    from fault_layer import pronounceable

    zips = ["90012", "90001", "90004", "90026", "90027", "90028", "90029", "90031", "90032", "90033"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Section #", "Line #", "First Name", "Last Name", "Residence Address", "City",
                     "ZIP", "Date Signed"])
    bad: set[int] = set()
    for n in range(rows):
        zip_code = zips[n % len(zips)]
        if bad_every and n % bad_every == bad_every - 1:
            zip_code = "9001"  # a malformed ZIP: rejected before the server
            bad.add(n + 1)
        writer.writerow([f"IM{n // section_size:04d}", n % section_size + 1,
                         pronounceable(n * 7 + 3), pronounceable(n * 13 + 5, 5),
                         f"{100 + n} {pronounceable(n, 3)} St", "Los Angeles", zip_code, "3/14/2026"])
    return buffer.getvalue().encode(), bad


DRIVE_PEOPLE = [("Amara", "Okafor"), ("Bruno", "Silva"), ("Chen", "Wei"), ("Dalia", "Haddad"),
                ("Emil", "Novak"), ("Farah", "Qureshi")]


def drive_csv() -> bytes:
    """The browser import's file: six signers of section BI1, row 4 with a 4-digit ZIP."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Booklet No", "Line #", "First Name", "Last Name", "Residence Address", "City",
                     "ZIP"])
    for n, (first, last) in enumerate(DRIVE_PEOPLE, start=1):
        writer.writerow(["BI1", n, first, last, f"{300 + n} West Olive Avenue", "Los Angeles",
                         "9001" if n == 4 else "90012"])  # row 4: a 4-digit ZIP
    return out.getvalue().encode()
