#!/usr/bin/env bash
# Every test: lint, unit, integration (real hub + real Docker), UI (real Chromium), then every
# benchmark in quick mode.
# Installs and starts what it needs; removes only what it created.
set -euo pipefail
cd "$(dirname "$0")/.."
# This run's own record of whether it started the engine (never shared with other runs).
started_file=$(mktemp)
trap 'rm -f "$started_file"' EXIT
DSHUB_DOCKER_STARTED_FILE=$started_file bash scripts/setup.sh --browser
status=0
.venv/bin/ruff check portal tests config benchmarks || status=1
# One test session at a time per engine: each removes the dshubtest-* objects it finds at start.
# In the same lock, every benchmark in quick mode (tiny sizes, no figure asserted): it fails
# when a benchmark no longer runs or measures nothing. Arguments go to pytest.
flock /tmp/dshub-pytest.lock bash -c '
  tests=0
  .venv/bin/pytest -p no:cacheprovider "$@" tests/unit tests/integration tests/ui || tests=$?
  .venv/bin/python -m benchmarks --quick || tests=$(( tests ? tests : 1 ))
  exit $tests
' test.sh "$@" || status=$?
# Stop the Docker engine only if this run started it (by its PID).
if [ "$(cat "$started_file")" = started ]; then
  bash scripts/stop-docker.sh
fi
exit $status
