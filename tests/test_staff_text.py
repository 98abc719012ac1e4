"""Every staff string the staff app asks for exists in the English and Spanish catalogues."""

from __future__ import annotations

import re
from pathlib import Path

from canvass.i18n import EN, ES
from canvass.staff.dashboard_state import SORTS
from canvass.staff.login_state import PANELS_BY_ROLE

STAFF = Path(__file__).resolve().parent.parent / "canvass" / "staff"


def used_keys() -> set[str]:
    keys = set()
    for path in STAFF.glob("*.py"):
        keys |= {f"staff.{k}" for k in re.findall(r"""\btr\(\s*"([a-z_.]+)"\s*[,)]""",
                                                   path.read_text())}
    keys |= {f"staff.sort.{k}" for k in SORTS}
    keys |= {f"staff.role.{r}" for r in PANELS_BY_ROLE}
    keys |= {f"staff.panel.{p}" for panels in PANELS_BY_ROLE.values() for p in panels}
    keys |= {f"staff.card.{k}" for k in ("raw", "unique", "valid", "goal", "days", "pace",
                                         "actual", "stale")}
    keys |= {f"staff.sim.{k}" for k in ("certified", "full_count", "failed")}
    keys |= {f"staff.col.{k}" for k in ("team", "circulator", "device", "last_sync",
                                        "last_heartbeat", "pending", "today", "total",
                                        "duplicates", "rejected", "open_sections")}
    return keys


def test_staff_keys_exist_in_both_languages():
    keys = used_keys()
    assert len(keys) > 60 and "staff.login.submit" in keys
    assert keys - set(EN) == set()
    assert keys - set(ES) == set()
    staff_en = {k for k in EN if k.startswith("staff.")}
    assert staff_en == {k for k in ES if k.startswith("staff.")}
    assert all(ES[k] != EN[k] for k in ("staff.login.submit", "staff.dash.title"))
