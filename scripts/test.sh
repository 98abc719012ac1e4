#!/usr/bin/env bash
# Install Canvass with its test tools at the versions of constraints.txt, then run the whole test
# suite (the README's test command). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -c constraints.txt -e ".[dev]"
python3 -m ruff check .
status=0
python3 -m pytest -q --durations=15 "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "scripts/test.sh: pytest collected no tests: that is a failure, not a pass" >&2
fi
exit "$status"
