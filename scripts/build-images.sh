#!/usr/bin/env bash
# Build the images DS Hub needs locally, without any registry:
#   dshub-base:bookworm   Debian rootfs made by mmdebstrap from this machine's own apt sources
#   dshub-lab:latest      small JupyterLab image with the default lab image's layout
#   dshub-lab-noext:latest  the same without the notifications extension (tests)
#   dshub-lab-standin:latest  the same with a small HTTP server instead of JupyterLab (tests)
# An image is rebuilt only when its build context changed (hash kept in a label).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
BASE=${DSHUB_BASE_IMAGE:-dshub-base:bookworm}

base_image() {
  if docker image inspect "$BASE" >/dev/null 2>&1; then echo "up to date" >&3; return; fi
  local sources=/etc/apt/sources.list.d/debian.sources
  [ -f "$sources" ] || sources=/etc/apt/sources.list
  mmdebstrap --variant=minbase --include=ca-certificates \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr bookworm - "$sources" |
    docker import -c 'CMD ["/bin/bash"]' -c 'ENV LANG=C.UTF-8' - "$BASE"
  echo "built from $sources" >&3
}
step "base image ($BASE)" base_image

# pip inside a build goes through this machine's TLS-intercepting egress: hand it the host's CA
# bundle (git-ignored copy) and the configured index, if any. Nothing host-specific is committed.
host_ca() {
  local cert
  cert=$(pip config get global.cert 2>/dev/null || true)
  [ -n "$cert" ] && [ -f "$cert" ] || cert=/etc/ssl/certs/ca-certificates.crt
  echo "$cert"
}
index_args=()
idx=$(pip config get global.index-url 2>/dev/null || true)
[ -n "$idx" ] && index_args=(--build-arg "PIP_INDEX_URL=$idx")

# context_files CONTEXT: the files a build sends (NUL-separated, relative to CONTEXT). With an
# allow-list .dockerignore ("*" then "!path" lines) only those paths, so the repository root's
# .venv, .git and test output neither slow the hash down nor trigger rebuilds.
context_files() {
  local ctx=$1
  if [ -f "$ctx/.dockerignore" ] && [ "$(grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$ctx/.dockerignore" | head -n1)" = "*" ]; then
    (cd "$ctx" && printf '%s\0' .dockerignore &&
      sed -n 's/^!//p' .dockerignore | while read -r p; do
        if [ -e "$p" ]; then
          find "$p" -type f ! -name build-ca.crt ! -name '*.pyc' ! -path '*/__pycache__/*' -print0
        fi
      done)
  else
    (cd "$ctx" && find . -type f ! -name build-ca.crt -print0)
  fi
}

# build_image NAME CONTEXT [build args...]: skip when the context hash label matches.
build_image() {
  local name=$1 ctx=$2; shift 2
  cp "$(host_ca)" "$ctx/build-ca.crt"
  local hash
  hash=$( (context_files "$ctx" | sort -z | (cd "$ctx" && xargs -0 sha256sum); echo "$*") | sha256sum | cut -c1-16)
  if [ "$(docker image inspect -f '{{ index .Config.Labels "dshub.context" }}' "$name" 2>/dev/null)" = "$hash" ]; then
    echo "up to date" >&3
    return 0
  fi
  local previous
  previous=$(docker image inspect -f '{{.Id}}' "$name" 2>/dev/null || true)
  # The legacy builder (no BuildKit on this engine); its notices go to the log with the rest.
  DOCKER_BUILDKIT=0 docker build --network host --label "dshub.context=$hash" \
    --build-arg "BASE_IMAGE=$BASE" "${index_args[@]}" "$@" -t "$name" "$ctx"
  # The build it replaced, now without a name: removed, unless a container still uses it.
  if [ -n "$previous" ] && [ -z "$(docker image inspect -f '{{join .RepoTags ""}}' "$previous")" ]
  then
    docker image rm "$previous" || true
  fi
  echo "built" >&3
}

for extra in "$@"; do
  case "$extra" in hub) ;; *) echo "unknown image: $extra" >&2; exit 2 ;; esac
done
step "lab image (dshub-lab:latest)" build_image dshub-lab:latest images/lab
# Rebuilt whenever the lab image changes (its id is part of the context hash).
step "lab image without the extension (dshub-lab-noext:latest)" \
  build_image dshub-lab-noext:latest images/lab-noext \
  --build-arg "LAB_IMAGE_ID=$(docker image inspect -f '{{.Id}}' dshub-lab:latest)"
step "stand-in lab for tests (dshub-lab-standin:latest)" \
  build_image dshub-lab-standin:latest images/lab-standin \
  --build-arg "LAB_IMAGE_ID=$(docker image inspect -f '{{.Id}}' dshub-lab:latest)"
for extra in "$@"; do
  step "hub image (dshub-hub:latest)" build_image dshub-hub:latest .
done
