"""Static import closure of a module of this repository: every module its code can import,
top-level and inside functions alike (a lazy import is still in the package a phone gets).

    closure("main")            # {"canvass.app", ..., "flet", "sqlalchemy", ...}

Modules of canvass/ and sync/ (and the root main.py) are followed; any other module is listed
by its full dotted name and not followed (its own imports are its package's business)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OWN = ("canvass", "sync", "main")


def _path_of(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(module: str, path: Path) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.add(target)
            # "from package import module" names a submodule when one exists
            found.update(f"{target}.{alias.name}" for alias in node.names
                         if _path_of(f"{target}.{alias.name}") is not None)
    return found


def closure(*entries: str) -> set[str]:
    """Every module reachable from any of ``entries`` (their parent packages included)."""
    seen: set[str] = set()
    todo = list(entries)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        if module.split(".")[0] not in OWN:
            continue
        parts = module.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))
        path = _path_of(module)
        if path is not None:
            todo.extend(_imports(module, path) - seen)
    return seen


def own_modules(*packages: str) -> list[str]:
    """Every module of ``packages`` (folders of the repository root) by its dotted name."""
    found = []
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found
