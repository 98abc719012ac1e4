"""Language switch, catalogues, status bar text, sections, lines with outcomes, and the whole
CirculatorApp wiring -- all without a browser, on a real DeviceStore."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime, timedelta

from app_state_helpers import PIN, SIGNER, enrolled_store

from canvass.i18n import CATALOGUES, t
from canvass.state.app_state import CirculatorApp
from canvass.state.language import Language
from canvass.state.lines import outcome_text
from canvass.state.status import StatusBar, ago_text
from sync.protocol import EntryResult, EntryStatus


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_catalogues_have_the_same_keys_and_placeholders():
    en, es = CATALOGUES["en"], CATALOGUES["es"]
    assert set(en) == set(es)
    for key in en:
        assert _fields(en[key]) == _fields(es[key]), key
        assert es[key].strip(), key


def test_views_use_only_catalogue_keys():
    from pathlib import Path

    source = "\n".join(p.read_text() for p in Path("canvass/views").glob("*.py"))
    keys = set(re.findall(r'\bt\(\s*f?"([a-z_.]+)"', source))
    assert keys and keys <= set(CATALOGUES["en"])


def test_language_switch_persists_and_renders(tmp_path):
    saved = []
    language = Language("en", on_change=saved.append)
    assert t("status.sync_now", language.lang) == "Sync now"
    assert language.switch() == "es"
    assert t("status.sync_now", language.lang) == "Sincronizar ahora"
    assert saved == ["es"]
    language.set("fr")  # unknown: falls back to English
    assert language.lang == "en"


def test_status_bar_texts(tmp_path):
    store = enrolled_store(tmp_path / "p")
    now = datetime(2030, 5, 1, 18, 0, tzinfo=UTC)
    bar = StatusBar(store, now=lambda: now)
    bar.pending = 14
    bar.state = "offline"
    assert bar.sync_text("en") == "Offline — 14 waiting"
    assert bar.sync_text("es") == "Sin conexión — 14 en espera"
    bar.state = "idle"
    assert bar.sync_text("en") == "Not synced yet"
    bar.last_success = now - timedelta(minutes=2, seconds=5)
    assert bar.sync_text("en") == "Synced 2 min ago"
    assert bar.sync_text("es") == "Sincronizado hace 2 min"
    assert ago_text(now - timedelta(hours=3), now, "en") == "3 h ago"
    bar.today, bar.section_count = 5, 3
    assert bar.counts_text("en") == ["Today: 5", "This section: 3", "Pending upload: 14"]


def test_offline_sync_now_answers_with_what_waits_and_the_last_sync_time(tmp_path):
    from types import SimpleNamespace

    from canvass.state.status import clock_text

    store = enrolled_store(tmp_path / "p")
    now = datetime(2030, 5, 1, 18, 0, tzinfo=UTC)
    synced = now - timedelta(hours=1)
    bar = StatusBar(store, now=lambda: now)
    bar.apply_sync(SimpleNamespace(state="offline", pending=2, last_success=synced, last_error="x"))
    at = clock_text(synced, now)  # the device's local clock
    assert bar.sync_text("en") == f"Offline — 2 waiting, last synced {at}"
    bar.ask_sync()
    assert bar.sync_text("en") == "Syncing..."
    bar.apply_sync(SimpleNamespace(state="offline", pending=2, last_success=synced, last_error="x"))
    assert bar.sync_text("en") == (f"Offline — 2 waiting, last synced {at}; "
                                   "will send when the server answers")
    assert bar.sync_text("es").endswith("; se enviará cuando el servidor responda")
    bar.apply_sync(SimpleNamespace(state="idle", pending=0, last_success=now, last_error=None))
    assert bar.sync_text("en") == "Synced just now"
    assert clock_text(now - timedelta(days=2), now).count(":") == 1
    assert len(clock_text(now - timedelta(days=2), now)) == len("2030-04-29 18:00")


def test_outcome_texts_for_each_sync_result(tmp_path):
    class S:
        def __init__(self, status, reason_code=None, superseded_by=None):
            self.status, self.reason_code, self.superseded_by = status, reason_code, superseded_by

    assert outcome_text(S("pending")).render("en") == "Waiting to upload"
    assert outcome_text(S("accepted")).render("en") == "Accepted"
    assert outcome_text(S("duplicate")).render("en") == "Duplicate: already signed"
    assert outcome_text(S("possible_duplicate")).render("es") == "Necesita revisión"
    assert outcome_text(S("rejected", 103)).render("en") == \
        "Rejected: the ZIP code is outside the jurisdiction"
    assert outcome_text(S("rejected", 103)).render("es").startswith("Rechazada: el código postal")
    assert outcome_text(S("accepted", superseded_by="x")).render("en") == "Corrected"


class FakeRunner:
    """Stands in for sync.background.BackgroundSync: counts sync_now calls."""

    def __init__(self):
        from sync.sync_status import SyncStatus

        self.status = SyncStatus()
        self.calls = 0

    def start(self):
        return self

    def sync_now(self):
        self.calls += 1

    def stop(self, timeout=None):
        return True


def test_app_wiring_section_capture_lines_status(tmp_path):
    enrolled_store(tmp_path / "p").close()
    runner = FakeRunner()
    app = CirculatorApp(tmp_path / "p", sync_factory=lambda store: runner)
    assert app.session.phase == "locked" and app.capture is None
    assert app.session.unlock(PIN)
    assert app.sections is not None and app.current_section is None
    assert not app.start_section("not a serial!")
    assert app.sections.error.render("en").startswith("Enter the serial number")
    assert app.start_section("b-0002")
    assert app.current_section == "B-0002" and app.capture.line == 1
    for name, value in SIGNER.items():
        app.capture.set(name, value)
    assert app.capture.save()
    assert runner.calls == 1  # a save wakes the sync runner
    assert app.status.today == 1 and app.status.section_count == 1 and app.status.pending == 1
    assert [r.line for r in app.lines.rows] == [1]
    assert app.lines.rows[0].outcome.render("en") == "Waiting to upload"
    assert app.lines.rows[0].name == "Maria L."
    # The server answers: the row shows it after the sync round ends.
    store = app.session.store
    batch = store.next_batch()
    store.apply_batch_results(batch.batch_id, [EntryResult(entry_id=batch.entries[0].entry_id,
                                                           status=EntryStatus.DUPLICATE)])
    runner.status.update(state="syncing")
    runner.status.update(state="idle", pending=0, last_success=datetime.now(UTC))
    assert app.lines.rows[0].outcome.render("en") == "Duplicate: already signed"
    assert app.status.pending == 0 and app.status.sync_text("en") == "Synced just now"
    # Closing the section asks for the declaration.
    app.sections.begin_close()
    assert not app.close_section(dates_gathered="", place_signed="Pasadena")
    assert app.close_section(dates_gathered="2030-05-01", place_signed="Pasadena, Los Angeles")
    assert app.current_section is None
    assert app.sections.notice.render("en") == "Section B-0002 is closed."
    assert not app.start_section("B-0002")
    # Locking drops the form (it may hold a signer's details).
    app.session.lock()
    assert app.capture is None and not store.is_unlocked


def test_language_choice_survives_a_restart(tmp_path):
    enrolled_store(tmp_path / "p").close()
    app = CirculatorApp(tmp_path / "p", sync_factory=lambda store: None)
    app.language.switch()
    app.shutdown()
    again = CirculatorApp(tmp_path / "p", sync_factory=lambda store: None)
    assert again.lang == "es"
    again.shutdown()
