#!/usr/bin/env bash
# The stress run: the hub restarted 50 times in a row on each JupyterHub line, every start and
# stop checked for a crash (tests/integration/test_hub_restarts.py; `make test` makes fewer).
# Installs and starts what it needs, as scripts/test.sh does; about 8 minutes a line on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

started_file=$(mktemp)
cleanup() {
  if [ "$(cat "$started_file")" = started ]; then bash scripts/stop-docker.sh; fi
  rm -f "$started_file"
}
trap cleanup EXIT
DSHUB_DOCKER_STARTED_FILE=$started_file bash scripts/setup.sh --browser

restarts() {
  DSHUB_HUB_RESTARTS=${DSHUB_HUB_RESTARTS:-50} flock /tmp/dshub-pytest.lock \
    "$1/bin/pytest" -p no:cacheprovider -q -s tests/integration/test_hub_restarts.py |
    grep -E 'restarts:|passed|failed' | tr '\n' ' ' >&3
}
try_step "hub restarts, JupyterHub 6" restarts .venv
try_step "hub restarts, JupyterHub 5.5" restarts .venv-jh55
exit $FAILED
