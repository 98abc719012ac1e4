"""Generated county voter files and petition entries with ground truth (seeded).

Nothing here is real personal data: names come from the Faker pools of sync.synthetic,
streets from its list of common LA street names, ZIP + city from the county's ZIP list.

The population: households at addresses (1-4 people, distinct given names that are not near
each other, so "who at this address" is always decidable). Each person is

- registered at their address (``here``, 84%),
- registered at an old address: **moved** (8%; the file has the old address, the petition
  the new one),
- not registered (8%).

The voter file (``county`` preset layout, see columns.py) is written in capitals as county
extracts are, with the full middle name, ZIP+4 on 30% of rows, the unit missing on 10% of the
rows whose address has one, split address parts, and some cancelled rows (status ``C``).

Petition entries (a sample of the people) carry the faults of real lines: no middle name
(60%), unit missing (30% of those with one), ZIP+4 (10%), nicknames from the *certain*
nickname table (8%), long street forms (20%), no accents/other capitals (10%), first and last
names in swapped boxes (2%); and, for people registered here only, a one-letter typo in
one name (4%; only typos the dedup scorer accepts as the same name) and a dropped second
surname (30% of compound surnames).

Ground truth (``RegEntry.truth``), in the words the device shows:
``registered_here`` -- the person is registered at the address written (or, rarely, a voter
with the same name lives in the same building); ``registered_elsewhere`` -- moved, or not
registered but a voter with the same name (same last and first name; a second surname or
second given name aside) is registered at another address (a namesake); ``not_found``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz.distance import OSA, JaroWinkler

from sync.csv_cells import csv_writer
from sync.nicknames import NICKNAMES
from sync.normalize import canonical_first_name, normalize_name, zip5
from sync.scoring import DUPLICATE, score_pair
from sync.synthetic import DIRECTIONS, SUFFIXES, Address, _Names, _new_address, _plain
from sync.voters.keys import first_name_variants, last_name_variants

COUNTY_HEADER = ("RegistrantID", "LastName", "FirstName", "MiddleName", "Suffix", "HouseNumber",
                 "HouseFraction", "StreetDirPrefix", "StreetName", "StreetType", "StreetDirSuffix",
                 "UnitType", "UnitNumber", "City", "Zip", "DOB", "Status")
HERE, MOVED, UNREGISTERED = "here", "moved", "unregistered"
_FORMAL_TO_NICKS: dict[str, list[str]] = {}
for _nick, _formal in NICKNAMES.items():
    if len(_nick) >= 3 and _nick != _formal:
        _FORMAL_TO_NICKS.setdefault(_formal, []).append(_nick)


@dataclass
class Person:
    pid: int
    first: str
    middle: str
    last: str
    address: Address  # where the person lives (what they write)
    status: str
    file_address: Address | None  # the address in the voter file (None: not registered)


@dataclass
class RegEntry:
    person_id: int
    fields: dict[str, str]
    truth: str
    status: str
    faults: tuple[str, ...] = ()


@dataclass
class VoterFile:
    path: Path
    rows: int  # voter rows written (cancelled rows excluded)
    cancelled: int
    entries: list[RegEntry] = field(default_factory=list)


def _distinct(name: str, others: list[str]) -> bool:
    """Given names in one household that no reader would take for one another."""
    n = normalize_name(name)
    for other in others:
        o = normalize_name(other)
        if (JaroWinkler.similarity(n, o) >= 0.8 or OSA.distance(n, o) <= 2
                or canonical_first_name(n) == canonical_first_name(o)):
            return False
    return True


def _people(rng: random.Random, seed: int) -> Iterator[Person]:
    names = _Names(rng, seed)
    streets: dict = {}
    pid = 0
    while True:
        address = _new_address(rng, seed, streets)
        origin = names.origin()
        family = names.last(origin)
        firsts: list[str] = []
        for _ in range(rng.choices((1, 2, 3, 4), (50, 30, 13, 7))[0]):
            sex = rng.choice(("male", "female"))
            for _attempt in range(6):
                first = names.first(origin, sex)
                if _distinct(first, firsts):
                    break
            else:
                continue
            firsts.append(first)
            middle = names.middle(origin, sex)
            last = family if rng.random() < 0.8 else names.last(origin)
            roll = rng.random()
            status = HERE if roll < 0.84 else MOVED if roll < 0.92 else UNREGISTERED
            file_address = (address if status == HERE else
                            _new_address(rng, seed, streets) if status == MOVED else None)
            yield Person(pid, first, middle, last, address, status, file_address)
            pid += 1


def _county_row(rng: random.Random, voter_id: int, p: Person, status: str) -> list[str]:
    a = p.file_address
    assert a is not None
    house, _, fraction = a.house.partition(" ")
    unit_type, unit_number = "", ""
    if a.unit and rng.random() >= 0.10:
        designator, _, number = a.unit.replace("#", "# ").partition(" ")
        unit_type = {"apt": "APT", "apt.": "APT", "unit": "UNIT", "#": ""}.get(designator.lower(), "APT")
        unit_number = number.strip()
    zip_code = a.zip if rng.random() >= 0.3 else f"{a.zip}-{rng.randint(1000, 9999)}"
    dob = f"{rng.randint(1930, 2006)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    up = lambda s: _plain(s).upper()  # noqa: E731
    return [str(voter_id), up(p.last), up(p.first), up(p.middle), "", house, fraction, a.predir,
            up(a.street), SUFFIXES[a.suffix][0].upper(), "", unit_type, unit_number.upper(),
            up(a.city), zip_code, dob, status]


def _street(rng: random.Random, a: Address, *, long: bool) -> str:
    parts = [a.house]
    if a.predir:
        parts.append(dict(DIRECTIONS)[a.predir] if long and rng.random() < 0.5 else a.predir)
    parts.append(a.street)
    parts.append(SUFFIXES[a.suffix][1] if long else SUFFIXES[a.suffix][0])
    return " ".join(parts)


def _typo(rng: random.Random, word: str) -> str | None:
    """A clean one-letter substitution, not the first letter, in a word of 5+ letters."""
    if len(word) < 5 or not word.isalpha():
        return None
    i = rng.randrange(1, len(word) - 1)
    letters = [c for c in "aeioulnrst" if c != word[i].lower()]
    return word[:i] + rng.choice(letters) + word[i + 1:]


def _entry(rng: random.Random, p: Person) -> tuple[dict[str, str], tuple[str, ...]]:
    faults: list[str] = []
    a = p.address
    middle = p.middle
    if middle and rng.random() < 0.6:
        middle = ""
        faults.append("no_middle")
    unit = a.unit
    if unit and rng.random() < 0.3:
        unit = ""
        faults.append("no_unit")
    zip_code = a.zip
    if rng.random() < 0.1:
        zip_code = f"{a.zip}-{rng.randint(1000, 9999)}"
        faults.append("zip4")
    long = rng.random() < 0.2
    if long:
        faults.append("street_form")
    fields = {"first_name": p.first, "middle_name": middle, "last_name": p.last, "suffix": "",
              "street": _street(rng, a, long=long), "unit": unit, "city": a.city, "zip": zip_code}
    # At most one name fault per line (a nickname *and* swapped boxes is beyond any matcher).
    roll = rng.random()
    nicks = _FORMAL_TO_NICKS.get(canonical_first_name(p.first))
    if roll < 0.08:
        if nicks and normalize_name(p.first) == canonical_first_name(p.first):
            fields["first_name"] = rng.choice(nicks).title()
            faults.append("nickname")
    elif roll < 0.10:
        fields["first_name"], fields["last_name"] = fields["last_name"], fields["first_name"]
        faults.append("swapped")
    elif p.status == HERE and roll < 0.14:
        which = rng.choice(("first_name", "last_name"))
        typo = _typo(rng, fields[which])
        # Only typos the dedup scorer accepts as the same name (its own tests grade it).
        if typo and score_pair({**fields, which: typo}, fields).decision == DUPLICATE:
            fields[which] = typo
            faults.append("typo")
    elif p.status == HERE and roll < 0.24 and len(set(p.last.split())) > 1:
        # (not for "Alonso Alonso": sync.scoring reads "Alonso" vs "Alonso Alonso" as two names)
        fields["last_name"] = p.last.split()[0]
        faults.append("drop_second_surname")
    if rng.random() < 0.1:
        for name in ("first_name", "last_name", "street", "city"):
            fields[name] = _plain(fields[name]).upper()
        faults.append("caps")
    return fields, tuple(faults)


def _name_keys(first: str, last: str) -> set[tuple[str, str]]:
    return {(lv, fv) for lv in last_name_variants(normalize_name(last))
            for fv in first_name_variants(canonical_first_name(first))}


def _probe_name_keys(first: str, last: str) -> set[tuple[str, str]]:
    """What a device probes for a line written with this name: the last name as written."""
    return {(normalize_name(last), fv) for fv in first_name_variants(canonical_first_name(first))}


def _address_of(a: Address) -> tuple[str, str]:
    return (a.house.split()[0], zip5(a.zip))


def write_voter_file(path: str | Path, n_voters: int, *, seed: int = 8, n_entries: int = 0,
                     cancelled_rate: float = 0.005) -> VoterFile:
    """Write ``n_voters`` voter rows (county layout) and draw ``n_entries`` petition entries
    with ground truth. Memory: the truth tables hold one small tuple per voter when entries
    are asked for; with ``n_entries=0`` the file is streamed with constant memory."""
    rng = random.Random(seed)
    path = Path(path)
    want_truth = n_entries > 0
    # Name keys -> addresses, for the namesake part of the truth.
    name_at: dict[tuple[str, str], set[tuple[str, str]]] = {}
    sample: list[Person] = []
    take = min(1.0, 1.3 * n_entries / max(n_voters, 1))
    written = cancelled = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv_writer(fh)
        out.writerow(COUNTY_HEADER)
        people = _people(rng, seed)
        while written < n_voters:
            p = next(people)
            if p.file_address is not None:
                if rng.random() < cancelled_rate:
                    out.writerow(_county_row(rng, 900_000_000 + cancelled, p, "C"))
                    cancelled += 1
                    p.status, p.file_address = UNREGISTERED, None
                else:
                    written += 1
                    out.writerow(_county_row(rng, 100_000 + written, p, "A"))
                    if want_truth:
                        where = _address_of(p.file_address)
                        for key in _name_keys(p.first, p.last):
                            name_at.setdefault(key, set()).add(where)
            if want_truth and rng.random() < take:
                sample.append(p)
    result = VoterFile(path, written, cancelled)
    if not want_truth:
        return result
    rng.shuffle(sample)
    for p in sample[:n_entries]:
        fields, faults = _entry(rng, p)
        result.entries.append(RegEntry(p.pid, fields, _truth(p, name_at), p.status, faults))
    return result


def _truth(p: Person, name_at: dict) -> str:
    if p.status == HERE:
        return "registered_here"
    if p.status == MOVED:
        return "registered_elsewhere"
    where = _address_of(p.address)
    places: set = set()
    for key in _probe_name_keys(p.first, p.last):
        places |= name_at.get(key, set())
    if where in places:
        return "registered_here"
    return "registered_elsewhere" if places else "not_found"
