"""The support commands open the profile the app itself makes (issue 21): enroll through the
app's own state (canvass.state.app_state.CirculatorApp, the code path the enrollment screen
drives), save a signer through the app's capture form, then run `canvass status` and
`canvass export-pending --profile DIR` on that same directory, as a helper at the office
would for a tablet that can never sync."""

from __future__ import annotations

import json

from app_state_helpers import SIGNER
from cli_helpers import canvass
from fault_layer import TEST_PIN

from canvass.state.app_state import CirculatorApp


def test_status_and_export_pending_open_the_apps_own_profile(cli_server, tmp_path):
    profile = tmp_path / "profile"
    app = CirculatorApp(profile, server_url=cli_server.url, sync_factory=lambda store: None)
    app.enrollment.set_code(cli_server.enroll_code())
    app.enrollment.pin = app.enrollment.pin2 = TEST_PIN
    assert app.enrollment.submit(), app.enrollment.message
    assert app.start_section("P-0001")
    for name, value in SIGNER.items():
        app.capture.set(name, value)
    assert app.capture.save()
    app.shutdown()  # the app quits; its store file stays in the profile

    status = canvass("status", "--profile", str(profile), "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["pending"] == 1

    bundle = tmp_path / "out" / "pending.cvb"
    exported = canvass("export-pending", "--profile", str(profile), "--out", str(bundle))
    assert exported.returncode == 0, exported.stderr
    assert bundle.stat().st_size > 0 and b"Lopez" not in bundle.read_bytes()
