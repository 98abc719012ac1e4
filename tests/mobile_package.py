"""What `flet build apk|ipa` (flet-cli 1.0.5) makes of this repository, without Flutter:

- ``flet_project()``: the pyproject read as flet-cli reads it: app folder
  ([tool.flet.app].path), entry module ([tool.flet.app].module), excludes, and the phone's
  requirements ([project].dependencies with [tool.flet.<platform>].dependencies appended).
- ``app_files()`` / ``copy_app(dest)``: the app folder as serious_python packages it: minus
  ``build``, the excludes, hidden entries at its top, virtual environments and __pycache__.
- ``mobile_index()``: tests/data/flet_mobile_index.txt, the compiled packages a phone can get.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INDEX_FILE = ROOT / "tests" / "data" / "flet_mobile_index.txt"


@dataclass(frozen=True)
class FletProject:
    app_dir: Path
    module: str
    exclude: tuple[str, ...]
    requirements: tuple[str, ...]


def flet_project(platform: str = "android", pyproject: Path = ROOT / "pyproject.toml") -> FletProject:
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    flet = data.get("tool", {}).get("flet", {})
    app = flet.get("app", {})
    platform_app = flet.get(platform, {}).get("app", {})
    requirements = [*data["project"].get("dependencies", []),
                    *flet.get(platform, {}).get("dependencies", [])]
    return FletProject(app_dir=(pyproject.parent / app.get("path", ".")).resolve(),
                       module=app.get("module", "main"),
                       exclude=tuple(platform_app.get("exclude", app.get("exclude", []))),
                       requirements=tuple(requirements))


def _skipped(rel: Path, path: Path, excluded: set[str]) -> bool:
    if rel.as_posix() in excluded or path.name == "__pycache__":
        return True
    if len(rel.parts) == 1 and rel.name.startswith("."):
        return True
    return path.is_dir() and (path / "pyvenv.cfg").is_file()


def app_files(project: FletProject | None = None) -> set[str]:
    """Relative paths (posix) of every file the package holds."""
    project = project or flet_project()
    excluded = {"build", *project.exclude}
    found: set[str] = set()

    def walk(folder: Path) -> None:
        for path in sorted(folder.iterdir()):
            rel = path.relative_to(project.app_dir)
            if _skipped(rel, path, excluded):
                continue
            if path.is_dir():
                walk(path)
            else:
                found.add(rel.as_posix())

    walk(project.app_dir)
    return found


def copy_app(dest: Path, project: FletProject | None = None) -> Path:
    project = project or flet_project()
    for rel in app_files(project):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(project.app_dir / rel, target)
    return dest


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def mobile_index() -> dict[str, set[str]]:
    index: dict[str, set[str]] = {}
    for line in INDEX_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, versions = line.partition(" ")
        index[canonical(name)] = {v.strip() for v in versions.split(",") if v.strip()}
    return index
