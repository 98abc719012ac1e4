"""Plain-Python state of the office intake screens (no Flet): an HTTP client for /v1/intake and
/v1/review, the keying form, the review queue and the export.

Every network call is synchronous; views run them in a worker thread. Errors shown to staff
are fixed texts (never a server body, which could echo a signer's data)."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from sync.domain import SignerEntry
from sync.messages import message
from sync.validation import validate_entry

TIMEOUT = 60.0


class IntakeError(Exception):
    """A refused or failed request; ``str()`` is safe to show."""

    def __init__(self, text: str, status: int = 0) -> None:
        super().__init__(text)
        self.status = status


class IntakeClient:
    """HTTP calls of the intake panels with the staff session of the one staff login
    (canvass.staff.login_state.StaffLogin); this client never logs in by itself."""

    def __init__(self, server_url: str, token: str = "", role: str = "") -> None:
        self.server_url = server_url.rstrip("/")
        self.token = token
        self.role = role

    def request(self, method: str, path: str, **kw) -> httpx.Response:
        try:
            r = httpx.request(method, f"{self.server_url}{path}", timeout=TIMEOUT,
                              headers={"Authorization": f"Bearer {self.token}"}, **kw)
        except httpx.HTTPError:
            raise IntakeError("The server cannot be reached.") from None
        if r.status_code == 403:
            raise IntakeError("Your role may not do this.", 403)
        if r.status_code == 401:
            raise IntakeError("Your session ended: log in again.", 401)
        if r.status_code >= 400:
            code = ""
            try:
                code = r.json().get("code") or ""
            except ValueError:
                pass
            raise IntakeError(f"The server refused the request ({r.status_code} {code}).".strip(),
                              r.status_code)
        return r


# --------------------------------------------------------------------------------------------
# Keying form

FORM_FIELDS: tuple[tuple[str, str], ...] = (
    ("section", "Section"),
    ("line", "Line"),
    ("first_name", "First name"),
    ("middle_name", "Middle name"),
    ("last_name", "Last name"),
    ("suffix", "Suffix"),
    ("street", "Street address"),
    ("unit", "Apt or unit"),
    ("city", "City"),
    ("zip", "ZIP"),
    ("phone", "Phone"),
    ("email", "Email"),
)
ADDRESS_FIELDS = ("street", "unit", "city", "zip")
KEEP_AFTER_SAVE = ("section",)


@dataclass
class SavedLine:
    section: str
    line: int
    status: str
    field: str | None = None
    reason: str | None = None


class KeyingForm:
    """The keyed paper line: values, instant field errors, save, next line, same address."""

    def __init__(self, client: IntakeClient) -> None:
        self.client = client
        self.values: dict[str, str] = {name: "" for name, _label in FORM_FIELDS}
        self.values["line"] = "1"
        self.previous_address: dict[str, str] = {}
        self.same_address = False
        self.history: list[SavedLine] = []

    def _entry(self) -> SignerEntry:
        v = self.values
        try:
            line = int(v["line"])
        except ValueError:
            line = 0
        return SignerEntry(section=v["section"].strip().upper(), line=line,
                           **{k: v[k].strip() for k, _l in FORM_FIELDS if k not in ("section", "line")})

    def errors(self) -> dict[str, str]:
        """field -> message for every field with a problem (English)."""
        return {e.field: message(e) for e in validate_entry(self._entry())
                if e.field in self.values}

    def field_error(self, name: str) -> str:
        return self.errors().get(name, "")

    def set(self, name: str, value: str) -> None:
        self.values[name] = value

    def set_same_address(self, on: bool) -> None:
        self.same_address = on
        if on and self.previous_address:
            self.values.update(self.previous_address)

    def save(self) -> SavedLine:
        """Send the line. On success the form keeps the section, moves to the next line and
        clears the signer (the address stays when "same address" is on)."""
        errors = self.errors()
        if errors:
            first = next(iter(errors))
            return SavedLine(self.values["section"], int(self.values["line"] or 0), "invalid", first,
                             errors[first])
        body = {name: value.strip() for name, value in self.values.items() if name != "line"}
        body["line"] = int(self.values["line"])
        r = self.client.request("POST", "/v1/intake/lines", json=body)
        answer = r.json()
        result = answer["result"]
        saved = SavedLine(body["section"].upper(), body["line"], result["status"], result.get("field"),
                          result.get("reason"))
        self.history.append(saved)
        if result["status"] in ("accepted", "already_received", "duplicate", "possible_duplicate"):
            self.previous_address = {k: self.values[k] for k in ADDRESS_FIELDS}
            for name, _label in FORM_FIELDS:
                if name not in KEEP_AFTER_SAVE:
                    self.values[name] = ""
            self.values["line"] = str(answer["next_line"])
            if self.same_address:
                self.values.update(self.previous_address)
        return saved


# --------------------------------------------------------------------------------------------
# Review

COMPARED_FIELDS = ("first_name", "middle_name", "last_name", "suffix", "street", "unit", "city",
                   "zip", "phone", "email")


def _norm(text: str) -> str:
    return " ".join((text or "").casefold().split())


@dataclass
class ReviewState:
    client: IntakeClient
    items: list[dict] = field(default_factory=list)
    index: int = 0
    decided: int = 0
    last: str = ""

    def load(self) -> None:
        self.items = self.client.request("GET", "/v1/review/queue").json()["items"]
        self.index = 0

    @property
    def current(self) -> dict | None:
        return self.items[self.index] if 0 <= self.index < len(self.items) else None

    def differences(self) -> list[str]:
        item = self.current
        if not item or not item.get("candidate"):
            return []
        a, b = item["entry"]["fields"], item["candidate"]["fields"]
        return [f for f in COMPARED_FIELDS if _norm(a.get(f, "")) != _norm(b.get(f, ""))]

    def decide(self, decision: str) -> str:
        """duplicate / not_duplicate are sent; skip moves on and leaves the item queued."""
        item = self.current
        if item is None:
            return ""
        if decision == "skip":
            self.items.append(self.items.pop(self.index))
            self.last = "skipped"
            if self.index >= len(self.items):
                self.index = 0
            return self.last
        entry_id = item["entry"]["entry_id"]
        r = self.client.request("POST", f"/v1/review/{entry_id}/decision",
                                json={"decision": decision})
        self.items.pop(self.index)
        if self.index >= len(self.items):
            self.index = 0
        self.decided += 1
        self.last = r.json()["status"]
        return self.last


# --------------------------------------------------------------------------------------------
# Check-in, import, export


def check_in(client: IntakeClient, serial: str, returned_by: str, signed_lines: int,
             skipped: str, declaration: list[str]) -> dict:
    return client.request("POST", f"/v1/intake/sections/{serial.strip().upper()}/checkin", json={
        "returned_by": returned_by, "signed_lines": signed_lines, "skipped_lines": skipped,
        "declaration": declaration}).json()


def reconciliation(client: IntakeClient) -> dict:
    return client.request("GET", "/v1/intake/reconciliation").json()


def import_file(client: IntakeClient, name: str, data: bytes, mapping: dict[str, str] | None = None,
                wait: bool = False) -> dict:
    form = {"wait": "true" if wait else "false"}
    if mapping:
        import json

        form["mapping"] = json.dumps(mapping)
    return client.request("POST", "/v1/intake/imports", data=form,
                          files={"file": (name, data, "application/octet-stream")}).json()


def import_status(client: IntakeClient, job_id: str) -> dict:
    return client.request("GET", f"/v1/intake/imports/{job_id}").json()


def export_filing(client: IntakeClient) -> bytes:
    if client.role != "admin":
        raise IntakeError("Only an admin can export signer data for filing.", 403)
    return client.request("GET", "/v1/intake/export/filing.csv").content
