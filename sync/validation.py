"""Field-level validation of signer entries, shared by the device (before saving) and the server
(per entry of a batch). Each problem is a ``FieldError`` naming the field by its wire name, a
numbered ``ReasonCode`` and a ``message_key`` that the apps render in English or Spanish
(``canvass.i18n.field_message``: the words are a screen's, so they live in its catalogues).

Rules of thumb:
- at most one error per field (the most basic problem first: missing, too long, hidden
  characters, then shape), so a circulator fixes one thing at a time per field;
- errors come in form order (section, line, names, address, contact, capture time) so
  ``first_error_reason`` names the problem a circulator sees first;
- nothing here raises with a field's value: values only travel in ``params`` for the
  circulator's own screen, and ``params`` is left out of ``repr`` so a logged error leaks nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sync.domain import PERSONAL_FIELDS, REQUIRED_FIELDS, SignerEntry
from sync.ids import is_uuid
from sync.jurisdiction import Jurisdiction, parse_zip5
from sync.protocol import REASON_TEXT, EntryWire, ReasonCode

# Longest accepted value per field, in characters. A petition line has little room: these are
# generous for real names and addresses yet far below protocol.MAX_WIRE_FIELD_CHARS.
FIELD_LIMITS: dict[str, int] = {
    "first_name": 50,
    "middle_name": 50,
    "last_name": 50,
    "suffix": 10,
    "street": 100,
    "unit": 20,
    "city": 50,
    "zip": 10,  # "12345-6789"
    "phone": 20,
    "email": 254,  # RFC 5321 path limit
    "notes": 500,
}
TEXT_FIELDS: tuple[str, ...] = PERSONAL_FIELDS  # FIELD_LIMITS has each (tests/test_validation.py)
NAME_FIELDS: tuple[str, ...] = ("first_name", "middle_name", "last_name")

# California does not fix a number of lines per section: layouts range from a one-page sheet
# to multi-page booklets. 999 accepts every layout a campaign prints while still catching
# keying slips such as 0, negatives or 10000.
MAX_LINE_NUMBER = 999
MAX_SERIAL_CHARS = 20

_SERIAL_RE = re.compile(r"[A-Za-z0-9-]{1,20}")
# House number (digits, optional letter, optional "-12"/"-B" or "1/2"), a space, then a street
# name with at least one letter. A PO box is not a residence and fails here on purpose.
_STREET_RE = re.compile(r"\d+[A-Za-z]?(?:-\d*[A-Za-z]?)?(?:\s+\d/\d)?\s+.*[^\W\d_].*", re.DOTALL)
_EMAIL_RE = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_PHONE_CHARS_RE = re.compile(r"\+?[0-9 ().\-]+")
# North American Numbering Plan: area code and exchange both start with 2-9.
_NANP_RE = re.compile(r"1?([2-9]\d{2})([2-9]\d{2})(\d{4})")
_NAME_PUNCT = frozenset(" -'’.")
_SUFFIX_RE = re.compile(r"(?:[A-Za-z]{1,4}\.?|[1-9](?:st|nd|rd|th)|I{1,3}|IV|VI{0,3}|IX|X)", re.IGNORECASE)

# Bidirectional overrides and isolates can make text display differently from what is stored
# (a spoofing trick); they have no place in a name or address.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Notes are a multi-line text box; every other field is a single line.
_NOTES_WHITESPACE = frozenset("\n\r\t")


@dataclass(frozen=True)
class FieldError:
    field: str  # the wire name, e.g. "last_name"
    code: ReasonCode
    message_key: str  # catalogue key validation.<message_key> (canvass.i18n)
    # Values for the message (e.g. the ZIP, shown back to the circulator). Kept out of repr so a
    # logged FieldError never carries personal data.
    params: dict = field(default_factory=dict, repr=False)


# --------------------------------------------------------------------------------------------
# Small checks, each returning a FieldError or None


# The characters _has_control_chars refuses, as one regex (a per-character category lookup
# cost ~15% of the server's intake CPU): Cc (C0/C1 controls incl. NUL, tab, newline, DEL), Cs
# (lone surrogates: not storable as UTF-8), Zl/Zp (Unicode line and paragraph separators) and
# the bidi controls. tests/test_validation.py checks it against unicodedata over every code point.
_OTHER_CONTROLS = "\\x7f-\\x9f\\ud800-\\udfff\\u2028\\u2029" + "".join(sorted(_BIDI_CONTROLS))
_CONTROL_RE = re.compile(f"[\\x00-\\x1f{_OTHER_CONTROLS}]")
# Notes are multi-line: tab, newline and carriage return are allowed there.
_CONTROL_MULTILINE_RE = re.compile(f"[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f{_OTHER_CONTROLS}]")


def _has_control_chars(text: str, *, multiline: bool = False) -> bool:
    if multiline:
        return _CONTROL_MULTILINE_RE.search(text) is not None
    return _CONTROL_RE.search(text) is not None


def _is_plausible_name(text: str) -> bool:
    """Letters of any script (with their accents), spaces (incl. no-break spaces pasted from
    other apps), hyphens, apostrophes and periods,
    and at least one letter. Digits and symbols (emoji, @, /) are never part of a legal name."""
    if text.isalpha():  # all letters (categories L*): most names, decided without the loop
        return True
    has_letter = False
    for char in text:
        category = unicodedata.category(char)
        if category.startswith("L"):
            has_letter = True
        elif not (category.startswith("M") or category == "Zs" or char in _NAME_PUNCT):
            return False
    return has_letter


def _generic_error(name: str, value: str) -> FieldError | None:
    """Length and control characters: the checks every text field shares."""
    limit = FIELD_LIMITS[name]
    if len(value) > limit:
        return FieldError(name, ReasonCode.FIELD_TOO_LONG, "too_long", {"max": limit})
    if _has_control_chars(value, multiline=name == "notes"):
        return FieldError(name, ReasonCode.CONTROL_CHARACTERS, "control_chars", {})
    return None


def validate_section_serial(serial: object) -> FieldError | None:
    if not isinstance(serial, str) or not _SERIAL_RE.fullmatch(serial) or serial.strip("-") == "":
        return FieldError("section", ReasonCode.INVALID_SECTION_SERIAL, "section.invalid",
                          {"max": MAX_SERIAL_CHARS})
    return None


def validate_line(line: object) -> FieldError | None:
    # bool is an int subclass; True is not line 1.
    if isinstance(line, bool) or not isinstance(line, int) or not 1 <= line <= MAX_LINE_NUMBER:
        return FieldError("line", ReasonCode.INVALID_LINE_NUMBER, "line.invalid",
                          {"max": MAX_LINE_NUMBER})
    return None


def line_used_error(line: int) -> FieldError:
    """The one error both stores report when a section line is already taken."""
    return FieldError("line", ReasonCode.LINE_ALREADY_USED, "line.used", {"line": line})


def _zip_error(value: str, jurisdiction: Jurisdiction | None) -> FieldError | None:
    zip5 = parse_zip5(value)
    if zip5 is None:
        return FieldError("zip", ReasonCode.INVALID_ZIP, "zip.invalid", {})
    if jurisdiction is not None and not jurisdiction.contains(zip5):
        return FieldError("zip", ReasonCode.ZIP_OUTSIDE_JURISDICTION, "zip.outside",
                          {"zip": zip5, "jurisdiction": jurisdiction.name})
    return None


def is_valid_phone(text: str) -> bool:
    """US number: 10 digits, optionally +1/1 first, with spaces, dots, dashes, parentheses."""
    if not _PHONE_CHARS_RE.fullmatch(text):
        return False
    digits = re.sub(r"\D", "", text)
    if text.startswith("+") and not digits.startswith("1"):
        return False  # another country's number
    return _NANP_RE.fullmatch(digits) is not None and len(digits) in (10, 11)


def is_valid_email(text: str) -> bool:
    local, _, _domain = text.partition("@")
    return len(local) <= 64 and _EMAIL_RE.fullmatch(text) is not None


def _shape_error(name: str, value: str, jurisdiction: Jurisdiction | None) -> FieldError | None:
    """The field-specific check of a non-empty value that passed the generic checks."""
    text = value.strip()
    if name in NAME_FIELDS and not _is_plausible_name(text):
        return FieldError(name, ReasonCode.IMPLAUSIBLE_NAME, "name.implausible", {})
    if name == "suffix" and not _SUFFIX_RE.fullmatch(text):
        return FieldError(name, ReasonCode.IMPLAUSIBLE_NAME, "suffix.implausible", {})
    if name == "street" and not _STREET_RE.fullmatch(text):
        return FieldError(name, ReasonCode.IMPLAUSIBLE_STREET, "street.implausible", {})
    if name == "city" and not _is_plausible_name(text):
        # A city name follows the same alphabet as a person's name ("La Cañada Flintridge").
        return FieldError(name, ReasonCode.IMPLAUSIBLE_STREET, "city.implausible", {})
    if name == "zip":
        return _zip_error(text, jurisdiction)
    if name == "phone" and not is_valid_phone(text):
        return FieldError(name, ReasonCode.INVALID_PHONE, "phone.invalid", {})
    if name == "email" and not is_valid_email(text):
        return FieldError(name, ReasonCode.INVALID_EMAIL, "email.invalid", {})
    return None


def _text_field_error(name: str, value: object, jurisdiction: Jurisdiction | None) -> FieldError | None:
    if value is None:
        value = ""
    if not isinstance(value, str):
        # Only reachable by a programming error; report it as the field's shape problem.
        return FieldError(name, ReasonCode.CONTROL_CHARACTERS, "control_chars", {})
    if not value.strip():
        if name in REQUIRED_FIELDS:
            return FieldError(name, ReasonCode.MISSING_REQUIRED_FIELD, f"required.{name}", {})
        return None
    return _generic_error(name, value) or _shape_error(name, value, jurisdiction)


def _captured_at_error(moment: object) -> FieldError | None:
    # A naive time cannot be placed on the timeline: device and server would disagree on it.
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        return FieldError("captured_at", ReasonCode.INVALID_CAPTURED_AT, "captured_at.invalid", {})
    return None


def _id_errors(entry: SignerEntry) -> list[FieldError]:
    errors = []
    if not isinstance(entry.entry_id, str) or not is_uuid(entry.entry_id):
        errors.append(FieldError("entry_id", ReasonCode.INVALID_ENTRY_ID, "entry_id.invalid", {}))
    if entry.supersedes is not None and (not isinstance(entry.supersedes, str)
                                         or not is_uuid(entry.supersedes)):
        errors.append(FieldError("supersedes", ReasonCode.INVALID_ENTRY_ID, "entry_id.invalid", {}))
    return errors


# --------------------------------------------------------------------------------------------
# Public entry points


def validate_entry(entry: SignerEntry, *, jurisdiction: Jurisdiction | None = None) -> list[FieldError]:
    """Every problem of ``entry``, at most one per field, in form order. Empty means valid.

    With ``jurisdiction`` the ZIP must also lie inside it. Whether the line is already used is
    for the stores to say (they know the section): see ``line_used_error``.
    """
    errors: list[FieldError] = []
    for error in (validate_section_serial(entry.section), validate_line(entry.line)):
        if error is not None:
            errors.append(error)
    for name in TEXT_FIELDS:
        error = _text_field_error(name, getattr(entry, name), jurisdiction)
        if error is not None:
            errors.append(error)
    error = _captured_at_error(entry.captured_at)
    if error is not None:
        errors.append(error)
    errors.extend(_id_errors(entry))
    return errors


def validate_wire(wire: EntryWire, *, jurisdiction: Jurisdiction | None = None) -> list[FieldError]:
    """``validate_entry`` for an entry as received by the server.

    ``SignerEntry.from_wire`` takes a naive time as UTC, which would hide a device sending
    times without an offset; so the wire's own ``captured_at`` is checked before conversion.
    """
    errors = validate_entry(SignerEntry.from_wire(wire), jurisdiction=jurisdiction)
    wire_time_error = _captured_at_error(wire.captured_at)
    if wire_time_error is not None:
        errors = [e for e in errors if e.field != "captured_at"]
        # Keep form order: captured_at comes after the text fields, before the ids.
        position = next((i for i, e in enumerate(errors) if e.field in ("entry_id", "supersedes")),
                        len(errors))
        errors.insert(position, wire_time_error)
    return errors


def first_error_reason(errors: Sequence[FieldError]) -> tuple[ReasonCode, str]:
    """(reason code, field wire name) of the first error, for the server's per-entry rejection.

    The reason text is ``protocol.REASON_TEXT[code]`` (see ``rejection_details``); the field
    name is what the client needs to point the circulator at the right box.
    """
    if not errors:
        raise ValueError("first_error_reason needs at least one error")
    first = errors[0]
    return first.code, first.field


def rejection_details(errors: Sequence[FieldError]) -> dict[str, object]:
    """``reason_code``, ``reason`` and ``field`` for a protocol.EntryResult of status rejected.

    Only the catalogue text is used, never a rendered message, so no value reaches the wire.
    """
    code, field_name = first_error_reason(errors)
    return {"reason_code": int(code), "reason": REASON_TEXT[code], "field": field_name}
