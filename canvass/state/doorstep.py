"""The door-step check on the device (issue 15): is the person at the door already a signer?

While the circulator types, once first name, last name, street and ZIP are in, the form's
values go to the server (``SyncClient.doorstep_check``: its full matcher, one of three words
back) -- debounced, on a timer thread, never on the UI thread: typing never waits for it.
At the save request the capture form's pre-save check (``capture.duplicate_check``) asks
``DoorstepCheck.check(form)``:

- the server answered for exactly these values: its answer wins. "probably_signed" warns
  ("duplicate", from the server); "maybe" warns softly ("maybe_duplicate": the person may
  have signed, ask), "no" does not. Lines of this tablet not synced yet are unknown to the
  server: they still warn, from the tablet.
- the server could not be reached (offline, timed out, refused, rate-limited): the tablet's
  own check answers (``form.duplicate_answer()``: its lines and its offline filter), "maybe"
  included.
Either warning stops the first Enter (the capture form's check before the save).
- no answer yet: one that is on its way is awaited briefly; if none was asked (Enter came
  before the debounce), it is asked now, with the client's short timeout -- the person has
  stopped typing to read.

``source`` says where the last warning came from ("server" / "tablet"); the form shows it
with the one message. Nothing here logs or keeps the values beyond the current signer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sync.protocol import MATCHED_FIELDS

log = logging.getLogger("canvass.app")

# What the server needs before a check means anything; the tablet's own check and the
# registration check need the same (canvass.state.capture).
NEEDS: tuple[str, ...] = ("first_name", "last_name", "street", "zip")
# What the matcher reads: the city is not among them, so the city the form fills from the
# ZIP at the save request does not ask again.
SENT: tuple[str, ...] = MATCHED_FIELDS
PROBABLY_SIGNED = "probably_signed"
MAYBE = "maybe"
SERVER, TABLET = "server", "tablet"
# The door-step word -> the capture form's warning (canvass/i18n capture.warn.*).
_WARNINGS = {PROBABLY_SIGNED: "duplicate", MAYBE: "maybe_duplicate"}


def warning_for(word: str | None) -> str | None:
    """"duplicate", "maybe_duplicate" or None for a door-step word."""
    return _WARNINGS.get(word or "")
UNREACHABLE = None  # an answer slot: the server could not be asked

# Ask function: the form's values in, the server's word out; any exception = unreachable.
Ask = Callable[[Mapping[str, str]], str]


def _key(values: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(" ".join((values.get(name) or "").split()).casefold() for name in SENT)


class DoorstepCheck:
    def __init__(self, ask: Ask, *, debounce: float = 0.7, wait_at_save: float = 2.0,
                 unreachable_for: float = 15.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._ask = ask
        self.debounce, self.wait_at_save, self.unreachable_for = debounce, wait_at_save, unreachable_for
        self._clock = clock
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        # The one signer in hand: the key asked for, its answer (word or UNREACHABLE), when,
        # and an event set once answered. Older answers are dropped: values change as typed.
        self._asked: tuple[str, ...] | None = None
        self._answer: str | None = UNREACHABLE
        self._answered_at = 0.0
        self._done = threading.Event()
        self.source = TABLET  # where the last warning came from
        self.asked = 0  # requests sent (for tests and the benchmark)

    # ---------------------------------------------------------------- while typing
    def typed(self, values: Mapping[str, str]) -> None:
        """A keystroke changed the form: (re)arm the debounce once the needed fields are in.
        Cheap and never blocking (called on every keystroke)."""
        if not all((values.get(n) or "").strip() for n in NEEDS):
            self._cancel()
            return
        key = _key(values)
        with self._lock:
            if key == self._asked:
                return  # asked already (an edit that changed nothing the server reads)
            if self._timer is not None:
                self._timer.cancel()
            snapshot = {name: values.get(name) or "" for name in SENT}
            self._timer = threading.Timer(self.debounce, self._send, (key, snapshot))
            self._timer.daemon = True
            self._timer.start()

    def _cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _send(self, key: tuple[str, ...], fields: dict[str, str]) -> None:
        done = threading.Event()
        with self._lock:
            self._asked, self._answer, self._done = key, UNREACHABLE, done
            self._timer = None
        try:
            self.asked += 1
            word = str(self._ask(fields))
        except Exception as exc:  # offline, timeout, 429, refused: the tablet answers
            log.info("door-step check not answered by the server (%s)", type(exc).__name__)
            word = UNREACHABLE
        with self._lock:
            if self._asked == key:
                self._answer, self._answered_at = word, self._clock()
        done.set()

    # ---------------------------------------------------------------- at the save request
    def server_answer(self, values: Mapping[str, str]) -> str | None:
        """The server's word for these values, or UNREACHABLE (None) when it cannot say."""
        key = _key(values)
        with self._lock:
            asked, done = self._asked, self._done
            fresh = asked == key and done.is_set() and (
                self._answer is not UNREACHABLE
                or self._clock() - self._answered_at < self.unreachable_for)
        if asked == key and not done.is_set():
            done.wait(self.wait_at_save)  # on its way: the circulator waits a moment
        elif not fresh:
            self._cancel()
            self._send(key, {name: values.get(name) or "" for name in SENT})
        with self._lock:
            return self._answer if self._asked == key else UNREACHABLE

    def check(self, form: Any) -> str | None:
        """The pre-save check's answer: "duplicate", "maybe_duplicate" or None; sets ``source``."""
        values = form.values
        if not all((values.get(n) or "").strip() for n in NEEDS):
            return None
        # A correction: the server holds the corrected line itself and is sent no ids to leave
        # it out, so the tablet's check (which does) answers.
        word = UNREACHABLE if form.correcting is not None else self.server_answer(values)
        if word is UNREACHABLE:
            self.source = TABLET
            return warning_for(form.duplicate_answer())
        if word == PROBABLY_SIGNED:
            self.source = SERVER
            return "duplicate"
        # The server's word wins over the offline filter; it cannot know this tablet's lines
        # not synced yet, which the tablet still checks (a hit there is certain).
        if form.duplicate_found(index=False):
            self.source = TABLET
            return "duplicate"
        self.source = SERVER
        return warning_for(word)


def doorstep_for_store(store: Any) -> DoorstepCheck | None:
    """The check for an enrolled store (its server and token), or None (not enrolled)."""
    try:
        if not store.get_setting("server_url"):
            return None
        from sync.client import SyncClient

        client = SyncClient(store, max_attempts=1)
    except Exception:
        log.warning("door-step check unavailable")
        return None
    return DoorstepCheck(lambda fields: client.doorstep_check(fields).value)
