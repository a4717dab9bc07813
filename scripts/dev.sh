#!/usr/bin/env bash
# Run DS Hub locally at http://127.0.0.1:8000 with host-network lab containers.
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
base=$(.venv/bin/python -c 'from portal.settings import load_settings as l; print(l().base_url)')
version=$(.venv/bin/python -c 'import jupyterhub; print(jupyterhub.__version__)')
cat <<MSG

  DS Hub (JupyterHub ${version}) is starting at http://127.0.0.1:8000${base}hub/portal
  First time? Sign up as '${JUPYTERHUB_ADMIN}' at http://127.0.0.1:8000${base}hub/signup with a
  password of your choice (8+ characters): that account is the admin and is approved at once.
  Other people sign up the same way and wait for approval at ${base}hub/authorize.
  Stop with Ctrl-C (lab containers keep running; the next start finds them).

MSG
exec .venv/bin/jupyterhub -f config/jupyterhub_config.py --PortalSpawner.pull_policy=never
