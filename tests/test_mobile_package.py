"""The phone's package, made the way `flet build apk` makes it but without Flutter, then
started and used (issue 22).

1. The pyproject is read as flet-cli 1.0.5 reads it (tests/mobile_package.py): the phone's
   requirements are [project].dependencies plus [tool.flet.android].dependencies.
2. They alone are installed into a fresh venv. Every compiled distribution in it must be on
   Flet's mobile index at that version (tests/data/flet_mobile_index.txt) or have a
   pure-Python wheel of that version (pip finds one for the "any" platform).
3. The app folder is copied alone, with the excludes applied, as serious_python copies it.
4. flet-web (standing in for the Flutter shell, which serves the UI on a phone) is added, and
   main.py is started from the copy as it starts on an Android phone, with only those packages.
5. A person drives it in headless Chromium against a real server: enroll with the link,
   choose a PIN, open a section, save two signers, sync, see "Pending upload: 0"; then the
   page leaves the screen and the app shows its lock screen.
"""

from __future__ import annotations

import os
import subprocess
import sys
from email.parser import Parser
from pathlib import Path

import pytest
from browser_helpers import (
    CHROMIUM_ARGS,
    enroll,
    open_app,
    open_section,
    require_chromium,
    shot,
    shots_on_failure,
    type_signer,
    wait_text,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from metaphone_names import ALL_NAMES
from mobile_package import canonical, copy_app, flet_project, mobile_index
from server_helpers import free_port, running_server, stop_process, wait_healthy

from canvass.state.enrollment import enroll_link
from sync.matching import doorstep_keys, doorstep_probes, matching_keys

pytestmark = pytest.mark.browser

PY_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
SIGNERS = [
    {"first_name": "Rosa", "last_name": "Medina", "street": "210 West Temple Street", "zip": "90012"},
    {"first_name": "Tomas", "last_name": "Reyes", "street": "15 Olive Ave", "unit": "2", "zip": "91101"},
]


# What the browser does when its tab or window leaves the screen; Flutter turns it into the
# app lifecycle state "hide" (as the Flutter shell does when a phone's app goes to the back).
HIDE_PAGE = """() => {
    Object.defineProperty(document, "visibilityState", {configurable: true, get: () => "hidden"});
    Object.defineProperty(document, "hidden", {configurable: true, get: () => true});
    document.dispatchEvent(new Event("visibilitychange"));
    window.dispatchEvent(new Event("blur"));
}"""


def _pip(python: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", "-q", *args],
                          capture_output=True, text=True, timeout=timeout)


def _site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def installed_distributions(venv: Path) -> dict[str, tuple[str, bool]]:
    """canonical name -> (version, compiled): compiled when a wheel tag is not *-none-any or the
    distribution installed a native library."""
    found: dict[str, tuple[str, bool]] = {}
    for info in _site_packages(venv).glob("*.dist-info"):
        meta = Parser().parsestr((info / "METADATA").read_text(encoding="utf-8"), headersonly=True)
        wheel = (info / "WHEEL").read_text(encoding="utf-8") if (info / "WHEEL").exists() else ""
        tags = [line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:")]
        record = (info / "RECORD").read_text(encoding="utf-8") if (info / "RECORD").exists() else ""
        native = any(path.split(",")[0].endswith((".so", ".pyd", ".dylib")) for path in record.splitlines())
        compiled = native or any(not tag.endswith("-none-any") for tag in tags)
        found[canonical(meta["Name"])] = (meta["Version"], compiled)
    return found


def has_pure_wheel(python: Path, name: str, version: str, dest: Path) -> bool:
    result = _pip(python, "download", "--no-deps", "--only-binary=:all:", "--platform", "any",
                  "--implementation", "py", "--python-version", PY_VERSION, "-d", str(dest),
                  f"{name}=={version}", timeout=300)
    return result.returncode == 0


@pytest.fixture(scope="module")
def phone_venv(tmp_path_factory):
    """A fresh venv holding the phone's requirements alone (pip's cache makes it quick)."""
    project = flet_project("android")
    venv = tmp_path_factory.mktemp("phone") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    result = _pip(python, "install", *project.requirements)
    assert result.returncode == 0, result.stderr[-3000:]
    return venv


@pytest.fixture(scope="module")
def phone_app(tmp_path_factory):
    return copy_app(tmp_path_factory.mktemp("package") / "app")


def test_android_and_ios_get_the_same_versions():
    assert flet_project("android").requirements == flet_project("ios").requirements
    assert "flet==1.0.5" in flet_project("android").requirements


def test_every_compiled_package_is_on_the_mobile_index_or_has_a_pure_wheel(phone_venv, tmp_path):
    python = phone_venv / "bin" / "python"
    index = mobile_index()
    dists = installed_distributions(phone_venv)
    for name in ("flet", "sqlalchemy", "cryptography", "argon2-cffi", "requests", "certifi", "pydantic"):
        assert name in dists, name
    server_side = {"fastapi", "uvicorn", "psycopg", "psycopg-binary", "alembic", "rapidfuzz", "openpyxl",
                   "jellyfish", "flet-web", "uvloop", "httptools", "watchfiles", "python-multipart"}
    assert sorted(server_side & dists.keys()) == []
    not_for_phones = []
    checked = []
    for name, (version, compiled) in sorted(dists.items()):
        if not compiled or name in ("pip", "setuptools"):
            continue
        checked.append(name)
        if version in index.get(name, ()):
            continue
        if not has_pure_wheel(python, name, version, tmp_path):
            not_for_phones.append(f"{name}=={version}")
    assert not_for_phones == []
    assert {"cryptography", "pydantic-core", "cffi", "argon2-cffi-bindings", "msgpack"} <= set(checked)
    # certifi's CA bundle is a file inside the packages: what the sync client's TLS trusts.
    where = subprocess.run([str(python), "-c", "import certifi; print(certifi.where())"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_file() and str(phone_venv) in where


def test_the_packaged_app_starts_like_on_a_phone_and_syncs(phone_venv, tmp_path):
    chromium = require_chromium()
    python = phone_venv / "bin" / "python"
    app_dir = copy_app(tmp_path / "app")
    assert not (app_dir / "sync" / "server").exists() and not (app_dir / "tests").exists()
    result = _pip(python, "install", "flet-web==1.0.5")  # the Flutter shell's stand-in
    assert result.returncode == 0, result.stderr[-3000:]

    storage, port = tmp_path / "storage", free_port()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTHON", "FLET_", "CANVASS_", "VIRTUAL_ENV"))}
    env.update(FLET_PLATFORM="android", FLET_FORCE_WEB_SERVER="true", FLET_WEB_NO_CDN="true",
               FLET_SERVER_IP="127.0.0.1", FLET_SERVER_PORT=str(port),
               FLET_APP_STORAGE_DATA=str(storage), FLET_APP_STORAGE_TEMP=str(tmp_path / "temp"),
               PYTHONNOUSERSITE="1")
    from playwright.sync_api import sync_playwright

    with running_server(f"sqlite:///{tmp_path / 'server.db'}") as server:
        campaign = server.create_campaign()
        link = enroll_link(server.url, server.enroll_code(campaign, "Phone Circulator"))
        with open(tmp_path / "app.log", "wb") as log:
            app = subprocess.Popen([str(python), "main.py"], cwd=app_dir, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
            try:
                wait_healthy(f"http://127.0.0.1:{port}", app, path="/")
                with sync_playwright() as p:
                    browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                    with shots_on_failure(browser, "mobile-package"):
                        context, phone = open_app(browser, f"http://127.0.0.1:{port}", 390, 844)
                        enroll(phone, link)
                        open_section(phone, "P-0001")
                        for n, signer in enumerate(SIGNERS, start=1):
                            type_signer(phone, signer)
                            wait_text(phone, f"Saved line {n}")
                        phone.get_by_role("button", name="Sync now").click()
                        wait_text(phone, "Pending upload: 0", timeout=60_000)
                        shot(phone, "mobile-package-synced")
                        # The phone's home button: the page leaves the screen, the app locks.
                        phone.evaluate(HIDE_PAGE)
                        wait_text(phone, "Canvass is locked")
                        shot(phone, "mobile-package-locked-in-background")
                        context.close()
                    browser.close()
            finally:
                stop_process(app, timeout=20)
        log_text = (tmp_path / "app.log").read_text(errors="replace")
        assert "Traceback" not in log_text, log_text[-3000:]
        # The profile is in the app's private storage, not in the app folder or the home.
        assert any((storage / "profile").iterdir())
        assert not (app_dir / "profile").exists()
        # The server holds both signers (sent by the packaged app).
        from sqlalchemy import text
        with server.db.engine.connect() as connection:
            stored = connection.execute(text("SELECT count(*) FROM entries")).scalar_one()
        assert stored == 2


# ----------------------------------------------------------------- the same keys on both sides
_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ áéíñóúü'-.", max_size=16)
_NAME = st.sampled_from(ALL_NAMES) | _WORD
ENTRY = st.fixed_dictionaries({
    "first_name": _NAME, "middle_name": st.sampled_from(["", "Q", "Ann"]) | _NAME, "last_name": _NAME,
    "suffix": st.sampled_from(["", "Jr.", "SR", "III", "2nd"]),
    "street": st.builds("{} {} {}".format, st.integers(0, 99999), _NAME,
                        st.sampled_from(["St", "Avenue", "Blvd.", "Apt 4B", "#12", ""])),
    "unit": st.sampled_from(["", "4B", "Unit 2", "#7"]), "city": _NAME,
    "zip": st.from_regex(r"9[0-3][0-9]{3}(-[0-9]{4})?", fullmatch=True)})

DEVICE_KEYS = """
import base64, json, sys
from sync.matching import doorstep_keys, doorstep_probes, matching_keys
key = base64.b64decode(sys.argv[1])
print(json.dumps([[matching_keys(key, e), doorstep_keys(key, e), doorstep_probes(key, e)]
                  for e in json.load(sys.stdin)]))
"""


@settings(max_examples=6, deadline=None)
@given(entries=st.lists(ENTRY, min_size=20, max_size=40), key=st.binary(min_size=32, max_size=32))
def test_device_and_server_compute_the_same_keys(phone_venv, phone_app, entries, key):
    """The packaged app on the phone's packages (pure-Python Metaphone, the mobile index's
    pydantic/cryptography) and the server here compute the same keys: the door-step keys the
    server's filter holds and the probes the tablet looks up in it, and the exact matching keys
    (the tablet's own lines)."""
    import base64
    import json

    answer = subprocess.run([str(phone_venv / "bin" / "python"), "-c", DEVICE_KEYS,
                             base64.b64encode(key).decode()], cwd=phone_app,
                            input=json.dumps(entries), capture_output=True, text=True, timeout=120,
                            env={"PATH": os.environ.get("PATH", ""), "PYTHONNOUSERSITE": "1"})
    assert answer.returncode == 0, answer.stderr[-2000:]
    server = [[matching_keys(key, e), doorstep_keys(key, e), doorstep_probes(key, e)]
              for e in entries]
    assert json.loads(answer.stdout) == server
    assert sum(len(keys) for keys, _door, _probes in server) > 0  # not a comparison of empty lists
