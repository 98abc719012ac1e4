"""The `canvass` command: the demo (main job), the app, and the device support commands.

Each subcommand lives in the module that owns its behaviour; this file only dispatches.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# subcommand -> module with `register(subparsers)`; a module may register several commands.
_COMMAND_MODULES = (
    "canvass.demo",  # demo, app
    "canvass.device_cli",  # enroll, status, sync, export-pending, wipe
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="canvass", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # not built yet
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
