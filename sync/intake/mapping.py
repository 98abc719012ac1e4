"""Which column of an imported file feeds which entry field: the header spellings seen in the
wild, named presets, a guess from the headers that staff correct, and what is still missing.

Step 2 of an import (sync/intake/importer.py tells the whole way). Pure logic."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from sync.domain import PERSONAL_FIELDS, REQUIRED_FIELDS

# What a column can fill: where the line is, the signer's fields, when it was signed.
TARGET_FIELDS: tuple[str, ...] = ("section", "line", *PERSONAL_FIELDS, "captured_at")
REQUIRED_TARGETS: tuple[str, ...] = ("section", "line", *REQUIRED_FIELDS)

# Header spellings seen in the wild -> target field. Compared after _norm_header.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "section": ("section", "section serial", "serial", "section no", "section number",
                "petition section", "booklet", "section id", "seccion"),
    "line": ("line", "line no", "line number", "line #", "ln", "row on page", "linea"),
    "first_name": ("first name", "first", "given name", "fname", "firstname", "nombre"),
    "middle_name": ("middle name", "middle", "middle initial", "mi", "middlename"),
    "last_name": ("last name", "last", "surname", "family name", "lname", "lastname",
                  "apellido"),
    "suffix": ("suffix", "name suffix", "sfx"),
    "street": ("street", "street address", "address", "residence address", "address 1",
               "address1", "addr", "residence", "direccion"),
    "unit": ("unit", "apt", "apartment", "apt unit", "address 2", "address2", "suite"),
    "city": ("city", "town", "residence city", "ciudad"),
    "zip": ("zip", "zip code", "zipcode", "postal code", "zip5", "postcode"),
    "phone": ("phone", "phone number", "telephone", "tel", "mobile", "cell", "telefono"),
    "email": ("email", "e mail", "email address", "correo"),
    "notes": ("notes", "note", "comments", "comment"),
    "captured_at": ("captured at", "date", "date signed", "signed on", "timestamp",
                    "signature date", "fecha"),
}

# Named mappings for sources the campaign uses often: target -> header as written.
PRESETS: dict[str, dict[str, str]] = {
    # Canvass's own CSV layout (wire field names as headers).
    "canvass": {name: name for name in TARGET_FIELDS},
    # A typical volunteer spreadsheet.
    "volunteer_sheet": {
        "section": "Section #", "line": "Line #", "first_name": "First Name",
        "middle_name": "Middle", "last_name": "Last Name", "street": "Residence Address",
        "unit": "Apt", "city": "City", "zip": "ZIP", "phone": "Phone", "email": "Email",
        "captured_at": "Date Signed",
    },
}


def _norm_header(text: str) -> str:
    text = re.sub(r"[_\-./:#]+", " ", str(text).strip().casefold())
    return re.sub(r"\s+", " ", text).strip()


def guess_mapping(headers: Sequence[str]) -> dict[str, int]:
    """target field -> column index, for the columns whose header is recognised.

    Each column feeds at most one field, and each field takes the first column that matches.
    """
    normalized = [_norm_header(h) for h in headers]
    mapping: dict[str, int] = {}
    used: set[int] = set()
    for target in TARGET_FIELDS:
        names = {_norm_header(n) for n in _SYNONYMS.get(target, ())} | {_norm_header(target)}
        for index, header in enumerate(normalized):
            if index not in used and header in names:
                mapping[target] = index
                used.add(index)
                break
    return mapping


def preset_mapping(preset: str, headers: Sequence[str]) -> dict[str, int]:
    """A named preset resolved against ``headers`` (case and spacing ignored)."""
    spec = PRESETS[preset]
    normalized = {_norm_header(h): i for i, h in reversed(list(enumerate(headers)))}
    return {target: normalized[_norm_header(header)] for target, header in spec.items()
            if _norm_header(header) in normalized}


def mapping_from_names(mapping: Mapping[str, str], headers: Sequence[str]) -> dict[str, int]:
    """target -> header name (as a staff member picked it) to target -> column index."""
    index = {h: i for i, h in reversed(list(enumerate(headers)))}
    out: dict[str, int] = {}
    for target, header in mapping.items():
        if target not in TARGET_FIELDS:
            raise ValueError(f"unknown field in mapping: {target}")
        if header in (None, ""):
            continue
        if header not in index:
            raise ValueError("a mapped column is not in the file")
        out[target] = index[header]
    return out


def check_mapping(mapping: Mapping[str, int]) -> list[str]:
    """Required fields the mapping leaves out (empty = ready to import)."""
    return [target for target in REQUIRED_TARGETS if target not in mapping]
