#!/usr/bin/env bash
# Start (or update in place) the production stack: Traefik, the hub, Watchtower.
#   ./start.sh            docker compose up -d, with compose_override.yml merged when present
#   ./start.sh logs -f    any other arguments are passed to docker compose instead of "up -d"
# Settings: environment or .env next to this file (see README, "Configuration").
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null; then
  compose=(docker-compose)
else
  echo "Docker Compose is not installed (docker compose plugin or docker-compose)" >&2
  exit 1
fi
# dotenv NAME: NAME's value in .env (what compose will read), empty when absent.
dotenv() { [ -f .env ] && sed -n "s/^$1=//p" .env | tail -n1 || true; }

files=(-f compose.yml)
if [ -f compose_override.yml ]; then
  echo "using compose_override.yml"
  files+=(-f compose_override.yml)
fi

# The certificate's names: JUPYTERHUB_HOST from the environment or .env, else this machine's.
if [ -z "${JUPYTERHUB_HOST:-}" ] && [ -z "$(dotenv JUPYTERHUB_HOST)" ]; then
  JUPYTERHUB_HOST=$(hostname -f 2>/dev/null || hostname)
  export JUPYTERHUB_HOST
fi

if [ $# -gt 0 ]; then
  exec "${compose[@]}" "${files[@]}" "$@"
fi

# The default hub image is built here, not pulled (Watchtower cannot update it either; see
# compose.yml). An image from a registry is pulled by compose as usual.
image=${JUPYTERHUB_IMAGE:-$(dotenv JUPYTERHUB_IMAGE)}
image=${image:-dshub-hub:latest}
if [ "$image" = dshub-hub:latest ] && ! docker image inspect "$image" >/dev/null 2>&1; then
  echo "building $image (first start)"
  ./build.sh
fi

"${compose[@]}" "${files[@]}" up -d --remove-orphans
host=${JUPYTERHUB_HOST:-$(dotenv JUPYTERHUB_HOST)}
base=${JUPYTERHUB_BASE_URL:-$(dotenv JUPYTERHUB_BASE_URL)}
echo "DS Hub: https://${host}${base:-/jupyterhub}/ (the hub needs about"
echo "a minute to report healthy before Traefik routes to it)"

# First start: the hub writes a one-time setup code for signing up the admin (only while that
# account does not exist). Wait for it (bounded) and show it with the command to read it again.
admin=${JUPYTERHUB_ADMIN:-$(dotenv JUPYTERHUB_ADMIN)}
admin=${admin:-admin}
read_code=(docker compose exec jupyterhub dshub-setup-code)
for _ in $(seq 45); do
  if code=$("${compose[@]}" "${files[@]}" exec -T jupyterhub dshub-setup-code 2>/dev/null); then
    echo
    echo "First sign-in: sign up as '${admin}' at https://${host}${base:-/jupyterhub}/hub/signup"
    echo "with the setup code ${code} (it works once; read it again with: ${read_code[*]})"
    break
  fi
  id=$("${compose[@]}" "${files[@]}" ps -q jupyterhub 2>/dev/null || true)
  # Healthy and no code: the admin account exists already.
  [ -n "$id" ] && [ "$(docker inspect -f '{{.State.Health.Status}}' "$id" 2>/dev/null)" = healthy ] && break
  sleep 2
done
