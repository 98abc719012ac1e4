"""One unlocked window per device profile, and the unsaved signer kept across a lock
(issue 21). Two windows (browser tabs) share one CirculatorApp, as canvass.app serves them;
which window acts is what ``is_current`` answers (the page of the running event in the app).
Real DeviceStore, no browser."""

from __future__ import annotations

from app_state_helpers import PIN, enrolled_store
from fake_clock import FakeClock

from canvass.state.app_state import CirculatorApp
from canvass.state.draft import DRAFT_SECRET
from canvass.store.profile import store_path

TYPED = {"first_name": "Rosa", "last_name": "Castro", "street": "3900 Main St"}


class Windows:
    """Two windows of one app; ``acting`` is the one whose event is running."""

    def __init__(self, app: CirculatorApp) -> None:
        self.acting = None
        self.posted: list[str] = []
        self.a = self._open(app, "a")
        self.b = self._open(app, "b")

    def _open(self, app, name):
        def post(fn):
            self.posted.append(name)
            fn()
        screen = app.attach_screen(post=post, is_current=lambda: self.acting is screen)
        return screen

    def act(self, screen, fn):
        self.acting = screen
        try:
            return fn()
        finally:
            self.acting = None


def open_app(tmp_path, clock=None) -> CirculatorApp:
    store = enrolled_store(tmp_path / "p")
    store.open_section("A-0001", "Circulator One")
    store.close()
    return CirculatorApp(tmp_path / "p", clock=clock or FakeClock(), sync_factory=lambda s: None)


def type_into(app, values):
    for name, value in values.items():
        app.capture.set(name, value)


def test_a_second_window_asks_for_the_pin_and_takes_the_form_over_as_typed(tmp_path):
    app = open_app(tmp_path)
    w = Windows(app)
    assert w.a.phase == w.b.phase == "locked"
    assert w.act(w.a, lambda: app.session.unlock(PIN))
    assert (w.a.phase, w.b.phase) == ("ready", "elsewhere")  # b is not opened unlocked
    w.act(w.a, lambda: app.select_section("A-0001"))
    type_into(app, TYPED)

    assert not w.act(w.b, lambda: app.session.unlock("000000"))  # a wrong PIN moves nothing
    assert (w.a.phase, w.b.phase) == ("ready", "elsewhere")
    assert w.act(w.b, lambda: app.session.unlock(PIN))
    assert (w.a.phase, w.b.phase) == ("elsewhere", "ready")
    assert {k: app.capture.values[k] for k in TYPED} == TYPED


def test_every_window_is_told_of_a_lock_in_its_own_context(tmp_path):
    app = open_app(tmp_path)
    w = Windows(app)
    w.act(w.a, lambda: app.session.unlock(PIN))
    before = (w.a.version, w.b.version)
    w.posted.clear()
    w.act(w.a, app.session.lock)
    assert w.a.phase == w.b.phase == "locked"
    assert w.a.version > before[0] and w.b.version > before[1]
    assert {"a", "b"} <= set(w.posted)


def test_idle_lock_keeps_the_typed_signer_sealed_and_gives_it_back_after_unlock(tmp_path):
    clock = FakeClock()
    app = open_app(tmp_path, clock)
    w = Windows(app)
    w.act(w.a, lambda: app.session.unlock(PIN))
    w.act(w.a, lambda: app.select_section("A-0001"))
    type_into(app, TYPED)
    clock.advance(61)  # the campaign's idle time is 60 s
    assert w.act(w.a, app.idle_check)
    assert app.capture is None and w.a.phase == "locked"
    raw = b"".join(p.read_bytes() for p in store_path(tmp_path / "p").parent.glob("device.sqlite*"))
    assert b"Castro" not in raw and b"3900 Main" not in raw  # sealed, not in clear

    assert w.act(w.b, lambda: app.session.unlock(PIN))  # unlocked in the other window
    assert app.current_section == "A-0001"
    assert {k: app.capture.values[k] for k in TYPED} == TYPED
    assert app.session.store.get_secret(DRAFT_SECRET) == ""  # given back once, not kept


def test_a_lock_with_an_empty_form_keeps_no_draft(tmp_path):
    app = open_app(tmp_path)
    assert app.session.unlock(PIN)
    assert app.draft() is None
    app.session.lock()
    assert app.session.unlock(PIN)
    assert app.session.store.get_secret(DRAFT_SECRET) is None
