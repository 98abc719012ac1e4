"""First run: enroll the device with a code (typed or pasted as a link), choose a PIN twice,
then fetch the campaign's settings and dedup index (enroll + a first sync).

The work is split so the UI can run the slow part (key derivation, network) off the event loop:
``prepare()`` checks the form, ``perform()`` does the blocking work and returns an outcome
without touching observable fields, ``apply(outcome)`` shows it. ``submit()`` chains the three.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import flet as ft

from canvass.state.session import Session, _store_module, store_path
from canvass.state.text import Text, txt

_CODE_RE = re.compile(r"[A-Za-z0-9-]{1,64}")


def enroll_link(server_url: str, code: str) -> str:
    """The enrollment link a campaign hands a circulator (parse_enroll_text reads it back)."""
    return f"canvass://enroll?server={quote(server_url, safe='')}&code={quote(code)}"


def parse_enroll_text(text: str) -> tuple[str | None, str]:
    """(server URL or None, code) from a typed code or a pasted link such as
    ``canvass://enroll?server=https%3A%2F%2Fx.org&code=ABCD-1234`` (or an https link with the
    same query). Anything else is taken as the code itself, trimmed."""
    text = (text or "").strip()
    if "?" in text and ("code=" in text):
        query = parse_qs(urlsplit(text).query)
        code = (query.get("code") or [""])[0].strip()
        server = (query.get("server") or [""])[0].strip() or None
        return server, code
    return None, text


def pin_is_acceptable(pin: str) -> bool:
    """The store's rule: at least 6 digits, or a passphrase of at least 8 characters."""
    return (pin.isdigit() and len(pin) >= 6) or len(pin) >= 8


@dataclass
class EnrollOutcome:
    store: Any = None
    error: Text | None = None
    notice: Text | None = None


@ft.observable
class Enrollment:
    def __init__(self, session: Session, *, server_url: str = "", device_name: str = "",
                 enroll_fn: Callable[..., Any] | None = None,
                 first_sync: Callable[[Any], bool] | None = None) -> None:
        self._session = session
        self._enroll_fn = enroll_fn
        self._first_sync = first_sync
        # What the boxes hold. Private, so that a keystroke notifies no one: a redraw per key
        # sent older values back into boxes being typed in, and a fast typist's PIN came out
        # short (issue 21, as the capture form measured). Assigning a field (``e.pin = ...``)
        # does notify, for a value the screen must show.
        self._values: dict[str, str] = {"server_url": server_url, "code": "",
                                        "device_name": device_name or "tablet", "pin": "", "pin2": ""}
        self.errors: dict[str, Text] = {}
        self.message: Text | None = None
        self.busy = False

    def typed(self, name: str, text: str) -> None:
        """A box's change event: what it holds now (no redraw)."""
        if name == "code":
            self.set_code(text)
        elif name in self._values:
            self._values[name] = text

    def set_code(self, text: str) -> None:
        """A pasted link fills the server address too (shown: the screen redraws)."""
        server, code = parse_enroll_text(text)
        if server:
            self.server_url = server
            self.code = code
        else:
            self._values["code"] = code

    server_url = property(lambda self: self._values["server_url"],
                          lambda self, v: self._values.__setitem__("server_url", v))
    code = property(lambda self: self._values["code"],
                    lambda self, v: self._values.__setitem__("code", v))
    device_name = property(lambda self: self._values["device_name"],
                           lambda self, v: self._values.__setitem__("device_name", v))
    pin = property(lambda self: self._values["pin"],
                   lambda self, v: self._values.__setitem__("pin", v))
    pin2 = property(lambda self: self._values["pin2"],
                    lambda self, v: self._values.__setitem__("pin2", v))

    def prepare(self) -> bool:
        errors: dict[str, Text] = {}
        server, code = parse_enroll_text(self.code)
        if server:
            self.server_url = server
            self.code = code
        if not self.server_url.strip().startswith(("http://", "https://")):
            errors["server_url"] = txt("enroll.err.server_missing")
        if not _CODE_RE.fullmatch(self.code.strip()):
            errors["code"] = txt("enroll.err.code_missing")
        if not pin_is_acceptable(self.pin):
            errors["pin"] = txt("enroll.err.pin_short")
        elif self.pin != self.pin2:
            errors["pin2"] = txt("enroll.err.pin_mismatch")
        self.errors = errors
        self.message = None
        if errors:
            return False
        self.busy = True
        return True

    def perform(self) -> EnrollOutcome:
        """Blocking: create the store with the PIN, enroll, first sync. Touches no observable."""
        from sync.errors import EnrollmentFailed, Offline, RateLimited, ServerUnavailable

        enroll_fn = self._enroll_fn
        if enroll_fn is None:
            from sync.enroll import enroll as enroll_fn
        path = store_path(self._session.profile_dir)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        _remove_store_files(path)  # a half-finished earlier attempt
        store = _store_module().DeviceStore.create(path, self.pin)
        try:
            enroll_fn(self.server_url.strip(), self.code.strip(), self.device_name.strip() or "device",
                      store)
        except EnrollmentFailed:
            return _failed(store, path, "enroll.err.refused")
        except (Offline, ServerUnavailable, RateLimited):
            return _failed(store, path, "enroll.err.offline")
        except Exception:
            return _failed(store, path, "enroll.err.failed")
        notice = None
        first_sync = self._first_sync or _default_first_sync
        try:
            ok = first_sync(store)
        except Exception:
            ok = False
        if not ok:
            notice = txt("enroll.first_sync_failed")
        return EnrollOutcome(store=store, notice=notice)

    def apply(self, outcome: EnrollOutcome) -> bool:
        self.busy = False
        self.pin = self.pin2 = ""
        if outcome.store is None:
            self.message = outcome.error
            return False
        self.message = outcome.notice
        self._session.enrolled(outcome.store)
        return True

    def submit(self) -> bool:
        """All three steps, synchronously (tests, command line)."""
        if not self.prepare():
            return False
        return self.apply(self.perform())


def _default_first_sync(store: Any) -> bool:
    from canvass.state.device_sync import device_sync_client

    return bool(device_sync_client(store, max_attempts=2).sync_once().ok)


def _remove_store_files(path: Path) -> None:
    for candidate in Path(path).parent.glob(Path(path).name + "*"):
        candidate.unlink(missing_ok=True)


def _failed(store: Any, path: Path, key: str) -> EnrollOutcome:
    try:
        store.close()
    finally:
        _remove_store_files(path)
    return EnrollOutcome(error=txt(key))
