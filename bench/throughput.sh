#!/usr/bin/env bash
# Intake throughput against the framework's ceiling, in one run: wrk posts
# realistic intakes (bench/intakes.lua) to an actix-web JSON echo built from
# the same lockfile (examples/echo.rs), then to the gateway on SQLite, then
# (with PG_URL) to one gateway on PostgreSQL. For each: requests/s, p50,
# p99, peak RSS, and the ratio to the echo. After each gateway run the rows
# in the store are counted: every 201 wrk saw must be there (a request cut
# off when wrk stops may be stored without wrk counting it, so rows >= 201s).
# Then the time until the outbox is empty (mail to files, the default).
#
#   bench/throughput.sh                                # 15 s each, 32 connections
#   PG_URL=postgres://postgres@127.0.0.1:5432/hg_bench bench/throughput.sh
#   DURATION=30s CONNECTIONS=64 bench/throughput.sh
#   RUST_LOG=warn bench/throughput.sh                  # the gateway's logs quieter than the default
#   GATEWAY=/path/to/other/handoff-gate bench/throughput.sh   # another build (ECHO=… for the echo)
#
# PG_URL names a database this script drops and creates again. Needs wrk
# (apt-get install wrk), curl, python3; psql for PostgreSQL. Figures are
# measurements of this machine (wrk shares its cores), not assertions: say
# the machine and its load (uptime) beside them.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
PORT=${PORT:-18080}
PG_URL=${PG_URL:-}
export RUST_LOG=${RUST_LOG:-info}

command -v wrk >/dev/null || { echo "bench/throughput.sh needs wrk: apt-get install wrk" >&2; exit 2; }
if [[ -z "${GATEWAY:-}" ]]; then
  cargo build --release --quiet --bin handoff-gate --example echo
  GATEWAY=$PWD/target/release/handoff-gate
  ECHO=$PWD/target/release/examples/echo
fi
ECHO=${ECHO:-$PWD/target/release/examples/echo}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

wait_for() { # URL
  for _ in $(seq 300); do
    curl -fs "$1" >/dev/null && return
    sleep 0.1
  done
  echo "nothing answers at $1; logs in $WORK" >&2
  tail -20 "$WORK"/*.log >&2
  exit 1
}

# wrk against $1; leaves req/s, p50, p99, 201s and non-2xx in $WORK/$2.txt.
run_wrk() {
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/intakes.lua \
    "$1/api/v1/intakes" >"$WORK/$2.txt"
}
field() { # NAME FILE
  case $1 in
    rps) awk '/Requests\/sec/ {print $2}' "$2" ;;
    p50) awk '/ 50%/ {print $2}' "$2" ;;
    p99) awk '/ 99%/ {print $2}' "$2" ;;
    created) awk '/^created/ {print $2}' "$2" ;;
  esac
}
rss_mb() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

ROWS=()
summary() { # LABEL PID FILE
  ROWS+=("$(printf '%-34s %9s %9s %9s %7s MB' "$1" "$(field rps "$3")" "$(field p50 "$3")" "$(field p99 "$3")" "$(rss_mb "$2")")")
}

echo "== $(uptime)"
echo "== wrk -t$THREADS -c$CONNECTIONS -d$DURATION, POST /api/v1/intakes (bench/intakes.lua)"

"$ECHO" "127.0.0.1:$((PORT + 9))" >"$WORK/echo.log" 2>&1 &
ECHO_PID=$!
PIDS+=("$ECHO_PID")
sleep 0.3
run_wrk "http://127.0.0.1:$((PORT + 9))" echo
summary "actix-web JSON echo" "$ECHO_PID" "$WORK/echo.txt"
kill "$ECHO_PID"
ECHO_RPS=$(field rps "$WORK/echo.txt")

# gateway LABEL STORE_URL COUNT_COMMAND
gateway() {
  local label=$1 url=$2 dir=$WORK/$1
  mkdir -p "$dir"
  (
    cd "$dir"
    export HANDOFF_GATE__SERVER__LISTEN=127.0.0.1:$PORT
    export HANDOFF_GATE__SERVER__TRUSTED_PROXIES=127.0.0.1
    export HANDOFF_GATE__LIMITS__PER_IP_PER_MINUTE=600
    export HANDOFF_GATE__ADMIN__TOKEN=bench
    export HANDOFF_GATE__STORE__URL=$url
    exec "$GATEWAY" serve
  ) >"$WORK/$label.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait_for "http://127.0.0.1:$PORT/healthz"
  run_wrk "http://127.0.0.1:$PORT" "$label"
  local stopped created rows
  stopped=$(date +%s.%N)
  summary "gateway, $label" "$pid" "$WORK/$label.txt"
  # Every acknowledged intake is in the store.
  created=$(field created "$WORK/$label.txt")
  rows=$("$3")
  if ((rows < created)); then
    echo "LOST: $label acknowledged $created intakes, the store holds $rows" >&2
    exit 1
  fi
  echo "$label: $created intakes acknowledged (201), $rows in the store: none lost"
  while ! curl -s "http://127.0.0.1:$PORT/readyz" | grep -q '"pending":0[,}]'; do sleep 0.1; done
  awk -v n="$rows" -v a="$stopped" -v b="$(date +%s.%N)" \
    'BEGIN { printf "%s: outbox empty %.1f s after the load stopped\n", "'"$label"'", b - a }'
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

sqlite_rows() { python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM intakes").fetchone()[0])' "$WORK/sqlite/data/handoff-gate.db"; }
pg_rows() { psql "$PG_URL" -tAc 'SELECT count(*) FROM intakes'; }

gateway sqlite "sqlite://data/handoff-gate.db" sqlite_rows
if [[ -n "$PG_URL" ]]; then
  admin=${PG_URL%/*}/postgres
  name=${PG_URL##*/}
  psql "$admin" -qc "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null
  gateway postgres "$PG_URL" pg_rows
fi

echo
printf '%-34s %9s %9s %9s %10s  %s\n' "target" "req/s" "p50" "p99" "peak RSS" "of echo"
for row in "${ROWS[@]}"; do
  rps=$(awk '{print $(NF-4)}' <<<"$row")
  printf '%s  %5.1f %%\n' "$row" "$(awk -v a="$rps" -v b="$ECHO_RPS" 'BEGIN {print 100 * a / b}')"
done
echo "== $(uptime)"
