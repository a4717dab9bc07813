#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, from Debian's packages (apt-get install postgresql):
#   postgres.sh start DIR   initdb in DIR (empty or absent), listen on 127.0.0.1 only, on a free
#                           port; prints the server's URL (its password is made for this run)
#                           and keeps it in DIR/url
#   postgres.sh stop DIR    stop that server by its PID and remove DIR
# Runs as the `postgres` system user when started as root (initdb refuses root).
set -euo pipefail
cmd=${1:-}; dir=${2:-}
[ -n "$dir" ] || { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$cmd" in
  start)
    [ -x "$bin/initdb" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    password=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
    echo "$password" > "$dir/pwfile"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir/pwfile"
    as_pg "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" -A scram-sha-256 \
      --no-sync >"$dir/initdb.log"
    rm -f "$dir/pwfile"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # Loopback only, socket in DIR; durability is not needed for a test run.
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
      "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      >/dev/null
    url="postgresql://postgres:$password@127.0.0.1:$port/postgres"
    (umask 077 && echo "$url" > "$dir/url")
    echo "$url"
    ;;
  stop)
    pidfile=$dir/data/postmaster.pid
    if [ -f "$pidfile" ]; then
      pid=$(head -n1 "$pidfile")
      # SIGINT: PostgreSQL's fast shutdown (disconnects clients, then exits).
      kill -INT "$pid" 2>/dev/null || true
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    fi
    rm -rf "$dir"
    ;;
  *) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
