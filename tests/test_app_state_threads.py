"""Nothing slow on the UI loop: the unlock split (begin on the loop, Argon2 in a worker,
finish on the loop), "Sync now" returning at once while the sync thread works, sync status
from the sync thread reaching state only through ``post``, and the status bar's activity."""

from __future__ import annotations

import threading

from app_state_helpers import PIN, SIGNER, enrolled_store
from fake_clock import FakeClock

from canvass.state.app_state import CirculatorApp
from canvass.state.session import Session
from sync.sync_status import SyncState, SyncStatus


class BlockingRunner:
    """Like BackgroundSync: sync_now only wakes a thread; the round itself blocks there."""

    def __init__(self):
        self.status = SyncStatus()
        self.woken = threading.Event()
        self.release = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self):
        return self

    def sync_now(self):
        self.woken.set()

    def run_offline_round(self):
        """What the real runner does when the server is gone, on its own thread."""
        def work():
            self.release.wait(10)
            self.status.update(state=SyncState.OFFLINE, pending=1, last_error="No connection")
        self.thread = threading.Thread(target=work)
        self.thread.start()

    def stop(self, timeout=None):
        self.release.set()
        return True


def test_unlock_is_split_so_the_key_derivation_runs_off_the_loop(tmp_path):
    enrolled_store(tmp_path / "p").close()
    session = Session(tmp_path / "p", clock=FakeClock())
    opened = []
    session.on_unlock(lambda: opened.append(True))
    assert session.begin_unlock(PIN)
    assert session.busy and session.message.render("en") == "Unlocking..."
    assert not session.begin_unlock(PIN)  # a second tap while busy starts nothing
    seen = {}

    def worker():
        outcome = session.perform_unlock(PIN)
        seen["outcome"] = outcome
        seen["phase_meanwhile"] = session.phase  # perform touched no observable field
        seen["busy_meanwhile"] = session.busy

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(30)
    assert seen["outcome"].ok and seen["phase_meanwhile"] == "locked" and seen["busy_meanwhile"]
    assert opened == []
    assert session.finish_unlock(seen["outcome"])
    assert session.phase == "ready" and not session.busy and session.message is None
    assert opened == [True]


def test_wrong_pin_through_the_split_shows_the_message_and_clears_busy(tmp_path):
    enrolled_store(tmp_path / "p").close()
    session = Session(tmp_path / "p", clock=FakeClock())
    assert session.begin_unlock("999999")
    outcome = session.perform_unlock("999999")
    assert not outcome.ok and outcome.kind == "wrong"
    assert not session.finish_unlock(outcome)
    assert not session.busy and session.phase == "locked"
    assert session.message.render("en") == "Wrong PIN. Try again."


def test_idle_lock_reads_the_store_once_per_unlock(tmp_path):
    enrolled_store(tmp_path / "p").close()
    clock = FakeClock()
    session = Session(tmp_path / "p", clock=clock)
    assert session.unlock(PIN)
    reads = []
    original = session.store.get_setting
    session.store.get_setting = lambda *a, **k: (reads.append(a[0]), original(*a, **k))[1]
    for _ in range(5):  # the one-second timer
        clock.advance(1)
        assert not session.check_idle()
    assert reads == []  # cached at unlock: the timer does not touch SQLite every second
    clock.advance(60)
    assert session.check_idle() and session.phase == "locked"


def test_sync_now_returns_at_once_and_status_arrives_only_through_post(tmp_path):
    enrolled_store(tmp_path / "p").close()
    runner = BlockingRunner()
    posted = []
    app = CirculatorApp(tmp_path / "p", sync_factory=lambda store: runner, post=posted.append)
    try:
        assert app.session.unlock(PIN)
        assert app.start_section("A-0001")
        app.sync_now()  # the round blocks on the runner's thread, never here
        assert runner.woken.is_set()
        assert app.status.sync_text("en") == "Syncing..."
        runner.run_offline_round()
        runner.release.set()
        runner.thread.join(10)
        # The sync thread changed nothing itself: it handed a function to post().
        assert app.status.state == "syncing" and len(posted) == 1
        posted.pop()()  # the UI loop runs it
        assert app.status.sync_text("en") == "Offline — 1 waiting; will send when the server answers"
    finally:
        app.shutdown()


def test_status_bar_says_what_the_app_did(tmp_path):
    enrolled_store(tmp_path / "p").close()
    runner = BlockingRunner()
    app = CirculatorApp(tmp_path / "p", sync_factory=lambda store: runner)
    try:
        assert app.session.unlock(PIN)
        assert app.start_section("A-0001")
        assert app.status.activity_text("en") is None
        for name, value in SIGNER.items():
            app.capture.set(name, value)
        assert app.capture.save()
        assert app.status.activity_text("en") == "Saved line 1"
        assert app.status.activity_text("es") == "Línea 1 guardada"
    finally:
        app.shutdown()
