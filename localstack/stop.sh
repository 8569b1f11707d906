#!/usr/bin/env bash
# localstack/stop.sh - stop what start.sh started (by its PID file; children, e.g. DynamoDB Local, first if it hangs)
set -uo pipefail
EMULATOR="${EMULATOR:-localstack}"
LS_HOME="${LS_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/aws-emulator}"
PIDFILE="$LS_HOME/$EMULATOR.pid"
[ -f "$PIDFILE" ] || { echo "[$EMULATOR] not running"; exit 0; }
pid="$(cat "$PIDFILE")"
kids="$(ps -o pid= --ppid "$pid" 2>/dev/null || true)"
kill "$pid" 2>/dev/null
for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
if kill -0 "$pid" 2>/dev/null; then
  for k in $kids; do kill -9 "$k" 2>/dev/null; done
  kill -9 "$pid" 2>/dev/null
fi
rm -f "$PIDFILE"
echo "[$EMULATOR] stopped (pid $pid)"
