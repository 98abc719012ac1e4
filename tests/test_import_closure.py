"""Dependencies point one way: the phone's app holds nothing of the server, the server nothing
of the app. Static import closures (tests/import_closure.py: lazy imports inside functions
count too), plus the packaged copy: every module the phone's app can import is in it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from import_closure import closure, own_modules
from mobile_package import app_files

# Never on the phone: the server, its web stack and database drivers, the server's scorer,
# spreadsheet import, jellyfish (replaced by sync.metaphone), the staff and office views.
SERVER_SIDE = ("sync.server", "sync.scoring", "sync.intake", "sync.reports", "fastapi", "starlette",
               "uvicorn", "psycopg", "alembic", "rapidfuzz", "openpyxl", "jellyfish", "httptools",
               "uvloop", "watchfiles", "flet_web", "canvass.staff", "canvass.intake")


def _holds(modules: set[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


def test_the_phone_app_imports_nothing_of_the_server():
    modules = closure("main")
    assert "canvass.app" in modules and "sync.client" in modules and "sync.normalize" in modules
    assert [name for name in SERVER_SIDE if _holds(modules, name)] == []


@pytest.mark.parametrize("entry", ["sync.server.app", "sync.server.cli", "sync.server.bundle_import"])
def test_the_server_imports_nothing_of_the_app(entry):
    modules = closure(entry)
    assert "sync.server.app" in modules or entry != "sync.server.app"
    assert sorted(m for m in modules if m.split(".")[0] == "canvass") == []


def test_the_device_core_imports_nothing_of_the_app():
    for entry in ("sync.client", "sync.enroll", "sync.bundle", "sync.matching", "sync.normalize"):
        modules = closure(entry)
        assert sorted(m for m in modules if m.split(".")[0] == "canvass") == [], entry


def test_run_time_code_speaks_http_through_requests_only():
    """One HTTP library at run time: the device's sync client and the staff app (whose
    server dependencies once brought httpx in) both use requests; httpx is the tests' (the
    dev extra). Every module of sync/ and canvass/ and main.py, lazy imports too."""
    modules = closure("main", *own_modules("sync", "canvass"))
    assert {"canvass.intake.state", "canvass.staff.app", "sync.client", "sync.server.app"} <= modules
    assert "requests" in modules
    assert sorted(m for m in modules if _holds({m}, "httpx")) == []


def test_the_package_holds_every_module_the_app_imports():
    packaged = app_files()
    own = sorted(m for m in closure("main") if m.split(".")[0] in ("main", "canvass", "sync"))
    folders = {path.rpartition("/")[0] for path in packaged}  # namespace packages too

    def packaged_module(module: str) -> bool:
        path = module.replace(".", "/")
        return path + ".py" in packaged or path in folders

    missing = [m for m in own if not packaged_module(m)]
    assert missing == []
    assert "assets/jurisdictions/los_angeles_county.csv" in packaged
    assert not any(path.startswith(("tests/", "sync/server/", "canvass/staff/", "docs/"))
                   for path in packaged)


def test_the_server_mounts_the_staff_views_through_the_entry_point(tmp_path):
    """The inverted direction still serves /app: create_app finds canvass's mount in the
    canvass.server_mounts entry point group (pyproject.toml), not by importing canvass."""
    import httpx
    from server_helpers import running_server

    from sync.server.app import installed_mounts

    assert [m.__module__ for m in installed_mounts()] == ["canvass.staff.web_mount"]
    with running_server(f"sqlite:///{tmp_path / 'with.db'}", staff_web=True) as server:
        page = httpx.get(f"{server.url}/app/", timeout=30)
        assert page.status_code == 200 and "flutter" in page.text.lower()
    with running_server(f"sqlite:///{tmp_path / 'without.db'}", staff_web=False) as server:
        assert httpx.get(f"{server.url}/app/", timeout=30).status_code == 404


def _imported_test_modules(path: Path) -> list[str]:
    """The test_* modules ``path`` imports (top-level or inside a function)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        found += [n for n in names if any(part.startswith("test_") for part in n.split("."))]
    return found


def test_no_test_module_imports_another(tmp_path):
    """Shared fixtures live in tests/conftest.py, shared helpers in helper modules
    (server_helpers, intake_helpers, browser_helpers, ...): a test module imported by another
    would have its tests' fixtures and names leak into the importer (and its collection
    depends on the other's)."""
    tests = Path(__file__).resolve().parent
    found = {str(path.relative_to(tests)): names for path in sorted(tests.rglob("*.py"))
             if (names := _imported_test_modules(path))}
    assert found == {}
    sample = tmp_path / "sample.py"  # what the scan finds: plain, lazy and dotted imports
    sample.write_text("import server_helpers\nfrom test_a import x\n"
                      "def f():\n    import tests.test_b\n")
    assert _imported_test_modules(sample) == ["test_a", "tests.test_b"]
