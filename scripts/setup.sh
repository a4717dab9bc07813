#!/usr/bin/env bash
# Install and start what DS Hub needs on a fresh Debian 12 machine; skips what already exists.
#   setup.sh [--browser]   --browser also installs Chromium (for the UI tests)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
want_browser=0
[ "${1:-}" = "--browser" ] && want_browser=1

# 1. Debian packages: Docker engine, mmdebstrap for the base image, Node for the proxy, and
#    Compose (any implementation) to check the production compose files.
pkgs=()
command -v dockerd >/dev/null || pkgs+=(docker.io)
docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null ||
  pkgs+=(docker-compose)
command -v mmdebstrap >/dev/null || pkgs+=(mmdebstrap)
command -v npm >/dev/null || pkgs+=(nodejs npm)
[ $want_browser = 1 ] && ! command -v chromium >/dev/null && pkgs+=(chromium fonts-dejavu-core fonts-noto-color-emoji)
if [ ${#pkgs[@]} -gt 0 ]; then
  echo "installing ${pkgs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi

# 2. Docker engine (started only if none answers) and the local images.
# A caller that wants to stop the engine later passes DSHUB_DOCKER_STARTED_FILE: we write
# "started" there only if this call started it.
started=$(bash scripts/ensure-docker.sh)
if [ "$started" = started ] && [ -n "${DSHUB_DOCKER_STARTED_FILE:-}" ]; then
  echo started > "$DSHUB_DOCKER_STARTED_FILE"
fi
bash scripts/build-images.sh

# 3. Python virtual environment, re-installed only when pyproject.toml changed.
if [ ! -x .venv/bin/jupyterhub ] || [ pyproject.toml -nt .venv/.installed ]; then
  echo "installing the Python environment (.venv)"
  python3 -m venv .venv
  .venv/bin/pip install -q -e '.[dev]'
  touch .venv/.installed
fi

# 4. configurable-http-proxy (5.x needs node >= 20; Debian 12's node 18 gets 4.x).
if [ ! -x .dev/node/node_modules/.bin/configurable-http-proxy ]; then
  major=$(node -p 'process.versions.node.split(".")[0]')
  chp=configurable-http-proxy@5; [ "$major" -lt 20 ] && chp=configurable-http-proxy@4
  echo "installing $chp"
  npm install -s --prefix .dev/node "$chp" >/dev/null
fi
echo "$ROOT/.dev/node/node_modules/.bin" > .dev/proxy-path
