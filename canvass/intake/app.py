"""Office intake lives in the one staff app (canvass.staff.app): one login, then the intake
panels by role. ``build_intake_main(server_url)`` is kept for callers that serve intake on its
own; it is the staff app, talking to ``server_url``.

    ft.run(build_intake_main("http://server:8000"), view=ft.AppView.WEB_BROWSER, no_cdn=True)
"""

from __future__ import annotations

from canvass.staff.app import build_staff_main
from canvass.staff.login_state import EXPORT, INTAKE_PANELS

PANELS = (*INTAKE_PANELS, EXPORT)


def build_intake_main(server_url: str):
    return build_staff_main(server_url)
