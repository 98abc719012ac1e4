"""Synthetic petition drives of Los Angeles County signers, with ground truth (seeded, reproducible).

Why one long module: one generator (population, households, the errors a second writing makes),
whose parts share the seeded random streams; splitting it would spread one recipe over files.

Used by the deduplication quality harness and the benchmarks (tests/benchmarks), and free for
any test that needs realistic signer entries. Nothing here is real personal data: names come
from Faker pools, streets from a list of common LA street names, ZIP + city from
assets/jurisdictions/los_angeles_county.csv.

What a drive looks like
-----------------------
- Signers are drawn by household: an address (house number, street, optional unit, ZIP and its
  city) holds 1-5 signers. Household members mostly share a surname; some households hold a
  father and son of the same name (with "Jr"/"Sr" written only sometimes, or only different
  middle initials) and twins/siblings with near-identical given names (Mario / Maria).
- The name mix fits the county: Faker ``es_MX`` and ``en_US`` pools plus Chinese (Faker
  ``zh_CN`` romanized), Korean, Vietnamese, Filipino, Armenian and Indian names. Some
  Hispanic signers write two surnames. Common names repeat (Faker pools keep frequency), so
  "Maria Garcia" appears many times in one ZIP, at different addresses.
- A share ``dup_rate`` of the entries are repeat signatures of an earlier signer, usually by
  another circulator, written with the errors of paper and tablets: typos and swapped letters,
  nicknames (an independent list, not sync.nicknames), dropped or initialled middle names,
  dropped units or a unit written on the street line, "St" vs "Street" and "N" vs "North",
  ZIP+4, first and last names in swapped boxes, capitals, dropped accents, a dropped second
  surname, and rarely a house-number or ZIP typo. About a quarter are written identically.

Ground truth: every entry carries ``person_id``; an entry is a true duplicate when an earlier
entry of the stream has the same ``person_id``.
"""

from __future__ import annotations

import csv
import random
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

ASSET = Path(__file__).resolve().parent.parent / "assets" / "jurisdictions" / "los_angeles_county.csv"

# Common street names of Los Angeles County (public geography, not personal data).
LA_STREETS = (
    "Sunset", "Wilshire", "Figueroa", "Vermont", "Western", "Pico", "Olympic", "Whittier",
    "Cesar E Chavez", "Atlantic", "Slauson", "Florence", "Manchester", "Crenshaw", "La Brea",
    "Fairfax", "Hollywood", "Santa Monica", "Venice", "Sepulveda", "Van Nuys", "Reseda",
    "Ventura", "Victory", "Sherman", "Roscoe", "Lankershim", "Colorado", "Lake", "Garfield",
    "Valley", "Huntington", "Rosemead", "Long Beach", "Alameda", "Main", "Broadway", "Spring",
    "Hill", "Olive", "Grand", "Hope", "Flower", "Normandie", "Hoover", "Alvarado", "Soto",
    "Lorena", "Evergreen", "Wabash", "Brooklyn", "Gage", "Firestone", "Imperial", "Century",
    "Rosecrans", "Compton", "Avalon", "Central", "Hooper", "Compton", "Wilmington", "Vernon",
    "Adams", "Jefferson", "Exposition", "Martin Luther King Jr", "Washington", "Venice",
    "Beverly", "Melrose", "Fountain", "Franklin", "Los Feliz", "Glendale", "Brand", "Verdugo",
    "Foothill", "Arrow", "Mission", "Orange Grove", "Fair Oaks", "Lincoln", "Marengo",
    "Euclid", "Magnolia", "Oak", "Maple", "Elm", "Pine", "Cedar", "Walnut", "Sycamore",
    "Willow", "Palm", "Laurel", "Hawthorne", "Acacia", "Jacaranda", "Citrus", "Lemon",
    "Orange", "Park", "View", "Mountain View", "Ocean", "Pacific", "Bay", "Harbor", "Gaffey",
    "Anaheim", "Artesia", "Del Amo", "Carson", "Torrance", "Hawthorne", "Inglewood", "Prairie",
    "Aviation", "Lomita", "Palos Verdes", "Sierra Madre", "Altadena", "Lincoln", "Tujunga",
    "Glenoaks", "San Fernando", "Laurel Canyon", "Coldwater Canyon", "Woodman", "Hazeltine",
    "Tyrone", "Balboa", "White Oak", "Winnetka", "Topanga Canyon", "Mulholland", "Devonshire",
    "Nordhoff", "Parthenia", "Saticoy", "Vanowen", "Burbank", "Oxnard", "Magnolia", "Chandler",
    "Riverside", "Figueroa", "Echo Park", "Sunset", "Griffith Park", "Hyperion", "Silver Lake",
    "Atwater", "Eagle Rock", "York", "Colorado", "Monterey", "Huntington", "Valley",
    "Garvey", "Las Tunas", "Duarte", "Live Oak", "Badillo", "Azusa", "Citrus", "Amar",
    "Hacienda", "Puente", "Gale", "Nogales", "Fullerton", "Colima", "Telegraph", "Slauson",
    "Paramount", "Bellflower", "Lakewood", "Clark", "Woodruff", "Studebaker", "Norwalk",
    "Pioneer", "Painter", "Greenleaf", "Hadley", "Mills", "Santa Fe", "Pacific Coast",
)
SUFFIXES = (("St", "Street", 40), ("Ave", "Avenue", 30), ("Blvd", "Boulevard", 10), ("Dr", "Drive", 7),
            ("Pl", "Place", 4), ("Way", "Way", 3), ("Rd", "Road", 3), ("Ct", "Court", 2),
            ("Ln", "Lane", 1))
DIRECTIONS = (("N", "North"), ("S", "South"), ("E", "East"), ("W", "West"))

# Independent of sync.nicknames on purpose: the harness must not grade the matcher with its
# own table. Formal name (lower case) -> nicknames people actually write.
NICKNAMES = {
    "robert": ["Bob", "Rob", "Bobby"], "william": ["Bill", "Will", "Billy"],
    "richard": ["Rick", "Rich", "Dick"], "james": ["Jim", "Jimmy"], "michael": ["Mike"],
    "christopher": ["Chris"], "anthony": ["Tony"], "daniel": ["Dan", "Danny"],
    "joseph": ["Joe", "Joey"], "thomas": ["Tom", "Tommy"], "charles": ["Charlie", "Chuck"],
    "edward": ["Ed", "Eddie"], "samuel": ["Sam"], "patricia": ["Pat", "Patty"],
    "elizabeth": ["Liz", "Beth", "Betty"], "jennifer": ["Jen", "Jenny"], "margaret": ["Maggie", "Peggy"],
    "katherine": ["Kate", "Katie"], "kathryn": ["Kathy"], "susan": ["Sue", "Susie"],
    "deborah": ["Debbie", "Deb"], "jacqueline": ["Jackie"], "matthew": ["Matt"],
    "nicholas": ["Nick"], "benjamin": ["Ben"], "jonathan": ["Jon"], "andrew": ["Andy", "Drew"],
    "kenneth": ["Ken", "Kenny"], "steven": ["Steve"], "stephen": ["Steve"], "timothy": ["Tim"],
    "gregory": ["Greg"], "jeffrey": ["Jeff"], "joshua": ["Josh"], "rebecca": ["Becky"],
    "victoria": ["Vicky"], "jessica": ["Jess"], "alexander": ["Alex"], "zachary": ["Zach"],
    "jose": ["Pepe", "Chepe"], "francisco": ["Paco", "Pancho"], "guadalupe": ["Lupe", "Lupita"],
    "jesus": ["Chuy"], "ignacio": ["Nacho"], "alejandro": ["Alex", "Alejo"],
    "roberto": ["Beto"], "alberto": ["Beto"], "eduardo": ["Lalo"], "enrique": ["Kike"],
    "rosario": ["Chayo"], "concepcion": ["Conchita", "Concha"], "dolores": ["Lola"],
    "mercedes": ["Meche"], "manuel": ["Manolo", "Manny"], "antonio": ["Toño", "Tony"],
    "fernando": ["Nando"], "ricardo": ["Ricky"], "rodrigo": ["Rodri"], "gustavo": ["Tavo"],
    "guillermo": ["Memo"], "santiago": ["Santi"], "rafael": ["Rafa"], "luis": ["Lucho"],
    "isabel": ["Chabela"], "cristina": ["Cris"], "gabriela": ["Gaby"], "graciela": ["Chela"],
    "javier": ["Javi"], "sebastian": ["Sebas"], "margarita": ["Margie"],
}

KEYBOARD = {
    "a": "qwsz", "b": "vghn", "c": "xdfv", "d": "serfcx", "e": "wsdr", "f": "drtgvc", "g": "ftyhbv",
    "h": "gyujnb", "i": "ujko", "j": "huikmn", "k": "jiolm", "l": "kop", "m": "njk", "n": "bhjm",
    "o": "iklp", "p": "ol", "q": "wa", "r": "edft", "s": "awedxz", "t": "rfgy", "u": "yhji",
    "v": "cfgb", "w": "qase", "x": "zsdc", "y": "tghu", "z": "asx",
}

KOREAN_LAST = ("Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim", "Han", "Shin")
KOREAN_FIRST = ("Min-jun", "Seo-yeon", "Ji-hoon", "Ha-eun", "Jae", "Soo-jin", "Hyun", "Eun-ji",
                "Sung", "Ji-woo", "Dong-hyun", "Min-seo", "Young", "Hye-jin")
VIET_LAST = ("Nguyen", "Tran", "Le", "Pham", "Hoang", "Huynh", "Phan", "Vu", "Vo", "Dang", "Bui", "Do")
VIET_FIRST = ("Minh", "Linh", "Huong", "Tuan", "Thanh", "Lan", "Duc", "Hoa", "Phuong", "Quang",
              "Anh", "Trang", "Hung", "Mai", "Binh", "Khanh", "Thao", "Long")
FILIPINO_LAST = ("Santos", "Reyes", "Cruz", "Bautista", "Ocampo", "Mendoza", "Dela Cruz", "Villanueva",
                 "Castillo", "Aquino", "Ramos", "Manalo", "Pascual", "Soriano", "Tolentino", "Gonzales")
ARMENIAN_LAST = ("Sarkisian", "Petrosyan", "Hakobyan", "Grigoryan", "Avetisyan", "Karapetyan", "Manukyan",
                 "Harutyunyan", "Mkrtchyan", "Gevorgyan", "Hovsepian", "Kazarian")
ARMENIAN_FIRST = ("Armen", "Ani", "Narek", "Lilit", "Hovhannes", "Anahit", "Tigran", "Gohar",
                  "Vardan", "Mariam", "Aram", "Nare", "Hayk", "Arpi", "Garo", "Talin")
TWINS = (("Mario", "Maria"), ("Daniel", "Daniela"), ("Gabriel", "Gabriela"), ("Francisco", "Francisca"),
         ("Adrian", "Adriana"), ("Julio", "Julia"), ("Alejandro", "Alejandra"), ("Fernando", "Fernanda"))
# Share of signers by name origin (roughly the county's make-up).
ORIGINS = (("es_MX", 47), ("en_US", 35), ("zh", 4), ("fil", 4), ("ko", 3), ("hy", 3), ("vi", 2),
           ("en_IN", 2))


@dataclass(frozen=True)
class Address:
    house: str
    predir: str  # "" or index into DIRECTIONS as text "N"
    street: str
    suffix: int  # index into SUFFIXES
    unit: str  # "" or the unit designator text, e.g. "Apt 4B"
    zip: str
    city: str


@dataclass(frozen=True)
class Person:
    person_id: int
    first: str
    middle: str
    last: str
    suffix: str
    address: Address
    origin: str


@dataclass
class SynthEntry:
    """One line of the drive as written: wire field values plus ground truth and routing."""

    index: int  # position in the stream (the order entries reach the server)
    person_id: int
    circulator: int
    fields: dict[str, str]
    is_repeat: bool  # ground truth: an earlier entry of the stream is the same person
    errors: tuple[str, ...] = ()  # the errors applied to a repeat (for breakdowns)


@dataclass
class Drive:
    entries: list[SynthEntry]
    seed: int
    dup_rate: float
    circulators: int
    stats: dict = field(default_factory=dict)

    def true_duplicates(self) -> int:
        return sum(1 for e in self.entries if e.is_repeat)


@lru_cache(maxsize=1)
def la_zips() -> tuple[tuple[str, str], ...]:
    rows = []
    with ASSET.open(encoding="utf-8") as fh:
        lines = (line for line in fh if not line.startswith("#"))
        for row in csv.DictReader(lines):
            rows.append((row["zip"].strip(), row["city"].strip().title()))
    return tuple(rows)


@lru_cache(maxsize=4)
def _name_pools(seed: int) -> dict[str, dict[str, tuple[str, ...]]]:
    """Pools of names per origin. Faker draws with frequency weights, so a pool keeps the
    realistic skew (many Marias and Garcias). Faker is imported lazily: it comes with the
    `demo` extra (and `dev`), not with the device app or the server."""
    try:
        from faker import Faker
    except ImportError as exc:
        raise ImportError('synthetic signers need Faker: python3 -m pip install -c constraints.txt '
                          '-e ".[demo]"') from exc

    pools: dict[str, dict[str, tuple[str, ...]]] = {}
    for locale in ("es_MX", "en_US", "en_IN"):
        fake = Faker(locale)
        fake.seed_instance(seed)
        pools[locale] = {
            "male": tuple(fake.first_name_male() for _ in range(1500)),
            "female": tuple(fake.first_name_female() for _ in range(1500)),
            "last": tuple(fake.last_name() for _ in range(3000)),
        }
    zh = Faker("zh_CN")
    zh.seed_instance(seed)
    pools["zh"] = {"male": tuple(zh.first_romanized_name() for _ in range(400)),
                   "last": tuple(zh.last_romanized_name() for _ in range(400))}
    pools["zh"]["female"] = pools["zh"]["male"]
    return pools


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


class _Names:
    def __init__(self, rng: random.Random, seed: int) -> None:
        self.rng = rng
        self.pools = _name_pools(seed)
        self.origins = [o for o, _ in ORIGINS]
        self.weights = [w for _, w in ORIGINS]

    def origin(self) -> str:
        return self.rng.choices(self.origins, self.weights)[0]

    def first(self, origin: str, sex: str) -> str:
        r = self.rng
        if origin in self.pools:
            return r.choice(self.pools[origin][sex])
        if origin == "fil":
            return r.choice(self.pools["en_US" if r.random() < 0.6 else "es_MX"][sex])
        return r.choice({"ko": KOREAN_FIRST, "hy": ARMENIAN_FIRST, "vi": VIET_FIRST}[origin])

    def last(self, origin: str) -> str:
        r = self.rng
        if origin in self.pools:
            name = r.choice(self.pools[origin]["last"])
            if origin == "es_MX" and r.random() < 0.15:  # two surnames written
                name = f"{name} {r.choice(self.pools['es_MX']['last'])}"
            return name
        return r.choice({"fil": FILIPINO_LAST, "ko": KOREAN_LAST, "hy": ARMENIAN_LAST,
                         "vi": VIET_LAST}[origin])

    def middle(self, origin: str, sex: str) -> str:
        r = self.rng
        if r.random() >= (0.35 if origin in ("en_US", "es_MX", "fil") else 0.12):
            return ""
        name = self.first(origin if origin in self.pools else "en_US", sex)
        return name if r.random() < 0.6 else name[0]


def _streets_for_zip(seed: int, zip_code: str) -> list[tuple[str, str, int]]:
    rng = random.Random(f"{seed}:{zip_code}")
    out = []
    for name in rng.sample(LA_STREETS, 45):
        predir = rng.choice(DIRECTIONS)[0] if rng.random() < 0.3 else ""
        if name[-2:].isdigit() or name.endswith("Jr"):
            predir = ""
        suffix = rng.choices(range(len(SUFFIXES)), [w for *_x, w in SUFFIXES])[0]
        out.append((predir, name, suffix))
    # Numbered streets ("W 54th St") are everywhere in the county.
    for _ in range(8):
        n = rng.randint(1, 120)
        ordinal = f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"
        out.append((rng.choice(DIRECTIONS)[0], ordinal, 0))
    return out


def _new_address(rng: random.Random, seed: int, street_cache: dict) -> Address:
    zip_code, city = rng.choice(la_zips())
    streets = street_cache.get(zip_code)
    if streets is None:
        streets = street_cache[zip_code] = _streets_for_zip(seed, zip_code)
    predir, name, suffix = rng.choice(streets)
    house = str(rng.choice((rng.randint(100, 999), rng.randint(1000, 9999), rng.randint(10000, 24999))))
    if rng.random() < 0.03:
        house += " 1/2"
    unit = ""
    if rng.random() < 0.35:
        number = str(rng.randint(1, 40 if rng.random() < 0.7 else 450))
        if rng.random() < 0.3:
            number += rng.choice("ABCD")
        unit = rng.choice(("Apt ", "Apt ", "Unit ", "#", "Apt. ")) + number
    return Address(house, predir, name, suffix, unit, zip_code, city)


def _household(rng: random.Random, names: _Names, address: Address, next_id: int) -> list[Person]:
    origin = names.origin()
    size = rng.choices((1, 2, 3, 4, 5), (52, 26, 12, 7, 3))[0]
    family_last = names.last(origin)
    people: list[Person] = []
    kind = rng.random()
    if size >= 2 and kind < 0.01:
        # Father and son of one name living together (about 0.5% of households: ~3% of US men
        # are "Jr" and some live with their father; oversampled x1.5 here). The suffix is
        # written by 60%; 25% differ only by the middle initial; 15% are indistinguishable on
        # paper (no system can tell them apart; they count against every system's precision).
        first = names.first(origin, "male")
        style = rng.random()
        if style < 0.6:
            pair = [("", "Sr" if rng.random() < 0.5 else ""), ("", rng.choice(("Jr", "Jr.", "II")))]
        elif style < 0.85:
            pair = [(rng.choice("ABCDEJLMR"), ""), (rng.choice("FGHKNPST"), "")]
        else:
            pair = [("", ""), ("", "")]
        for middle, suffix in pair:
            people.append(Person(next_id + len(people), first, middle, family_last, suffix, address, origin))
    elif size >= 2 and kind < 0.04 and origin == "es_MX":
        a, b = rng.choice(TWINS)
        for first in (a, b):
            people.append(Person(next_id + len(people), first, "", family_last, "", address, origin))
    taken = {p.first for p in people}
    for _attempt in range(40):
        if len(people) >= size:
            break
        sex = rng.choice(("male", "female"))
        first = names.first(origin, sex)
        if first in taken:  # parents do not give two children one name (Jr aside, above)
            continue
        taken.add(first)
        last = family_last if rng.random() < 0.75 else names.last(origin)
        people.append(Person(next_id + len(people), first, names.middle(origin, sex), last, "",
                             address, origin))
    return people


def _street_text(address: Address, *, long_suffix: bool = False, long_dir: bool = False,
                 dots: bool = False) -> str:
    short, long, _w = SUFFIXES[address.suffix]
    parts = [address.house]
    if address.predir:
        word = dict(DIRECTIONS)[address.predir] if long_dir else address.predir
        parts.append(word + ("." if dots and not long_dir else ""))
    parts.append(address.street)
    parts.append(long if long_suffix else short + ("." if dots and short != long else ""))
    return " ".join(parts)


def render(person: Person) -> dict[str, str]:
    """The clean, first-time way a signer writes their line."""
    return {
        "first_name": person.first, "middle_name": person.middle, "last_name": person.last,
        "suffix": person.suffix, "street": _street_text(person.address), "unit": person.address.unit,
        "city": person.address.city, "zip": person.address.zip,
    }


# -------------------------------------------------------------------------------- errors


def _typo(rng: random.Random, word: str) -> str:
    letters = [i for i, c in enumerate(word) if c.isalpha()]
    if len(letters) < 3:
        return word
    i = rng.choice(letters[1:])  # first letters are rarely wrong
    kind = rng.random()
    if kind < 0.3 and i + 1 < len(word) and word[i + 1].isalpha() and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]  # swapped letters
    if kind < 0.55:
        return word[:i] + word[i + 1:]  # dropped letter
    if kind < 0.75:
        return word[:i] + word[i] + word[i:]  # doubled letter
    near = KEYBOARD.get(word[i].lower())
    if not near:
        return word
    sub = rng.choice(near)
    return word[:i] + (sub.upper() if word[i].isupper() else sub) + word[i + 1:]


def _nickname(rng: random.Random, first: str) -> str | None:
    options = NICKNAMES.get(_plain(first).lower())
    return rng.choice(options) if options else None


ERRORS = (  # name, weight
    ("typo_first", 11), ("typo_last", 11), ("nickname", 9), ("drop_middle", 8), ("drop_unit", 5),
    ("unit_on_street", 4), ("unit_format", 4), ("street_form", 14), ("zip4", 8), ("swap_names", 4),
    ("caps_accents", 8), ("drop_second_surname", 3), ("house_typo", 2), ("zip_typo", 2),
)


def _apply(rng: random.Random, person: Person, fields: dict[str, str], error: str) -> bool:
    """Apply one error in place; False when it does not apply to this signer."""
    address = person.address
    if error == "typo_first":
        fields["first_name"] = _typo(rng, fields["first_name"])
    elif error == "typo_last":
        fields["last_name"] = _typo(rng, fields["last_name"])
    elif error == "nickname":
        nick = _nickname(rng, person.first)
        if not nick:
            return False
        fields["first_name"] = nick
    elif error == "drop_middle":
        if not fields["middle_name"]:
            return False
        fields["middle_name"] = "" if rng.random() < 0.6 else fields["middle_name"][0]
    elif error == "drop_unit":
        if not fields["unit"]:
            return False
        fields["unit"] = ""
    elif error == "unit_on_street":
        if not fields["unit"]:
            return False
        fields["street"] = f"{fields['street']} {fields['unit']}"
        fields["unit"] = ""
    elif error == "unit_format":
        if not address.unit:
            return False
        number = address.unit.split()[-1].lstrip("#")
        fields["unit"] = rng.choice((f"#{number}", f"Apt {number}", f"Unit {number}", number))
    elif error == "street_form":
        fields["street"] = _street_text(address, long_suffix=rng.random() < 0.6,
                                        long_dir=rng.random() < 0.4, dots=rng.random() < 0.4)
    elif error == "zip4":
        fields["zip"] = f"{address.zip}-{rng.randint(1000, 9999)}"
    elif error == "swap_names":
        fields["first_name"], fields["last_name"] = fields["last_name"], fields["first_name"]
    elif error == "caps_accents":
        for name in ("first_name", "middle_name", "last_name", "street", "city"):
            fields[name] = _plain(fields[name])
        if rng.random() < 0.5:
            for name in ("first_name", "last_name", "street"):
                fields[name] = fields[name].upper()
    elif error == "drop_second_surname":
        if " " not in person.last or person.origin != "es_MX":
            return False
        fields["last_name"] = person.last.split()[0]
    elif error == "house_typo":
        digits = address.house.split()[0]
        i = rng.randrange(len(digits))
        fields["street"] = fields["street"].replace(
            digits, digits[:i] + str((int(digits[i]) + rng.randint(1, 8)) % 10) + digits[i + 1:], 1)
    elif error == "zip_typo":
        # A one-digit slip that lands on another county ZIP (one outside the county is refused
        # on the tablet and corrected there).
        county = {z for z, _c in la_zips()}
        z = address.zip
        slips = [z[:i] + d + z[i + 1:] for i in range(2, 5) for d in "0123456789" if d != z[i]]
        slips = [s for s in slips if s in county]
        if not slips:
            return False
        fields["zip"] = rng.choice(slips)
    return True


def repeat_of(rng: random.Random, person: Person) -> tuple[dict[str, str], tuple[str, ...]]:
    """Another line of the same signer, with 0-3 errors."""
    fields = render(person)
    count = rng.choices((0, 1, 2, 3), (25, 45, 22, 8))[0]
    names, weights = [n for n, _ in ERRORS], [w for _, w in ERRORS]
    applied: list[str] = []
    for _attempt in range(12):
        if len(applied) >= count:
            break
        error = rng.choices(names, weights)[0]
        if error in applied:
            continue
        if _apply(rng, person, fields, error):
            applied.append(error)
    return fields, tuple(applied)


# -------------------------------------------------------------------------------- drives


def generate_drive(n_entries: int, *, dup_rate: float = 0.06, seed: int = 20240601,
                   circulators: int | None = None) -> Drive:
    """A stream of ``n_entries`` entries of which ``dup_rate`` are repeat signatures."""
    if n_entries <= 0:
        return Drive([], seed, dup_rate, circulators or 1)
    rng = random.Random(seed)
    names = _Names(rng, seed)
    circulators = circulators or max(2, n_entries // 400)
    n_dups = round(n_entries * dup_rate)
    n_people = n_entries - n_dups
    people: list[Person] = []
    street_cache: dict = {}
    while len(people) < n_people:
        address = _new_address(rng, seed, street_cache)
        people.extend(_household(rng, names, address, len(people)))
    people = people[:n_people]
    rng.shuffle(people)  # signing order
    # (time, tiebreak, person, repeat?) ; originals at integer times, repeats later.
    events: list[tuple[float, int, Person, bool]] = [(float(i), i, p, False) for i, p in enumerate(people)]
    sources = [rng.randrange(n_people) for _ in range(n_dups)]
    for k, src in enumerate(sources):
        when = rng.uniform(src + 0.5, n_people + 0.5)
        events.append((when, n_people + k, people[src], True))
    events.sort(key=lambda e: (e[0], e[1]))
    # Each household tends to be signed by one circulator (door to door); repeats mostly not.
    home_circulator: dict[int, int] = {}
    entries: list[SynthEntry] = []
    seen: set[int] = set()
    error_counts: dict[str, int] = {}
    for index, (_t, _tb, person, repeat) in enumerate(events):
        if repeat:
            fields, errors = repeat_of(rng, person)
            original = home_circulator[person.person_id]
            circulator = original if rng.random() < 0.2 else rng.randrange(circulators)
            for e in errors or ("identical",):
                error_counts[e] = error_counts.get(e, 0) + 1
        else:
            fields, errors = render(person), ()
            circulator = home_circulator.setdefault(person.person_id, rng.randrange(circulators))
        entries.append(SynthEntry(index, person.person_id, circulator, fields,
                                  is_repeat=person.person_id in seen, errors=errors))
        seen.add(person.person_id)
    stats = {"people": n_people, "repeats": n_dups, "errors": dict(sorted(error_counts.items()))}
    return Drive(entries, seed, dup_rate, circulators, stats)


def captured_times(n: int, *, start: datetime | None = None) -> Iterator[datetime]:
    """Increasing capture times, a few seconds apart, for n entries."""
    moment = start or datetime(2024, 6, 1, 16, 0, tzinfo=UTC)
    for i in range(n):
        yield moment + timedelta(seconds=7 * i)
