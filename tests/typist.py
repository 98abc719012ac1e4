"""A scripted typist for the circulator's capture form, and what it needs to check its work.

The typist keys signers as a fast person does, with the form's convention (issue 21): Tab moves
to the next field (an empty optional field costs one Tab), Enter in the last field saves. No
wait between keys, after a Tab or after an Enter, and never for the focus: a person does not
wait. The saved lines are read back from the device's own store, field by field.
"""

from __future__ import annotations

import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from canvass.state.capture import PAPER_FIELDS
from canvass.state.session import store_path
from canvass.store import DeviceStore

KEY_DELAY_MS = 40  # a fast typist: 25 keys a second

_FIRST = ["Maria", "John", "Aiko", "Luis", "Grace", "Omar", "Nina", "Ines", "Tomas", "Rosa",
          "Kwame", "Siobhan", "Dmitri", "Leilani", "Ahmad", "Beatriz", "Chen", "Delphine",
          "Esteban", "Farah"]
_LAST = ["Alvarado", "O'Brien", "Tanaka", "Garcia-Ruiz", "Kim", "Haddad", "Petrov", "Duarte",
         "Reyes", "Medina", "Mensah", "Gallagher", "Volkov", "Kahale", "Karimi", "Santos",
         "Wong", "Moreau", "Castillo", "Nasser"]
_STREETS = ["3900 Wilshire Blvd", "45 Elm St", "7 Ocean Ave", "900 Sunset Blvd", "31 Pine St",
            "12 Oak St", "88 Vine St", "5 Figueroa St", "210 W Temple St", "15 Olive Ave"]
# (ZIP, the city typed; "" when the person leaves it to the ZIP's autofill)
_PLACES = [("90012", "Los Angeles"), ("90401", ""), ("90802", "Long Beach"), ("90028", ""),
           ("91101", "Pasadena"), ("90004", "Los Angeles"), ("90038", ""), ("90015", "Los Angeles"),
           ("91106", "Pasadena"), ("90291", "Venice")]


def signers(count: int, *, run: int = 0) -> list[dict[str, str]]:
    """``count`` distinct signers, some with a middle name, suffix or apartment, some leaving
    the city to the ZIP. Each ``run`` pairs the names differently and numbers the houses
    differently, so that no run's signer is a repeat of another run's (a repeat is warned, and
    its first Enter does not save)."""
    out = []
    for i in range(count):
        zip_code, city = _PLACES[i % len(_PLACES)]
        number, street = _STREETS[i % len(_STREETS)].split(" ", 1)
        out.append({
            "first_name": _FIRST[(i + run) % len(_FIRST)],
            "middle_name": "Q" if i % 3 == 1 else "",
            "last_name": _LAST[(i * 7 + run * 3) % len(_LAST)],
            "suffix": "Jr" if i % 5 == 3 else "",
            "street": f"{int(number) + i * 10 + run * 1000} {street}",
            "unit": f"{i + 1}B" if i % 4 == 2 else "",
            "city": city,
            "zip": zip_code,
        })
    return out


def type_text(page, text: str, *, delay: int = KEY_DELAY_MS) -> None:
    """Type ``text`` as a person does on a keyboard: a capital is Shift held with its letter
    (the page's keyboard listener learns the case from Shift, as from a real keyboard), every
    key ``delay`` ms after the one before."""
    for n, ch in enumerate(text):
        if n:
            page.wait_for_timeout(delay)
        if ch.isalpha() and ch.isupper() and ch.lower() != ch:
            page.keyboard.press(f"Shift+{ch}")
        else:
            page.keyboard.type(ch)


def key_signer(page, signer: dict[str, str], *, delay: int = KEY_DELAY_MS) -> int:
    """Key one signer: each field's text, Tab to the next field (also past an empty one),
    Enter in the ZIP, every key ``delay`` ms after the one before, Tab and Enter included: the
    typist's own pace, with no wait for the page (the focus, a label) anywhere. Returns the
    keystrokes pressed."""
    keys = 0
    for name in PAPER_FIELDS:
        text = signer.get(name, "")
        if text:
            type_text(page, text, delay=delay)
            page.wait_for_timeout(delay)  # the pace between this field's last key and Tab
            keys += len(text)
        page.keyboard.press("Enter" if name == PAPER_FIELDS[-1] else "Tab")
        page.wait_for_timeout(delay)  # and between Tab (or Enter) and the next key
        keys += 1
    return keys


def expected_line(signer: dict[str, str], city_for_zip) -> dict[str, str]:
    """What the saved line must hold: what was typed, and the ZIP's city where none was."""
    want = {name: signer.get(name, "") for name in PAPER_FIELDS}
    if not want["city"]:
        city = city_for_zip(want["zip"]) or ""
        want["city"] = city.title() if city.isupper() else city
    return want


def saved_lines(profile: Path, pin: str, section: str) -> dict[int, dict[str, str]]:
    """line -> the live entry's paper fields, from the device's store (the app stopped)."""
    store = DeviceStore.open(store_path(profile))
    try:
        store.unlock(pin)
        return {s.entry.line: {name: getattr(s.entry, name) or "" for name in PAPER_FIELDS}
                for s in store.entries(section=section) if s.superseded_by is None}
    finally:
        store.close()


def city_lookup(profile: Path):
    """The ZIP -> city function of the campaign the device enrolled in."""
    from sync.jurisdiction import jurisdiction_for

    store = DeviceStore.open(store_path(profile))
    try:
        campaign = store.get_setting("campaign", {}) or {}
    finally:
        store.close()
    return jurisdiction_for(campaign["jurisdiction"], campaign.get("jurisdiction_zips") or ()).city_for


def compare(typed: list[dict[str, str]], saved: dict[int, dict[str, str]], city_for_zip,
            first_line: int = 1) -> list[str]:
    """Every difference between what was typed and what was saved, line by line and field by
    field (no names in the report: field names and line numbers only)."""
    problems = []
    for n, signer in enumerate(typed, start=first_line):
        got = saved.get(n)
        if got is None:
            problems.append(f"line {n}: not saved")
            continue
        want = expected_line(signer, city_for_zip)
        problems += [f"line {n}: {name} differs" for name in PAPER_FIELDS if got[name] != want[name]]
    extra = sorted(set(saved) - set(range(first_line, first_line + len(typed))))
    problems += [f"line {n}: saved but not typed" for n in extra]
    return problems


@contextmanager
def busy_cores(count: int = 2, seconds: float = 240):
    """``count`` spinning processes keeping the cores busy (a tablet's CPU is slower than this
    machine's); each ends by itself after ``seconds`` even if the test is killed."""
    spin = f"import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass"
    procs = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(count)]
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


class Stopwatch:
    def __init__(self) -> None:
        self.start = time.monotonic()

    def seconds(self) -> float:
        return time.monotonic() - self.start
