"""Voter-file column mappings: presets for common layouts and the ``--map`` option.

A mapping says, for each *voter field*, which column(s) of the file hold it. Several columns
joined by ``+`` are concatenated with single spaces (a county file splits the residence
address into house number, fraction, direction, street name, type...). Column names are
matched case-insensitively, surrounding spaces ignored.

Voter fields (wire names of sync.protocol.EntryWire, plus the county's voter id)::

    voter_id first_name middle_name last_name suffix street unit city zip status

Required: first_name, last_name, street, zip (a file without them cannot be matched).

Presets
-------
``county`` (the default) -- the layout of a typical California county registrar extract
(Los Angeles County RR/CC and most counties using the statewide VoteCal fields)::

    voter_id    = RegistrantID
    last_name   = LastName          first_name = FirstName     middle_name = MiddleName
    suffix      = Suffix
    street      = HouseNumber + HouseFraction + StreetDirPrefix + StreetName + StreetType
                  + StreetDirSuffix
    unit        = UnitType + UnitNumber
    city        = City              zip = Zip  (5 digits or ZIP+4)
    status      = Status            (optional; see SKIPPED_STATUSES)

``simple`` -- one column per field, named as the voter fields themselves
(voter_id, first_name, ..., zip).

``--map`` syntax: ``field=Column[+Column...]`` items separated by commas, and the option may
be repeated: ``--map "first_name=FNAME,street=HOUSE_NO+STREET"``. Items override the preset's
entry for that field. A column named by ``--map`` must exist in the file; a preset column
that the file lacks is treated as empty (so HouseFraction or UnitType may be absent).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

VOTER_FIELDS: tuple[str, ...] = (
    "voter_id", "first_name", "middle_name", "last_name", "suffix",
    "street", "unit", "city", "zip", "status",
)
REQUIRED_FIELDS: tuple[str, ...] = ("first_name", "last_name", "street", "zip")
# Registration statuses that mean "no longer registered" (compared casefolded).
SKIPPED_STATUSES = frozenset({"c", "cancelled", "canceled", "p", "purged", "x"})

PRESETS: dict[str, dict[str, tuple[str, ...]]] = {
    "county": {
        "voter_id": ("RegistrantID",),
        "last_name": ("LastName",),
        "first_name": ("FirstName",),
        "middle_name": ("MiddleName",),
        "suffix": ("Suffix",),
        "street": ("HouseNumber", "HouseFraction", "StreetDirPrefix", "StreetName", "StreetType",
                   "StreetDirSuffix"),
        "unit": ("UnitType", "UnitNumber"),
        "city": ("City",),
        "zip": ("Zip",),
        "status": ("Status",),
    },
    "simple": {name: (name,) for name in VOTER_FIELDS},
}
DEFAULT_PRESET = "county"


class MappingError(ValueError):
    """A bad preset, --map item or header. Messages name columns and fields, never data."""


def parse_map(items: str | Iterable[str]) -> dict[str, tuple[str, ...]]:
    """``"first_name=FNAME,street=NO+STREET"`` (or a list of such strings) -> field -> columns."""
    if isinstance(items, str):
        items = [items]
    out: dict[str, tuple[str, ...]] = {}
    for chunk in items:
        for item in chunk.split(","):
            item = item.strip()
            if not item:
                continue
            name, sep, cols = item.partition("=")
            name = name.strip().lower()
            if not sep:
                raise MappingError(f"--map item {item!r} is not field=Column")
            if name not in VOTER_FIELDS:
                raise MappingError(f"unknown voter field {name!r} (known: {', '.join(VOTER_FIELDS)})")
            columns = tuple(c.strip() for c in cols.split("+") if c.strip())
            if not columns:
                raise MappingError(f"--map item for {name!r} names no column")
            out[name] = columns
    return out


@dataclass(frozen=True)
class ColumnMapping:
    """field -> source columns; ``explicit`` fields must exist in the header."""

    fields: dict[str, tuple[str, ...]]
    explicit: frozenset[str] = frozenset()

    @classmethod
    def build(cls, preset: str | None = DEFAULT_PRESET,
              overrides: str | Iterable[str] | None = None) -> ColumnMapping:
        if preset is not None and preset not in PRESETS:
            raise MappingError(f"unknown preset {preset!r} (known: {', '.join(PRESETS)})")
        fields = dict(PRESETS[preset]) if preset else {}
        extra = parse_map(overrides) if overrides else {}
        fields.update(extra)
        missing = [f for f in REQUIRED_FIELDS if f not in fields]
        if missing:
            raise MappingError(f"no column mapped for {', '.join(missing)}")
        return cls(fields, frozenset(extra) if preset else frozenset(fields))

    def resolve(self, header: Sequence[str]) -> ResolvedMapping:
        """Column positions for a file's header row."""
        positions = {h.strip().casefold(): i for i, h in reversed(list(enumerate(header)))}
        resolved: dict[str, tuple[int, ...]] = {}
        for name, columns in self.fields.items():
            found = []
            for column in columns:
                pos = positions.get(column.strip().casefold())
                if pos is None and name in self.explicit:
                    raise MappingError(f"column {column!r} (for {name}) is not in the file's header")
                if pos is not None:
                    found.append(pos)
            resolved[name] = tuple(found)
        empty = [f for f in REQUIRED_FIELDS if not resolved.get(f)]
        if empty:
            raise MappingError(f"the file's header has no column for {', '.join(empty)}")
        return ResolvedMapping(resolved)


@dataclass(frozen=True)
class ResolvedMapping:
    positions: dict[str, tuple[int, ...]]

    def extract(self, row: Sequence[str]) -> dict[str, str]:
        """One CSV row -> voter fields (every field of VOTER_FIELDS present, '' if unmapped)."""
        n = len(row)
        out = dict.fromkeys(VOTER_FIELDS, "")
        for name, positions in self.positions.items():
            if len(positions) == 1:
                p = positions[0]
                out[name] = row[p].strip() if p < n else ""
            else:
                out[name] = " ".join(v for v in (row[p].strip() for p in positions if p < n) if v)
        return out
