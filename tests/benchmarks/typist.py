"""A scripted typist on the circulator's capture form (issue 21): keystrokes and seconds per
signer, and how many lines were saved exactly as typed.

    python -m tests.benchmarks.typist [--signers 20] [--delay 40 --delay 120] [--busy]

A real server (``canvass.demo.DemoServer``), the app served on a fresh profile, headless
Chromium (Debian's), enrolled at phone size. For each key delay, a new section and ``--signers``
made-up signers keyed the form's way (tests/typist.py: Tab between fields, an empty field costs
one Tab, Enter in the ZIP saves; capitals with Shift, as on a keyboard), no wait for the page
anywhere; then the wait a person makes for the last "Saved line N". The saved lines are read
back from the device's store, field by field. ``--busy`` keeps both cores busy with spinning
processes while typing (a tablet's CPU is slower than this machine's).

The baseline in the same run is the same typist at an ordinary typist's pace (250 ms a key):
what "saved right" looks like when nothing is fast.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

BASELINE_MS = 250


def run(signers: int, delays: list[int], busy: bool) -> list[dict]:
    from browser_helpers import CHROMIUM_ARGS, PIN, enroll, key_run, open_app, require_chromium, served_app
    from playwright.sync_api import sync_playwright
    from typist import busy_cores, city_lookup, compare, saved_lines
    from typist import signers as made_up

    from canvass.demo import DemoServer, free_port

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        server = DemoServer(tmp_path / "server").start()
        profile = tmp_path / "device"
        try:
            code = server.enroll_code("Circulator")
            with sync_playwright() as p, served_app(profile, server.url, free_port()) as url:
                browser = p.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)
                _, page = open_app(browser, url, 390, 844)
                enroll(page, code)
                plan = [(BASELINE_MS, False)] + [(d, busy) for d in delays]
                typed = {}
                for n, (delay, loaded) in enumerate(plan):
                    section = f"B-{n + 1:04d}"
                    typed[section] = made_up(signers, run=n)
                    if n:
                        page.get_by_role("button", name="Other section").click()
                    with busy_cores(2, seconds=600) if loaded else nullcontext():
                        keys, seconds = key_run(page, section, typed[section], delay=delay)
                    rows.append({"section": section, "delay": delay, "busy": loaded,
                                 "keys": keys, "seconds": seconds})
                browser.close()
        finally:
            server.stop()
        city_for_zip = city_lookup(profile)
        for row in rows:
            saved = saved_lines(profile, PIN, row["section"])
            problems = compare(typed[row["section"]], saved, city_for_zip)
            wrong_lines = {p.split(":")[0] for p in problems if not p.endswith("saved but not typed")}
            row["right"] = signers - len(wrong_lines)
            row["wrong_fields"] = sorted({p.split(": ")[1] for p in problems})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signers", type=int, default=20)
    parser.add_argument("--delay", type=int, action="append",
                        help="ms between keys (repeatable; default 40 and 120)")
    parser.add_argument("--busy", action="store_true", help="both cores kept busy while typing")
    args = parser.parse_args(argv)
    rows = run(args.signers, args.delay or [40, 120], args.busy)
    print(f"{'ms/key':>7} {'busy':>5} {'signers':>8} {'saved right':>12} {'keys/signer':>12} "
          f"{'s/signer':>9} {'vs 250 ms':>10}  wrong fields")
    base = rows[0]["seconds"] / args.signers
    for row in rows:
        per = row["seconds"] / args.signers
        print(f"{row['delay']:>7} {'yes' if row['busy'] else 'no':>5} {args.signers:>8} "
              f"{row['right']:>12} {row['keys'] / args.signers:>12.1f} {per:>9.2f} "
              f"{per / base:>10.2f}  {', '.join(row['wrong_fields']) or '-'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
