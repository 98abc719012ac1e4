"""The filing export panel's words before the download."""

from __future__ import annotations

from canvass.intake.state.client import IntakeClient
from canvass.staff.text import tr


def export_readiness(client: IntakeClient) -> str:
    """What the filing export will be, said before the download (GET /v1/filing/check): the
    final file, or a DRAFT while the filing check finds things to fix (the server names the
    file filing-DRAFT.csv then and marks it inside)."""
    check = client.request("GET", "/v1/filing/check").json()
    if check["final"]:
        return tr("intake.export.final")
    return tr("intake.export.draft", count=f"{check['blocking']:,}")
