"""Campaign jurisdictions: which ZIP codes a signer may live in, and each ZIP's USPS city.

A California petition section may only be signed by voters of the jurisdiction it circulates
in, so a signer whose ZIP is elsewhere cannot count. ZIP lists ship as CSV files in
``assets/jurisdictions/`` (columns ``zip,city``; lines starting with ``#`` are comments), or a
campaign provides its own file or list (``CampaignSettings.jurisdiction_zips``).

A ZIP is a coarse proxy for a county line (a few ZIPs straddle one), so this check catches
obvious mistakes; the county registrar's voter file remains the authority.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets" / "jurisdictions"
DEFAULT_JURISDICTION = "los_angeles_county"

# 5 digits, ZIP+4 with a hyphen, or the 9 digits run together (as some forms and scanners give).
_ZIP_RE = re.compile(r"(\d{5})(?:-?(\d{4}))?")
_NAME_RE = re.compile(r"[a-z0-9_]{1,64}")


def parse_zip5(text: str) -> str | None:
    """The 5-digit ZIP of ``text`` if it is a well-formed ZIP or ZIP+4, else None.

    Surrounding spaces are ignored; anything else (letters, 6 digits, a space inside) is not a ZIP.
    """
    if not isinstance(text, str):
        return None
    match = _ZIP_RE.fullmatch(text.strip())
    return match.group(1) if match else None


@dataclass(frozen=True)
class Jurisdiction:
    """A named set of 5-digit ZIPs, each with its primary city name ("" when unknown)."""

    name: str
    zips: Mapping[str, str]

    def contains(self, zip_text: str) -> bool:
        zip5 = parse_zip5(zip_text)
        return zip5 is not None and zip5 in self.zips

    def city_for(self, zip_text: str) -> str | None:
        zip5 = parse_zip5(zip_text)
        if zip5 is None:
            return None
        return self.zips.get(zip5) or None

    @property
    def display_name(self) -> str:
        """ "los_angeles_county" -> "Los Angeles County", for messages shown to circulators."""
        return self.name.replace("_", " ").title()

    def __len__(self) -> int:
        return len(self.zips)


def _frozen(zips: Mapping[str, str]) -> Mapping[str, str]:
    # Loaded jurisdictions are cached and shared, so nobody may mutate one in place.
    return MappingProxyType(dict(zips))


def jurisdiction_from_zips(name: str, zips: Iterable[str]) -> Jurisdiction:
    """A jurisdiction from a campaign-provided list of ZIPs (ZIP+4 accepted, cities unknown)."""
    table: dict[str, str] = {}
    for position, text in enumerate(zips, start=1):
        zip5 = parse_zip5(text)
        if zip5 is None:
            raise ValueError(f"jurisdiction {name!r}: item {position} is not a ZIP code")
        table[zip5] = ""
    return Jurisdiction(name=name, zips=_frozen(table))


def _read_csv(path: Path) -> dict[str, str]:
    table: dict[str, str] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        lines = (line for line in handle if line.strip() and not line.lstrip().startswith("#"))
        reader = csv.DictReader(lines)
        if reader.fieldnames is None or "zip" not in reader.fieldnames:
            raise ValueError(f"{path.name}: a jurisdiction CSV needs a 'zip' column")
        for row_number, row in enumerate(reader, start=2):
            zip5 = parse_zip5(row.get("zip") or "")
            if zip5 is None:
                raise ValueError(f"{path.name}: data row {row_number - 1} has no valid ZIP")
            table[zip5] = (row.get("city") or "").strip()
    if not table:
        raise ValueError(f"{path.name}: the jurisdiction has no ZIP codes")
    return table


@lru_cache(maxsize=16)
def _load_cached(name: str, path: Path, mtime_ns: int) -> Jurisdiction:
    # mtime_ns is part of the cache key so a campaign file replaced on disk is read again.
    del mtime_ns
    return Jurisdiction(name=name, zips=_frozen(_read_csv(path)))


def load_jurisdiction(name: str = DEFAULT_JURISDICTION, *, path: Path | None = None) -> Jurisdiction:
    """Load (once, then from cache) a shipped jurisdiction by name, or a campaign's CSV file.

    Names are restricted to ``[a-z0-9_]`` so a name coming from server settings can never point
    outside the assets directory.
    """
    if path is None:
        if not _NAME_RE.fullmatch(name):
            raise ValueError("jurisdiction names use lowercase letters, digits and underscores")
        path = ASSETS_DIR / f"{name}.csv"
        if not path.is_file():
            raise FileNotFoundError(f"no shipped jurisdiction named {name!r}")
    resolved = Path(path).resolve()
    return _load_cached(name, resolved, resolved.stat().st_mtime_ns)


def available_jurisdictions() -> list[str]:
    """Names of the jurisdictions shipped in assets/jurisdictions/."""
    return sorted(p.stem for p in ASSETS_DIR.glob("*.csv"))


def jurisdiction_for(name: str, zips: Iterable[str] = ()) -> Jurisdiction:
    """The jurisdiction of a campaign's settings (``CampaignSettings.jurisdiction`` and
    ``.jurisdiction_zips``): its own ZIP list when given, else the shipped list of that name."""
    zips = list(zips)
    if zips:
        return jurisdiction_from_zips(name, zips)
    return load_jurisdiction(name)
