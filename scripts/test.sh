#!/usr/bin/env bash
# Every test: lint, then pytest four times, one line each on the terminal (details in the logs),
# in two streams side by side:
#   1. unit, in-process handler and integration tests (the real hub + Docker) on the default
#      JupyterHub line (.venv) with SQLite;
# and beside it, with Docker names, ports and a log of their own:
#   2. the UI tests in Chromium (same line), then
#   1b. the integration tests of that line that need no session hub (production image, TLS,
#      logo, mail, the first admin, cookies, a slow proxy, an unreachable engine), then
#   4. unit and in-process tests (less what is marked default_line_only), and the restart,
#      gate, sign-in, spawn, a broadcast's delivery, sharing and named-server integration
#      tests on the other JupyterHub line (.venv-jh55, 5.5), then
#   3. the integration tests that touch the databases (sign-in, portal actions, broadcast
#      history, groups and their audit, the store's migrations) with the hub and the portal
#      store on PostgreSQL, from a throwaway server this run starts on loopback and stops by
#      its PID;
# and, from the start, every benchmark in quick mode (tiny sizes, no figure asserted): it fails
# when a benchmark no longer runs or measures nothing.
# The UI tests mostly wait (on Chromium, labs, idle timers), so pass 1 fills that time.
# Arguments go to every pytest run (e.g. -x). Installs and starts what it needs; removes only
# what it created.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

POSTGRES_TESTS=(
  tests/integration/test_jupyterhub_lines.py
  tests/integration/test_databases.py::test_the_session_hub_uses_the_runs_database
  tests/integration/test_hardening.py::test_sign_in_safety
  tests/integration/test_portal_actions.py
  tests/integration/test_broadcast.py
  tests/integration/test_docker_groups.py
  tests/integration/test_store_postgres.py
)
# What those files check of Docker alone (a workspace reset, a restart, the socket mount): the
# database only records it, as it does for every action the PostgreSQL pass runs; pass 1 runs
# them. Each starts labs: a minute of the pass.
POSTGRES_SKIPS=(
  --deselect "tests/integration/test_portal_actions.py::test_reset_workspace_only_keeps_home_shared_and_other_users"
  --deselect "tests/integration/test_portal_actions.py::test_restart_keeps_container_and_workspace_and_lab_answers_again"
  --deselect "tests/integration/test_docker_groups.py::test_members_get_socket_and_privilege_nonmembers_neither"
)
# Tests of PostgreSQL alone: they fail without its server, so only pass 3 runs them.
POSTGRES_ONLY=(--ignore=tests/integration/test_store_postgres.py)
# Integration tests on the default line that need no session hub (hubs, proxies or containers of
# their own): the side stream runs them (pass 1b), which evens out the two streams.
OWN_HUB_TESTS=(
  tests/integration/test_production.py
  tests/integration/test_tls_logo.py
  tests/integration/test_mail.py
  tests/integration/test_first_admin.py
  tests/integration/test_cookie_prefix.py
  tests/integration/test_auth_cookies.py
  tests/integration/test_patient_proxy.py
  tests/integration/test_docker_faults.py
)
OTHER_LINE_TESTS=(
  tests/unit
  tests/inprocess
  tests/integration/test_hub_restarts.py
  tests/integration/test_gate.py
  tests/integration/test_jupyterhub_lines.py
  tests/integration/test_hardening.py::test_sign_in_safety
  tests/integration/test_spawn.py
  # A real lab takes a warning with the token this line's hub minted; the form's checks, the
  # history and the JSON API are the portal's own and run in-process on this line.
  tests/integration/test_broadcast.py::test_warning_reaches_both_labs_and_others_get_plain_reasons_without_delay
  tests/integration/test_sharing.py
  tests/integration/test_named_servers.py
)

# This run's own records: whether it started the engine, and its PostgreSQL directory.
started_file=$(mktemp)
pg_dir=$(mktemp -d /tmp/dshub-pg.XXXXXX)
cleanup() {
  bash scripts/postgres.sh stop "$pg_dir" || true
  # Stop the Docker engine only if this run started it (by its PID).
  if [ "$(cat "$started_file")" = started ]; then bash scripts/stop-docker.sh; fi
  rm -f "$started_file"
}
trap cleanup EXIT
# The suite starts about a hundred Python processes (hubs, workers, benchmarks) that import the
# same modules; where the environment forbids writing bytecode, each compiled the project's
# sources and pytest re-wrote every test module again. Caches go to __pycache__ (ignored by git).
# Unset before set-up, so the environments are not compiled ahead either (scripts/setup.sh): the
# first process to import a module writes its cache.
unset PYTHONDONTWRITEBYTECODE
DSHUB_DOCKER_STARTED_FILE=$started_file bash scripts/setup.sh --browser

# The restart test makes this many restarts per line here; `make stress` makes 50.
export DSHUB_HUB_RESTARTS=${DSHUB_HUB_RESTARTS:-3}

# Two pytest workers (pytest-xdist) per session, each with its own session hub and Docker object
# prefix (dshubtest-gw0-, ...); a file's tests stay on one worker, sharing that file's fixtures.
# Long files go first (tests/scheduling.py), so the two workers end together. (Three workers
# for pass 1 made no run shorter: the two cores are busy already.)
WORKERS=${DSHUB_TEST_WORKERS:-2}

# pytest_run VENV [ARGS...]: one pytest session; its summary line is the step's result.
# The log lists every test phase of 2 s or more with its time: where a pass spends its minutes.
pytest_run() {
  local venv=$1 out me=$BASHPID; shift
  out=$(mktemp)
  trap "rm -f '$out'" EXIT
  "$venv/bin/pytest" -p no:cacheprovider -q -rfE --durations=0 --durations-min=2 \
    -n "$WORKERS" --dist loadfile --no-loadscope-reorder "$@" 9>&- 2>&1 | tee "$out"
  printf '%s; %s CPU-s\n' "$(tail -n1 "$out" | tr -d '=' | sed 's/^ *//; s/ *$//')" \
    "$(children_cpu "$me")" >&3
}
# children_cpu PID: CPU seconds of what that shell has waited for (pytest and the hubs,
# proxies and browsers it started; labs run under the Docker engine and are not counted).
children_cpu() {
  awk -v tick="$(getconf CLK_TCK)" '{ printf "%.0f", ($16 + $17) / tick }' "/proc/$1/stat"
}
version() { "$1/bin/python" -c 'import jupyterhub; print(jupyterhub.__version__)'; }
lint() { .venv/bin/ruff check portal tests config benchmarks; echo clean >&3; }
postgres_start() { bash scripts/postgres.sh start "$pg_dir" >/dev/null 9>&-; echo started >&3; }
# Quick benchmarks take no lock of their own (this run holds it): their objects are
# dshubbench-*, and no figure of a quick run is kept, so sharing the cores costs only time.
benchmarks_quick() {
  .venv/bin/python -m benchmarks --quick 9>&-
  echo "every benchmark ran" >&3
}
# Pass 3: PostgreSQL from a throwaway server.
postgres_pass() {
  try_step "PostgreSQL (loopback, temporary)" postgres_start
  if [ -s "$pg_dir/url" ]; then
    DSHUB_TEST_POSTGRES=$(cat "$pg_dir/url")
    export DSHUB_TEST_POSTGRES
    try_step "tests, JupyterHub $(version .venv), PostgreSQL" pytest_run .venv "$@" \
      "${POSTGRES_SKIPS[@]}" "${POSTGRES_TESTS[@]}"
    unset DSHUB_TEST_POSTGRES
    bash scripts/postgres.sh stop "$pg_dir"
  fi
}
# Passes 2, 4 then 3, in a subshell beside pass 1 (Docker names dshubtest-b-*, port slots of
# their own); exits with its result. Pass 1 is the longest, so pass 3 goes on this side. The UI tests in a session of their own: Playwright's
# sync API leaves its event loop marked as running in the worker's thread, which breaks any
# asyncio test after it in the same process.
side_stream() {
  try_step "UI tests in Chromium, JupyterHub $(version .venv), SQLite" pytest_run .venv "$@" \
    tests/ui
  try_step "tests with hubs of their own, JupyterHub $(version .venv), SQLite" pytest_run .venv \
    "$@" "${OWN_HUB_TESTS[@]}"
  # What does not differ between the lines ran in pass 1: tests marked default_line_only are
  # left out here, and the property tests try 10 inputs each instead of 40.
  export DSHUB_PROPERTY_EXAMPLES=10
  try_step "tests, JupyterHub $(version .venv-jh55), SQLite" pytest_run .venv-jh55 \
    -m "not default_line_only" "$@" "${OTHER_LINE_TESTS[@]}"
  unset DSHUB_PROPERTY_EXAMPLES
  postgres_pass "$@"
  exit $FAILED
}

# One run at a time per engine: a pytest session removes the dshubtest-* objects of its own
# prefix at start, and ports are handed out per session slot. Only this shell and its
# subshells hold the lock (fd 9 is closed for the programs they start: a hub or database left
# running must not hold it).
exec 9> /tmp/dshub-pytest.lock
flock 9

try_step "ruff" lint
export DSHUB_FAIL_LINES=40
# The quick benchmarks, from the start, with a log of their own; their line is printed when
# they end.
bench_out=$(mktemp) bench_log=${DSHUB_LOG%.log}-benchmarks.log
: > "$bench_log"
( DSHUB_LOG=$bench_log step "benchmarks, quick mode" benchmarks_quick ) > "$bench_out" 2>&1 &
bench_pid=$!
# Passes 2 and 4 print their lines when they end; their details go to a log of their own.
side_log=${DSHUB_LOG%.log}-ui-jh55.log
: > "$side_log"
( DSHUB_LOG=$side_log DSHUB_TEST_PREFIX=dshubtest-b- DSHUB_TEST_SLOT_BASE=2 \
    side_stream "$@" ) &
side_pid=$!
try_step "tests, JupyterHub $(version .venv), SQLite" pytest_run .venv "$@" \
  "${POSTGRES_ONLY[@]}" "${OWN_HUB_TESTS[@]/#/--ignore=}" tests/unit tests/inprocess \
  tests/integration
wait "$side_pid" || FAILED=1
wait "$bench_pid" || FAILED=1
cat "$bench_out"; rm -f "$bench_out"
if [ "$FAILED" = 0 ]; then echo "Every pass is green."; else echo "Some pass FAILED (above)."; fi
exit $FAILED
