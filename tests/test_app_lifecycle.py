"""A phone's app lifecycle: leaving the screen locks at once (as the idle time does); coming
back shows the PIN screen. Real DeviceStore; no browser."""

from __future__ import annotations

import flet as ft
import pytest
from app_state_helpers import PIN, enrolled_store

from canvass.state.app_state import CirculatorApp


@pytest.fixture
def app(tmp_path):
    enrolled_store(tmp_path / "p").close()
    circulator = CirculatorApp(tmp_path / "p", sync_factory=lambda store: None)
    yield circulator
    circulator.shutdown()


@pytest.mark.parametrize("state", [ft.AppLifecycleState.HIDE, ft.AppLifecycleState.PAUSE,
                                   ft.AppLifecycleState.DETACH])
def test_going_to_the_background_locks_and_drops_the_form(app, state):
    assert app.session.unlock(PIN) and app.start_section("B-0002")
    app.capture.set("first_name", "Maria")
    assert app.lifecycle_changed(state.value)
    assert app.session.phase == "locked" and app.capture is None
    assert not app.session.store.is_unlocked


@pytest.mark.parametrize("state", [ft.AppLifecycleState.SHOW, ft.AppLifecycleState.RESUME,
                                   ft.AppLifecycleState.INACTIVE, ft.AppLifecycleState.RESTART])
def test_staying_on_screen_does_not_lock(app, state):
    assert app.session.unlock(PIN)
    assert not app.lifecycle_changed(state.value)
    assert app.session.phase == "ready" and app.session.store.is_unlocked


def test_a_locked_app_stays_locked_and_unlocks_with_the_pin(app):
    assert not app.lifecycle_changed("hide")
    assert app.session.phase == "locked"
    assert app.session.unlock(PIN) and app.session.phase == "ready"


def test_back_with_nothing_typed_leaves(app):
    assert app.session.unlock(PIN) and app.start_section("B-0002")
    assert app.back_pressed()


def test_back_with_a_half_typed_signer_stays_then_leaves_keeping_the_draft(app):
    assert app.session.unlock(PIN) and app.start_section("B-0002")
    app.capture.set("first_name", "Maria")
    assert not app.back_pressed()  # the first Back keeps the app, and the form says why
    assert app.capture.error is not None and app.capture.error.key == "app.back_unsaved"
    assert app.capture.values["first_name"] == "Maria"
    assert app.back_pressed()  # a second Back while that shows leaves ...
    assert app.lifecycle_changed("hide")  # ... the app goes to the background and locks
    assert app.session.unlock(PIN)
    assert app.capture.values["first_name"] == "Maria"  # the draft came back
