"""Session state: lock/unlock, wrong-PIN delays shown as "Try again in N s", idle auto-lock;
enrollment form (code or link, PIN twice). Real DeviceStore; no browser."""

from __future__ import annotations

from app_state_helpers import PIN, enrolled_store
from fake_clock import FakeClock

from canvass.state.enrollment import Enrollment, parse_enroll_text, pin_is_acceptable
from canvass.state.session import Session
from sync.errors import EnrollmentFailed


def locked_session(tmp_path, clock=None) -> Session:
    enrolled_store(tmp_path / "p").close()
    return Session(tmp_path / "p", clock=clock or FakeClock())


def test_an_existing_store_starts_locked_and_unlocks_with_the_pin(tmp_path):
    session = locked_session(tmp_path)
    assert session.phase == "locked" and not session.store.is_unlocked
    opened = []
    session.on_unlock(lambda: opened.append(True))
    assert session.unlock(PIN)
    assert session.phase == "ready" and session.store.is_unlocked and opened == [True]
    session.lock()
    assert session.phase == "locked" and not session.store.is_unlocked


def test_no_store_means_enrollment_first(tmp_path):
    assert Session(tmp_path / "fresh").phase == "enroll"


def test_wrong_pins_show_a_delay_that_counts_down(tmp_path):
    clock = FakeClock()
    session = locked_session(tmp_path, clock)
    messages = []
    for _ in range(6):
        assert not session.unlock("000000")
        messages.append(session.message.render("en"))
        if session.seconds_left:
            break
    assert messages[0] == "Wrong PIN. Try again."
    assert session.seconds_left > 0
    assert session.message.render("en") == f"Wrong PIN. Try again in {session.seconds_left} s"
    assert session.message.render("es").startswith("PIN incorrecto. Intente de nuevo en ")
    before = session.seconds_left
    # While the delay runs, even the right PIN is not tried.
    assert not session.unlock(PIN)
    assert session.phase == "locked"
    clock.advance(before - 0.5)
    session.tick()
    assert session.seconds_left == 1
    assert session.message.render("en") == "Too many tries. Try again in 1 s"
    clock.advance(0.5)
    session.tick()
    assert session.seconds_left == 0
    assert session.message.render("en") == "Wrong PIN. Try again."


def test_idle_time_from_campaign_settings_locks(tmp_path):
    clock = FakeClock()
    session = locked_session(tmp_path, clock)
    session.unlock(PIN)
    assert session.idle_lock_seconds() == 60  # CAMPAIGN in app_state_helpers
    clock.advance(59)
    assert not session.check_idle()
    session.touch()
    clock.advance(59)
    assert not session.check_idle() and session.phase == "ready"
    clock.advance(1)
    assert session.check_idle()
    assert session.phase == "locked" and not session.store.is_unlocked


def test_enroll_link_and_code_parsing():
    server, code = parse_enroll_text("canvass://enroll?server=http%3A%2F%2F127.0.0.1%3A8000&code=AB12CD")
    assert (server, code) == ("http://127.0.0.1:8000", "AB12CD")
    assert parse_enroll_text("  AB12CD ") == (None, "AB12CD")
    assert pin_is_acceptable("246813") and not pin_is_acceptable("1234")
    assert pin_is_acceptable("long passphrase")


def test_enrollment_checks_the_form_before_doing_anything(tmp_path):
    called = []
    session = Session(tmp_path / "p")
    e = Enrollment(session, enroll_fn=lambda *a: called.append(a), first_sync=lambda s: True)
    e.set_code("AB12CD")
    e.pin, e.pin2 = "246813", "246814"
    assert not e.submit()
    assert e.errors["server_url"].render("en").startswith("Enter the server address")
    assert e.errors["pin2"].render("en") == "The two PINs are not the same."
    assert called == [] and session.phase == "enroll"


def test_enrollment_refused_code_leaves_no_store(tmp_path):
    def refuse(*_args):
        raise EnrollmentFailed("enrollment refused (404)")

    session = Session(tmp_path / "p")
    e = Enrollment(session, enroll_fn=refuse, first_sync=lambda s: True)
    e.set_code("canvass://enroll?server=http%3A%2F%2F127.0.0.1%3A9&code=AB12CD")
    e.pin = e.pin2 = "246813"
    assert not e.submit()
    assert e.message.render("en").startswith("This code was not accepted")
    assert session.phase == "enroll" and not list((tmp_path / "p").glob("device.sqlite*"))


def test_enrollment_success_opens_the_workspace(tmp_path):
    seen = {}

    def fake_enroll(server_url, code, device_name, store):
        seen.update(server=server_url, code=code)
        store.set_setting("campaign", {"idle_lock_seconds": 90})

    session = Session(tmp_path / "p")
    e = Enrollment(session, server_url="http://127.0.0.1:9", enroll_fn=fake_enroll,
                   first_sync=lambda s: False)
    e.set_code("AB12CD")
    e.pin = e.pin2 = "246813"
    assert e.submit()
    assert seen == {"server": "http://127.0.0.1:9", "code": "AB12CD"}
    assert session.phase == "ready" and session.idle_lock_seconds() == 90
    assert e.message.render("en").startswith("Enrolled. The first download did not finish")
    assert e.pin == "" and e.pin2 == ""  # the PIN is not kept in the form
