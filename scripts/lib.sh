# Shared by the scripts (source it): one terminal line per step, everything else in a log file.
#   step LABEL CMD [ARGS...]   run CMD with its output appended to $DSHUB_LOG, then print
#                              "LABEL: RESULT (1.2 s)". CMD may write RESULT ("built", "up to
#                              date", ...) on file descriptor 3; the default is "done". On
#                              failure: "LABEL: FAILED", an excerpt of its output, the log.
#   try_step LABEL CMD [ARGS...]  the same, but a failure sets FAILED=1 and the script goes on.
# Never call step after `||`, `&&`, `if` or `!`: bash would then ignore `set -e` inside CMD.
# The first script of a run creates the log (.dev/logs/<run>.log) and prints its path; scripts
# it calls inherit DSHUB_LOG and write to the same file.

if [ -z "${DSHUB_LOG:-}" ]; then
  mkdir -p .dev/logs
  DSHUB_LOG=$PWD/.dev/logs/$(basename "$0" .sh)-$(date +%Y%m%d-%H%M%S).log
  : > "$DSHUB_LOG"
  export DSHUB_LOG
  echo "Details: ${DSHUB_LOG#"$PWD"/}"
fi

# seconds START: the time since START (from `date +%s.%N`), as "0.4" below 10 s, else "64".
seconds() {
  awk -v s="$1" -v e="$(date +%s.%N)" \
    'BEGIN { d = e - s; if (d < 10) printf "%.1f", d; else printf "%d", d + 0.5 }'
}

# failure_excerpt MARK: what a failed step printed after line MARK of the log. For pytest, the
# first failing tests (the first is often the cause of the rest) and its summary line; else the
# last lines.
failure_excerpt() {
  local out failures
  out=$(tail -n +"$(($1 + 1))" "$DSHUB_LOG")
  failures=$(grep -E '^(FAILED|ERROR) ' <<< "$out" || true)
  if [ -z "$failures" ]; then
    tail -n "${DSHUB_FAIL_LINES:-25}" <<< "$out"
    return
  fi
  head -n 15 <<< "$failures" | cut -c1-400
  local more=$(($(wc -l <<< "$failures") - 15))
  if [ "$more" -gt 0 ]; then echo "... and $more more"; fi
  tail -n1 <<< "$out"
}

step() {
  local label=$1; shift
  local start status=0 result_file mark
  start=$(date +%s.%N)
  result_file=$(mktemp)
  mark=$(wc -l < "$DSHUB_LOG")
  printf '\n== %s: %s\n' "$label" "$*" >> "$DSHUB_LOG"
  # In a background subshell `set -e` still applies inside CMD (after `||` it would not).
  ( "$@" ) 3>"$result_file" >>"$DSHUB_LOG" 2>&1 < /dev/null &
  wait $! || status=$?
  local result
  result=$(tail -n1 "$result_file"); rm -f "$result_file"
  if [ "$status" -ne 0 ]; then
    printf '%s: FAILED (%s s)\n' "$label" "$(seconds "$start")" >&2
    failure_excerpt "$mark" | sed 's/^/  | /' >&2
    printf '  full log: %s\n' "$DSHUB_LOG" >&2
    return "$status"
  fi
  printf '%s: %s (%s s)\n' "$label" "${result:-done}" "$(seconds "$start")"
}

FAILED=0
try_step() {
  # A background job is not in an `||` context, so `set -e` keeps working inside CMD.
  step "$@" &
  wait $! || FAILED=1
}
