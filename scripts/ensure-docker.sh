#!/usr/bin/env bash
# Make sure a Docker engine answers. Starts one only when none does: a second dockerd started
# with --bridge=none would delete the first daemon's docker0 bridge.
# Prints "started" on stdout when this call started the daemon (the caller may stop it later).
set -euo pipefail
STATE=${DSHUB_DOCKER_STATE:-/var/lib/dshub/docker}
EXEC=${DSHUB_DOCKER_EXEC:-/var/run/dshub-docker}
PIDFILE=${DSHUB_DOCKER_PIDFILE:-/var/run/dshub-dockerd.pid}
LOG=${DSHUB_DOCKER_LOG:-/var/log/dshub-dockerd.log}

if docker info >/dev/null 2>&1; then exit 0; fi
command -v dockerd >/dev/null || { echo "dockerd is not installed (apt-get install docker.io)" >&2; exit 1; }

# A dockerd/containerd killed without cleanup leaves pidfiles behind; drop them when the process
# they name is gone so the new daemon does not refuse to start.
for pf in "$PIDFILE" "$EXEC/containerd/containerd.pid" /var/run/docker/containerd/containerd.pid; do
  if [ -f "$pf" ] && ! kill -0 "$(cat "$pf" 2>/dev/null)" 2>/dev/null; then rm -f "$pf"; fi
done
[ -S /var/run/docker.sock ] && rm -f /var/run/docker.sock
mkdir -p "$STATE" "$EXEC" "$(dirname "$LOG")"

# Loopback-only engine: no bridge, no iptables: test traffic never leaves 127.0.0.0/8.
setsid dockerd --bridge=none --iptables=false --ip-masq=false --ip6tables=false \
  --data-root "$STATE" --exec-root "$EXEC" --pidfile "$PIDFILE" >>"$LOG" 2>&1 < /dev/null &
for _ in $(seq 1 120); do
  if docker info >/dev/null 2>&1; then echo started; exit 0; fi
  sleep 0.5
done
echo "dockerd did not answer within 60 s; see $LOG" >&2
tail -n 20 "$LOG" >&2
exit 1
