#!/usr/bin/env bash
# Build DS Hub's hub image.
#   ./build.sh            the hub image from the public base (debian:bookworm-slim), tagged
#                         $JUPYTERHUB_IMAGE (default dshub-hub:latest, the name compose.yml runs)
#   ./build.sh --local    the same from a base made on this machine (no registry needed; used by
#                         the tests and by machines that cannot pull)
#   ./build.sh lock       re-pin requirements-hub.txt after changing dependencies in pyproject.toml
set -euo pipefail
cd "$(dirname "$0")"
IMAGE=${JUPYTERHUB_IMAGE:-dshub-hub:latest}

case "${1:-}" in
  lock)
    # Resolve the runtime dependencies (no extras) in a clean venv and pin every one of them.
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    python3 -m venv "$tmp/venv"
    mkdir "$tmp/src"
    cp -r pyproject.toml portal "$tmp/src/"
    echo "DS Hub" > "$tmp/src/README.md"
    "$tmp/venv/bin/pip" install -q "$tmp/src"
    {
      echo "# The hub image's pinned dependencies: the runtime dependencies of pyproject.toml"
      echo "# resolved once, on the newest JupyterHub it allows (the image's default line; the"
      echo "# other line, 5.5, is tested from .venv-jh55). Regenerate with ./build.sh lock after"
      echo "# changing them there."
      "$tmp/venv/bin/pip" freeze --exclude dshub-portal --exclude pip --exclude setuptools
    } > requirements-hub.txt
    echo "requirements-hub.txt: $(grep -c '==' requirements-hub.txt) pinned packages"
    ;;
  --local)
    if [ "$IMAGE" != dshub-hub:latest ]; then
      echo "--local builds dshub-hub:latest (scripts/build-images.sh); tag it yourself" >&2
    fi
    exec bash scripts/build-images.sh hub
    ;;
  "")
    args=()
    [ -n "${BASE_IMAGE:-}" ] && args+=(--build-arg "BASE_IMAGE=$BASE_IMAGE")
    docker build "${args[@]}" -t "$IMAGE" .
    echo "built $IMAGE; start the platform with ./start.sh"
    ;;
  *)
    sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
