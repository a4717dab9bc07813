#!/usr/bin/env bash
# Every test: lint, unit, integration (real hub + real Docker) and UI (real Chromium).
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
flock /tmp/dshub-pytest.lock .venv/bin/pytest -p no:cacheprovider "$@" \
  tests/unit tests/integration tests/ui || status=$?
# Stop the Docker engine only if this run started it (by its PID).
if [ "$(cat "$started_file")" = started ]; then
  bash scripts/stop-docker.sh
fi
exit $status
