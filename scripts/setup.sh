#!/usr/bin/env bash
# Install and start what DS Hub needs on a fresh Debian 12 machine; skips what already exists.
#   setup.sh [--browser]   --browser: also what the tests need: Chromium, PostgreSQL, and
#                          .venv-jh55 (the other JupyterHub line, 5.5, scripts/test.sh)
# One line per step on the terminal; apt, pip, npm and image builds write to the log it names.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ROOT=$PWD
want_test=0
[ "${1:-}" = "--browser" ] && want_test=1
# The other JupyterHub line the tests also run on (the default one is what pyproject allows).
OTHER_LINE="jupyterhub>=5.5.4,<5.6"

# Debian packages: Docker engine, mmdebstrap for the base image, Node for the proxy, Compose
# (any implementation) to check the production compose files; for tests Chromium and PostgreSQL.
debian_packages() {
  local pkgs=()
  command -v dockerd >/dev/null || pkgs+=(docker.io)
  docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null ||
    pkgs+=(docker-compose)
  command -v mmdebstrap >/dev/null || pkgs+=(mmdebstrap)
  command -v npm >/dev/null || pkgs+=(nodejs npm)
  if [ $want_test = 1 ]; then
    command -v chromium >/dev/null || pkgs+=(chromium fonts-dejavu-core fonts-noto-color-emoji)
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || pkgs+=(postgresql)
  fi
  if [ ${#pkgs[@]} -eq 0 ]; then echo "present" >&3; return; fi
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}"
  echo "installed ${pkgs[*]}" >&3
}

# Docker engine, started only if none answers. A caller that wants to stop the engine later
# passes DSHUB_DOCKER_STARTED_FILE: we write "started" there only if this call started it.
docker_engine() {
  local started
  started=$(bash scripts/ensure-docker.sh)
  if [ "$started" = started ] && [ -n "${DSHUB_DOCKER_STARTED_FILE:-}" ]; then
    echo started > "$DSHUB_DOCKER_STARTED_FILE"
  fi
  echo "${started:-running}" >&3
}

# uv makes the Python environments: a pinned release, installed once with pip into .dev/uv. It
# resolves and installs one in seconds where pip took 45 s (each clean clone makes two). Into a
# plain folder, not a virtual environment of its own: making one (and its pip) took half of the
# 9 s this step cost every clean clone.
UV_VERSION=0.13.9
UV=.dev/uv/bin/uv
uv_tool() {
  if [ -x "$UV" ] && [ "$("$UV" --version | cut -d' ' -f2)" = "$UV_VERSION" ]; then
    echo "uv $UV_VERSION, present" >&3
    return
  fi
  rm -rf .dev/uv
  # A Python without pip of its own (Debian's, without python3-pip): a virtual environment's.
  if ! python3 -m pip install --disable-pip-version-check --root-user-action=ignore --target .dev/uv "uv==$UV_VERSION"
  then
    rm -rf .dev/uv .dev/uv-pip
    python3 -m venv .dev/uv-pip
    .dev/uv-pip/bin/pip install --disable-pip-version-check --target .dev/uv "uv==$UV_VERSION"
  fi
  echo "uv $UV_VERSION, installed" >&3
}

# python_env VENV EXTRAS [INSTALL ARGS]: a virtual environment with the project installed
# (editable), re-installed only when pyproject.toml or the image's lock changed.
# Compiled to bytecode ahead only where Python may not write its caches itself
# (PYTHONDONTWRITEBYTECODE, set on these machines): there every hub start compiled JupyterHub,
# SQLAlchemy and tornado from source again, 3.7 CPU-s instead of 1.3. Where Python may
# (scripts/test.sh), the first process to import a module caches it, and the step takes 5 s
# less per environment. A compiled environment serves both; one made without is compiled in
# place when asked for (never made again: another run may be using it).
# From uv's cache alone first (--offline): a package index that answers every revalidation as
# modified made uv fetch and build an sdist (onetimepass) again each time. Online when the cache
# lacks anything; where the cache has what the ranges allow, newer releases wait for a change
# of pyproject.toml or the lock (.venv is pinned by the lock; .venv-jh55 and the test tools
# take the newest the cache holds).
python_env() {
  local venv=$1 extras=$2; shift 2
  if made_since_change "$venv" .installed-compiled; then
    echo "JupyterHub $(jupyterhub_version "$venv"), up to date" >&3
    return
  fi
  if made_since_change "$venv" .installed-lazy; then
    if [ -z "${PYTHONDONTWRITEBYTECODE:-}" ]; then
      echo "JupyterHub $(jupyterhub_version "$venv"), up to date" >&3
    else
      "$venv/bin/python" -m compileall -q -j 0 "$venv/lib"
      touch "$venv/.installed-compiled"
      echo "JupyterHub $(jupyterhub_version "$venv"), compiled" >&3
    fi
    return
  fi
  local compile=() marker=.installed-lazy
  if [ -n "${PYTHONDONTWRITEBYTECODE:-}" ]; then
    compile=(--compile-bytecode) marker=.installed-compiled
  fi
  # --seed: pip too, for anyone who adds a package by hand.
  "$UV" venv --clear --seed --python "$(command -v python3)" "$venv"
  "$UV" pip install --offline "${compile[@]}" --python "$venv/bin/python" -e ".[$extras]" "$@" ||
    "$UV" pip install "${compile[@]}" --python "$venv/bin/python" -e ".[$extras]" "$@"
  touch "$venv/$marker"
  echo "JupyterHub $(jupyterhub_version "$venv"), installed" >&3
}
# made_since_change VENV MARKER: VENV has JupyterHub and MARKER, newer than what it installs.
made_since_change() {
  [ -x "$1/bin/jupyterhub" ] && [ -e "$1/$2" ] && [ ! pyproject.toml -nt "$1/$2" ] &&
    [ ! requirements-hub.txt -nt "$1/$2" ]
}
jupyterhub_version() { "$1/bin/python" -c 'import jupyterhub; print(jupyterhub.__version__)'; }

# configurable-http-proxy (5.x needs node >= 20; Debian 12's node 18 gets 4.x).
proxy() {
  if [ -x .dev/node/node_modules/.bin/configurable-http-proxy ]; then
    echo "present" >&3
  else
    local major chp
    major=$(node -p 'process.versions.node.split(".")[0]')
    chp=configurable-http-proxy@5; [ "$major" -lt 20 ] && chp=configurable-http-proxy@4
    npm install --no-audit --no-fund --prefix .dev/node "$chp"
    echo "installed $chp" >&3
  fi
  echo "$ROOT/.dev/node/node_modules/.bin" > .dev/proxy-path
}

# axe-core, the accessibility engine the UI tests inject into Chromium (tests/ui/axe.py); pinned,
# from the npm registry, into a folder of its own (never the proxy's, which a running hub uses).
AXE_CORE_VERSION=4.14.1
axe_core() {
  local dir=.dev/axe
  if grep -qs "\"version\": \"$AXE_CORE_VERSION\"" "$dir/node_modules/axe-core/package.json"; then
    echo "present ($AXE_CORE_VERSION)" >&3
  else
    npm install --no-audit --no-fund --save-exact --prefix "$dir" "axe-core@$AXE_CORE_VERSION"
    echo "installed axe-core $AXE_CORE_VERSION" >&3
  fi
}

step "Debian packages" debian_packages
step "Docker engine" docker_engine
# The Node packages, the uv tool and the Python environments are made while the images build
# (each mostly waits on downloads or the disk); each prints its line when it is done.
step "proxy" proxy &
jobs_running=($!)
if [ $want_test = 1 ]; then step "axe-core" axe_core & jobs_running+=($!); fi
step "uv" uv_tool
# .venv: the hub image's versions (its lock), so `make dev` and the tests run what ships.
step "Python environment (.venv)" python_env .venv dev -c requirements-hub.txt &
jobs_running+=($!)
if [ $want_test = 1 ]; then
  step "Python environment (.venv-jh55)" python_env .venv-jh55 test "$OTHER_LINE" &
  jobs_running+=($!)
fi
bash scripts/build-images.sh
# Every job ends before set-up does, a failed one too (its step showed why).
failed=0
for job in "${jobs_running[@]}"; do wait "$job" || failed=1; done
[ "$failed" = 0 ]
