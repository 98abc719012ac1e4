"""A fast circulator keys signers in headless Chromium and loses nothing (issue 21).

Tab moves, Enter saves: 20 signers in a row at 40 ms a key, Tab between fields (an empty
optional field is skipped with one Tab), Enter in the ZIP, no wait between keys, after a Tab or
after an Enter, and never for the focus. At phone size (390x844), at tablet size (820x1180),
and at phone size again while two spinning processes keep both cores busy. Every saved line,
read back from the device's store, equals what was typed, field by field.

Then the check before the save at that speed: a repeat signer's Enter shows the warning next to
the save action and saves nothing; a second Enter saves; a correction of a saved line saves at
its first Enter, not warned against itself.
"""

from __future__ import annotations

import pytest
from browser_helpers import box, open_app, scroll_to, served_app, shot, shots_on_failure, wait_text
from test_browser_circulator import PIN, chromium, enroll, open_section  # noqa: F401 (a fixture)
from typist import Stopwatch, busy_cores, city_lookup, compare, key_signer, saved_lines, signers

from canvass.demo import DemoServer, free_port

pytestmark = pytest.mark.browser

COUNT = 20
RUNS = [  # (section, width, height, cores kept busy)
    ("F-0001", 390, 844, False),
    ("F-0002", 820, 1180, False),
    ("F-0003", 390, 844, True),
]


def key_run(page, section: str, typed: list[dict[str, str]]) -> tuple[int, float]:
    """Open ``section`` and key every signer without a pause; wait, as a person would, for
    the last one's "Saved line N". Keystrokes and seconds spent."""
    open_section(page, section)
    clock = Stopwatch()
    keys = sum(key_signer(page, signer) for signer in typed)
    wait_text(page, f"Saved line {len(typed)}", timeout=60_000)
    return keys, clock.seconds()


def change_section(page) -> None:
    page.get_by_role("button", name="Change section").click()
    box(page, "Section serial number").wait_for(timeout=20_000)


def test_twenty_signers_at_forty_ms_a_key_phone_tablet_and_busy(tmp_path, chromium):  # noqa: F811
    server = DemoServer(tmp_path / "server").start()
    profile = tmp_path / "device"
    typed = {section: signers(COUNT, run=n) for n, (section, *_) in enumerate(RUNS)}
    figures = {}
    try:
        code = server.enroll_code("Circulator F")
        with served_app(profile, server.url, free_port()) as url, \
                shots_on_failure(chromium, "failure-fast"):
            _, page = open_app(chromium, url, 390, 844)
            enroll(page, code)
            for n, (section, width, height, busy) in enumerate(RUNS):
                if n:
                    change_section(page)
                page.set_viewport_size({"width": width, "height": height})
                if busy:
                    with busy_cores(2, seconds=240):
                        figures[section] = key_run(page, section, typed[section])
                else:
                    figures[section] = key_run(page, section, typed[section])
                shot(page, f"fast-{section}")
    finally:
        server.stop()

    city_for_zip = city_lookup(profile)
    problems = {}
    for section, width, height, busy in RUNS:
        saved = saved_lines(profile, PIN, section)
        problems[section] = compare(typed[section], saved, city_for_zip)
        keys, seconds = figures[section]
        right = COUNT - len({p.split(":")[0] for p in problems[section]
                             if not p.endswith("saved but not typed")})
        print(f"{section} {width}x{height}{' cores busy' if busy else ''}: {COUNT} signers typed, "
              f"{right} saved right, {keys} keys, {seconds / COUNT:.2f} s per signer")
    assert problems == {section: [] for section, *_ in RUNS}


REPEAT = {"first_name": "Rosalind", "middle_name": "", "last_name": "Quintero", "suffix": "",
          "street": "4411 Huntington Dr", "unit": "", "city": "", "zip": "90032"}


def test_repeat_signer_is_warned_before_the_save_and_a_correction_is_not(tmp_path, chromium):  # noqa: F811
    from playwright.sync_api import expect

    server = DemoServer(tmp_path / "server").start()
    profile = tmp_path / "device"
    try:
        code = server.enroll_code("Circulator R")
        with served_app(profile, server.url, free_port()) as url, \
                shots_on_failure(chromium, "failure-repeat"):
            _, page = open_app(chromium, url, 390, 844)
            enroll(page, code)
            open_section(page, "R-0001")
            key_signer(page, REPEAT)
            key_signer(page, REPEAT)  # at once: the same person again
            wait_text(page, "This person has probably already signed.")
            save_anyway = page.get_by_role("button", name="Save line 2 anyway")
            expect(save_anyway).to_be_visible()
            shot(page, "fast-repeat-warned")
            assert page.get_by_text("Saved line 2").count() == 0
            # nothing typed is lost: the form still holds the repeat signer
            expect(box(page, "Last name")).to_have_value("Quintero")
            page.keyboard.press("Enter")  # the second, deliberate Enter
            wait_text(page, "Saved line 2")
            wait_text(page, "Pending upload: 0", timeout=60_000)

            # --- correct line 1: saved at the first Enter, no warning against itself ---
            scroll_to(page, page.get_by_role("button", name="Correct line 1")).click()
            wait_text(page, "Correcting line 1")
            last = box(page, "Last name")
            last.click()
            page.keyboard.press("End")
            page.keyboard.type("s", delay=40)
            page.keyboard.press("Enter")
            wait_text(page, "Corrected line 1")
            assert page.get_by_text("This person has probably already signed.").count() == 0
            shot(page, "fast-correction")
    finally:
        server.stop()

    lines = saved_lines(profile, PIN, "R-0001")
    assert sorted(lines) == [1, 2]
    assert lines[1]["last_name"] == "Quinteros"
    assert lines[2]["last_name"] == "Quintero"
