"""The keying form: one paper line keyed by a clerk, checked field by field, sent through
/v1/intake/entries."""

from __future__ import annotations

from dataclasses import dataclass

from canvass.i18n import field_message
from canvass.intake.state.client import IntakeClient
from canvass.intake.state.labels import FORM_FIELDS
from canvass.staff.text import staff_lang
from sync.domain import SignerEntry
from sync.validation import validate_entry

ADDRESS_FIELDS = ("street", "unit", "city", "zip")
KEEP_AFTER_SAVE = ("section",)
SAVED_OK = ("accepted", "already_received", "duplicate", "possible_duplicate")


@dataclass
class SavedLine:
    section: str
    line: int
    status: str
    field: str | None = None
    reason: str | None = None
    code: int | None = None  # the server's reason code (rejected lines)


class KeyingForm:
    """The keyed paper line: values, instant field errors, save, next line, same address."""

    def __init__(self, client: IntakeClient) -> None:
        self.client = client
        self.values: dict[str, str] = {name: "" for name in FORM_FIELDS}
        self.values["line"] = "1"
        self.previous_address: dict[str, str] = {}
        self.same_address = False
        self.history: list[SavedLine] = []
        self.queue: list[int] = []  # paper lines still to key (from the check-in panel)
        self._sent_from_queue: set[int] = set()  # queued lines being sent (back if refused)

    def key_lines(self, section: str, lines: list[int]) -> None:
        """Key ``lines`` of ``section`` (lines on paper with no entry): the form starts at the
        first one and moves to the next one after each saved line."""
        self.values["section"] = section.strip().upper()
        self.queue = sorted(set(lines))
        if self.queue:
            self.values["line"] = str(self.queue[0])

    def _entry(self, values: dict[str, str] | None = None) -> SignerEntry:
        v = self.values if values is None else values
        try:
            line = int(v["line"])
        except ValueError:
            line = 0
        return SignerEntry(section=v["section"].strip().upper(), line=line,
                           **{k: v[k].strip() for k in FORM_FIELDS if k not in ("section", "line")})

    def errors(self, values: dict[str, str] | None = None) -> dict[str, str]:
        """field -> message for every field with a problem (in the staff language), of the
        form's values or of ``values`` (a line taken at its Enter)."""
        lang = staff_lang()
        return {e.field: field_message(e, lang) for e in validate_entry(self._entry(values))
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
        """Send the line; when it is saved, go on to the next one."""
        line = dict(self.values)
        if self.errors(line):
            return self.send(line)
        self.advance(line)
        saved = self.send(line)
        if saved.status not in SAVED_OK:
            self.restore(line)
        return saved

    def advance(self, line: dict[str, str]) -> None:
        """Go on to the line after ``line`` (taken at the Enter that saves it) at once, before
        the server answers, so the clerk types the next line while this one is sent: the
        form keeps the section, takes the next line number and clears the signer (the
        address stays when "same address" is on)."""
        self.previous_address = {k: line[k] for k in ADDRESS_FIELDS}
        number = int(line["line"])
        if number in self.queue:
            self.queue.remove(number)
            self._sent_from_queue.add(number)
        for name in FORM_FIELDS:
            if name not in KEEP_AFTER_SAVE:
                self.values[name] = ""
        self.values["line"] = str(self.queue[0] if self.queue else number + 1)
        if self.same_address:
            self.values.update(self.previous_address)

    def restore(self, line: dict[str, str]) -> None:
        """A line the server did not save goes back into the form, to be corrected."""
        self.values.update(line)
        number = int(line["line"])
        if number in self._sent_from_queue:
            self._sent_from_queue.discard(number)
            self.queue = sorted({*self.queue, number})

    def send(self, line: dict[str, str]) -> SavedLine:
        """Send ``line``; what the server made of it ("invalid" without a request when the
        line has a field error)."""
        errors = self.errors(line)
        if errors:
            first = next(iter(errors))
            return SavedLine(line["section"], int(line["line"] or 0), "invalid", first,
                             errors[first])
        body = {name: value.strip() for name, value in line.items() if name != "line"}
        body["line"] = int(line["line"])
        result = self.client.request("POST", "/v1/intake/lines", json=body).json()["result"]
        saved = SavedLine(body["section"].upper(), body["line"], result["status"], result.get("field"),
                          result.get("reason"), result.get("reason_code"))
        self.history.append(saved)
        return saved

