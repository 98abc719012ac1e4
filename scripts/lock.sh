#!/usr/bin/env bash
# Regenerate constraints.txt: resolve ".[dev,bench]" (every extra: demo and server come in through
# dev) afresh in a new virtual environment and freeze what it installed. Commit the result on
# its own ("Constraints: ..."), after running the tests on it.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="$(mktemp -d)/lock-venv"
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q -e ".[dev,bench]"
{
  echo "# Exact versions of every package Canvass and its extras install, for reproducible installs:"
  echo "#   python3 -m pip install -c constraints.txt -e \".[dev]\""
  echo "# Made by scripts/lock.sh ($("$venv/bin/python" --version), $(date -u +%Y-%m-%d)); do not edit by hand."
  "$venv/bin/python" -m pip freeze --exclude-editable --all | grep -v '^\(pip\|setuptools\|wheel\)=='
} > constraints.txt
echo "constraints.txt: $(grep -vc '^#' constraints.txt) packages"
