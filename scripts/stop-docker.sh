#!/usr/bin/env bash
# Stop the dockerd that ensure-docker.sh started, by its PID (never any other daemon).
set -euo pipefail
PIDFILE=${DSHUB_DOCKER_PIDFILE:-/var/run/dshub-dockerd.pid}
[ -f "$PIDFILE" ] || exit 0
pid=$(cat "$PIDFILE")
kill "$pid" 2>/dev/null || exit 0
for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.5; done
kill -9 "$pid" 2>/dev/null || true
