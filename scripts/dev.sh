#!/usr/bin/env bash
# Run DS Hub locally at http://localhost:8000 with host-network lab containers (labs on
# <user>.localhost:8000, their own origins).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
bash scripts/setup.sh
export PATH="$(cat .dev/proxy-path):$PATH"
export DOCKER_NETWORK_NAME=host
export DOCKER_NOTEBOOK_IMAGE=${DOCKER_NOTEBOOK_IMAGE:-dshub-lab:latest}
export JUPYTERHUB_DATA_DIR=${JUPYTERHUB_DATA_DIR:-$PWD/.dev/data}
export ENABLE_GPU_SUPPORT=${ENABLE_GPU_SUPPORT:-0}
export JUPYTERHUB_ADMIN=${JUPYTERHUB_ADMIN:-admin}
# Each lab on its own origin (<user>.localhost, which browsers resolve to loopback); set it to
# empty to serve labs under the hub's own origin instead.
export JUPYTERHUB_SUBDOMAIN_HOST=${JUPYTERHUB_SUBDOMAIN_HOST-http://localhost:8000}
base=$(.venv/bin/python -c 'from portal.platform.settings import load_settings as l; print(l().base_url)')
origin=${JUPYTERHUB_SUBDOMAIN_HOST:-http://127.0.0.1:8000}
version=$(.venv/bin/python -c 'import jupyterhub; print(jupyterhub.__version__)')
cat <<MSG

  DS Hub (JupyterHub ${version}) is starting at ${origin}${base}hub/portal
  First time? Sign up as '${JUPYTERHUB_ADMIN}' at ${origin}${base}hub/signup with a
  password of your choice (8+ characters) and the one-time setup code printed below (the hub
  also logs it as "DS Hub setup code"; .venv/bin/dshub-setup-code shows it again). That account
  is the admin and is approved at once. Other people sign up the same way (no code) and wait for
  approval under Portal -> Admin.
  Stop with Ctrl-C (lab containers keep running; the next start finds them).

MSG
# Once the hub answers, print the setup code it wrote while starting (only while the admin
# account does not exist). A bounded helper beside the hub, which stays in the foreground.
(
  health="http://127.0.0.1:8000${base}hub/health"
  for _ in $(seq 90); do
    if .venv/bin/python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
        "$health" 2>/dev/null; then
      if code=$(.venv/bin/dshub-setup-code 2>/dev/null); then
        printf '\n  Setup code for %s: %s\n\n' "$JUPYTERHUB_ADMIN" "$code"
      fi
      break
    fi
    sleep 1
  done
) &
# A crash (SIGSEGV, abort) prints every thread's Python stack, as in the image.
export PYTHONFAULTHANDLER=1
exec .venv/bin/jupyterhub -f config/jupyterhub_config.py --PortalSpawner.pull_policy=never
