"""Every staff string the staff app asks for exists in the English and Spanish catalogues."""

from __future__ import annotations

import re
from pathlib import Path

from canvass.i18n import EN, ES
from canvass.staff.dashboard_state import SORTS
from canvass.staff.login_state import PANELS_BY_ROLE

STAFF = Path(__file__).resolve().parent.parent / "canvass" / "staff"
INTAKE = STAFF.parent / "intake"


def used_keys() -> set[str]:
    keys = set()
    for path in [*STAFF.glob("*.py"), *INTAKE.rglob("*.py")]:
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
    keys |= intake_dynamic_keys()
    return keys


def intake_dynamic_keys() -> set[str]:
    """Keys the intake panels build from data (field names, statuses, reason codes...)."""
    from canvass.i18n import OFFICE_REASONS, reason_key
    from canvass.intake.state import BLOCKERS, LABELLED_FIELDS, SECTION_STATUSES
    from canvass.intake.views import SAVED_STATUSES
    from sync.intake.reconcile import DECLARATION_PARTS, SectionStatus
    from sync.protocol import ReasonCode

    assert {s.value for s in SectionStatus} == set(SECTION_STATUSES)
    keys = {f"staff.intake.field.{f}" for f in LABELLED_FIELDS}
    keys |= {f"staff.intake.section.{s}" for s in SECTION_STATUSES}
    keys |= {f"staff.intake.blocker.{b}" for b in BLOCKERS}
    keys |= {f"staff.intake.decl.{p}" for p in DECLARATION_PARTS}
    keys |= {f"staff.intake.saved.{s}" for s in SAVED_STATUSES}
    keys |= {reason_key(code, OFFICE_REASONS) for code in (*ReasonCode, None)}
    return keys


def test_intake_views_have_no_literal_english():
    """Every text the intake panels show comes from the catalogues: no quoted sentence is left
    in canvass/intake (docstrings and keys aside)."""
    import ast

    for path in INTAKE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        docs = {id(node.body[0].value) for node in ast.walk(tree)
                if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                and node.body and isinstance(node.body[0], ast.Expr)
                and isinstance(node.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                words = node.value.split()
                assert not (len(words) >= 3 and node.value[:1].isupper()), (path.name, node.value)


def test_staff_keys_exist_in_both_languages():
    keys = used_keys()
    assert len(keys) > 60 and "staff.login.submit" in keys
    assert keys - set(EN) == set()
    assert keys - set(ES) == set()
    staff_en = {k for k in EN if k.startswith("staff.")}
    assert staff_en == {k for k in ES if k.startswith("staff.")}
    assert all(ES[k] != EN[k] for k in ("staff.login.submit", "staff.dash.title"))
