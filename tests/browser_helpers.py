"""Driving the circulator app (Flet web build) in headless Chromium with Playwright.

See /work/shared/flet-web-testing.md: the app is served with no_cdn, Chromium is Debian's
/usr/bin/chromium, Flutter's semantics tree is switched on and controls are found by the
labels a person reads. Waits are on what a person waits for (a label, the focus), never sleeps.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from server_helpers import stop_process, wait_healthy
from typist import KEY_DELAY_MS, Stopwatch, key_signer

CHROMIUM = os.environ.get("CANVASS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
WAIT_MS = 20_000
STAFF_WAIT_MS = 30_000  # the staff app, served by the central server at /app
PIN = "246813"  # the circulator's PIN in the browser tests


def require_chromium() -> str:
    """The Chromium path; fails under CI=true when missing, skips otherwise."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium is required under CI=true ({CHROMIUM} not found)")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("playwright is required under CI=true")
        pytest.skip("playwright not installed")
    return CHROMIUM


@contextmanager
def served_app(profile_dir: Path, server_url: str, port: int):
    """The real app, started the way a person starts it: `canvass app --server URL`."""
    repo = Path(__file__).resolve().parent.parent
    log = open(Path(profile_dir).with_suffix(".log"), "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "canvass.cli", "app", "--server", server_url, "--profile",
         str(profile_dir), "--port", str(port), "--no-browser"],
        cwd=str(repo), stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(repo)})
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, path="/")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc, timeout=20)  # SIGTERM: the app closes its store
        log.close()


# Flutter's semantics tree (the DOM the tests read, as a screen reader does) is switched on by
# clicking its placeholder. This clicks it the moment the engine inserts it, before the app draws
# anything: a field the app focuses before semantics exist (the staff login's autofocused
# Username) never gets its semantics element focused or filled, though a person sees the text
# typed into it. Clicking it later, from the test, lost that race on a busy machine.
SEMANTICS_ON_LOAD = """new MutationObserver((_, watch) => {
    const placeholder = document.querySelector('flt-semantics-placeholder');
    if (placeholder) { watch.disconnect(); placeholder.click(); window.__canvassSemantics = true; }
}).observe(document, {childList: true, subtree: true});"""


def goto_app(page, url: str) -> None:
    """Open a Flet app's page with the semantics tree on from its first frame."""
    page.add_init_script(SEMANTICS_ON_LOAD)
    page.goto(url)
    page.wait_for_function("() => window.__canvassSemantics === true", timeout=60_000)


def open_app(browser, url: str, width: int, height: int):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    goto_app(page, url)
    return context, page


def box(page, label: str):
    return page.get_by_role("textbox", name=label, exact=True)


def wait_text(page, text: str, timeout: int = WAIT_MS):
    page.get_by_text(text, exact=False).first.wait_for(timeout=timeout)


def wait_focus(page, label: str, timeout: int = WAIT_MS) -> None:
    page.wait_for_function(
        "l => document.activeElement && document.activeElement.getAttribute('aria-label') === l",
        arg=label, timeout=timeout)


def fill(page, label: str, value: str, *, check: bool = True) -> None:
    """Fill a text field once the focus has settled on it, and wait until it shows the value:
    text set while Flutter still moves the focus can be lost (see settled_focus)."""
    from playwright.sync_api import expect

    field = box(page, label)
    field.wait_for(timeout=WAIT_MS)
    click_into(page, "textbox", label)
    field.fill(value)
    if check:  # off where the app rewrites what was typed (an enrollment link becomes its code)
        expect(field).to_have_value(value, timeout=WAIT_MS)


def scroll_to(page, locator, *, steps: int = 25):
    """Scroll the app (mouse wheel over it) until ``locator`` is in Flutter's semantics tree:
    Flutter only exposes what is on or near the screen."""
    size = page.viewport_size or {"width": 390, "height": 844}
    page.mouse.move(size["width"] / 2, size["height"] * 0.6)
    for _ in range(steps):
        try:
            locator.first.wait_for(timeout=1000)
            return locator.first
        except Exception:
            page.mouse.wheel(0, size["height"] / 2)
    locator.first.wait_for(timeout=WAIT_MS)
    return locator.first


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@contextmanager
def shots_on_failure(browser, prefix: str = "failure"):
    """On any failure, a screenshot of every open page *before* the app servers stop (after
    they stop, Flet's client shows its reconnecting "Working..." screen, which says nothing)."""
    try:
        yield
    except BaseException:
        for c, context in enumerate(browser.contexts):
            for n, page in enumerate(context.pages):
                try:
                    shot(page, f"{prefix}-{c}-{n}")
                    # CI keeps the test's output, not the screenshot: say what was on screen.
                    print(f"on screen in {prefix}-{c}-{n}:", screen_text(page))
                except Exception:
                    pass
        raise


def screen_text(page) -> list[str]:
    """The texts and labels the page's semantics tree exposes, in document order."""
    return page.evaluate("""() => {
        const seen = [];
        for (const el of document.querySelectorAll('flt-semantics, input, textarea')) {
            const label = el.getAttribute('aria-label');
            const own = [...el.childNodes].filter(n => n.nodeType === 3)
                .map(n => n.textContent.trim()).join(' ');
            for (const t of [label, own]) if (t && !seen.includes(t)) seen.push(t);
        }
        return seen;
    }""")


def settled_focus(page, role: str, name: str, *, timeout: int = WAIT_MS) -> None:
    """Wait until ``role``/``name`` holds the focus and keeps it for a few frames.

    With Flutter's semantics on, a Tab out of a text field moves the DOM focus twice: the
    browser's own Tab moves it to the next element at once, the engine then puts it back on the
    text field still being edited, and the framework's focus traversal moves it on a frame or
    more later. Pressing the next key in that window lands in the old field and a Tab is lost
    (a bare Flet page of text fields loses Tabs sent with no gap the same way). So the focus the
    next key may rely on is the one that survives a few animation frames, not the first one."""
    from playwright.sync_api import expect

    target = page.get_by_role(role, name=name, exact=True)
    for _ in range(20):
        expect(target).to_be_focused(timeout=timeout)
        page.evaluate("() => new Promise(done => { let n = 0; const step = () => "
                      "(++n >= 4 ? done() : requestAnimationFrame(step)); requestAnimationFrame(step); })")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"the focus never settled on {name}")


def click_into(page, role: str, name: str, *, tries: int = 5) -> None:
    """Click a field and wait until the focus has settled on it. A click that lands while the
    page is still building (the login form just drawn) may leave the focus elsewhere: click
    again, as a person would."""
    from playwright.sync_api import expect

    target = page.get_by_role(role, name=name, exact=True)
    expect(target).to_be_attached(timeout=WAIT_MS)
    for attempt in range(tries):
        target.click()
        try:
            settled_focus(page, role, name, timeout=3_000)
            return
        except AssertionError:
            if attempt == tries - 1:
                raise


def log_in(page, username: str, password: str) -> None:
    """Log in to the staff app as a person does: click the box, type, then Log in."""
    from playwright.sync_api import expect

    for name, text in (("Username", username), ("Password", password)):
        box = page.get_by_role("textbox", name=name)
        # Type only once the focus has settled on the box (see settled_focus): a key sent
        # while Flutter is still moving the focus is lost.
        click_into(page, "textbox", name)
        page.keyboard.type(text, delay=25)
        expect(box).to_have_value(text)
    page.get_by_role("button", name="Log in").click()


@contextmanager
def staff_page(url: str, user: str, password: str, shots: str = "failure-staff", height: int = 800):
    """A laptop-wide page of the staff app at ``url`` (its /app/ address), logged in as
    ``user``; screenshots on failure."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            with shots_on_failure(browser, shots):
                page = browser.new_page(viewport={"width": 1280, "height": height})
                goto_app(page, url)
                log_in(page, user, password)
                yield page
        finally:
            browser.close()


def log_in_by_keyboard(page, username: str, password: str) -> None:
    """Log in to the staff app by keyboard alone: type the name, Tab, the password, Enter;
    back once the app says who is signed in."""
    from playwright.sync_api import expect

    box = page.get_by_role("textbox", name="Username")
    click_into(page, "textbox", "Username")
    page.keyboard.type(username, delay=25)
    expect(box).to_have_value(username, timeout=STAFF_WAIT_MS)
    page.keyboard.press("Tab")
    settled_focus(page, "textbox", "Password")
    page.keyboard.type(password, delay=25)
    page.keyboard.press("Enter")
    expect(page.get_by_text(f"Signed in as {username}")).to_be_attached(timeout=STAFF_WAIT_MS)


# ---- the circulator app's screens


def type_signer(page, signer: dict[str, str]) -> None:
    """Keyboard alone, at a person's pace and with no wait for the focus: Tab moves, Enter in
    the ZIP saves (the typist of the fast-capture test)."""
    key_signer(page, signer)


def enroll(page, code: str) -> None:
    box(page, "Enrollment code or link").wait_for(timeout=60_000)
    fill(page, "Enrollment code or link", code, check=False)
    fill(page, "Choose a PIN (at least 6 digits)", PIN)
    fill(page, "Repeat the PIN", PIN)
    page.keyboard.press("Enter")  # Enter on the second PIN enrolls
    box(page, "Section serial number").wait_for(timeout=60_000)


def open_section(page, serial: str) -> None:
    """Open ``serial`` and be ready to type its first signer: a person waits for the section's
    heading, not for the focus (keys typed before it lands are carried: canvass.state.carry)."""
    fill(page, "Section serial number", serial)
    page.keyboard.press("Enter")
    wait_text(page, f"Section {serial}")


def key_run(page, section: str, typed: list[dict[str, str]], *,
            delay: int = KEY_DELAY_MS) -> tuple[int, float]:
    """Open ``section`` and key every signer without a pause; wait, as a person would, for
    the last one's "Saved line N". Keystrokes and seconds spent."""
    open_section(page, section)
    clock = Stopwatch()
    keys = sum(key_signer(page, signer, delay=delay) for signer in typed)
    wait_text(page, f"Saved line {len(typed)}", timeout=60_000)
    return keys, clock.seconds()
