#!/usr/bin/env bash
# Install Canvass with its test tools, then run the whole test suite (the README's test command).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -e ".[dev]"
python3 -m ruff check .
python3 -m pytest -q "$@"
