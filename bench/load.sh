#!/usr/bin/env bash
# Load test: POST /api/v1/intakes against release builds of the gateway.
# Prints requests/s and latency percentiles (wrk's), then what the outbox holds.
#
#   bench/load.sh                                   # SQLite default, 1 replica, 15 s
#   STORE_URL=postgres://postgres@127.0.0.1:5432/hg_bench REPLICAS=3 bench/load.sh
#   DURATION=30s CONNECTIONS=64 bench/load.sh
#
# With several replicas, one wrk per replica shares the connections; the
# summary adds their requests/s and shows each one's p50/p99. Needs wrk
# (apt-get install wrk); for PostgreSQL, the database must exist (it is
# emptied first). Figures are measurements of this machine, not assertions.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-32}
REPLICAS=${REPLICAS:-1}
PORT=${PORT:-18080}
STORE_URL=${STORE_URL:-}

command -v wrk >/dev/null || { echo "bench/load.sh needs wrk: apt-get install wrk" >&2; exit 2; }
cargo build --release --quiet
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

if [[ -n "$STORE_URL" ]]; then
  psql "$STORE_URL" -qc 'DROP TABLE IF EXISTS outbox, intakes, _sqlx_migrations' >/dev/null
fi
for i in $(seq 0 $((REPLICAS - 1))); do
  mkdir -p "$WORK/r$i"
  (
    cd "$WORK/r$i"
    export HANDOFF_GATE__SERVER__LISTEN=127.0.0.1:$((PORT + i))
    export HANDOFF_GATE__SERVER__TRUSTED_PROXIES=127.0.0.1
    export HANDOFF_GATE__LIMITS__PER_IP_PER_MINUTE=600
    export HANDOFF_GATE__ADMIN__TOKEN=bench
    [[ -n "$STORE_URL" ]] && export HANDOFF_GATE__STORE__URL="$STORE_URL"
    RUST_LOG=warn exec "$OLDPWD/target/release/handoff-gate" serve
  ) >"$WORK/gate$i.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$((PORT + i))/healthz" >/dev/null && break
    sleep 0.1
  done
done

STORE=${STORE_URL:+PostgreSQL}
echo "== wrk: $DURATION, $CONNECTIONS connections over $REPLICAS replica(s), POST /api/v1/intakes, store: ${STORE:-SQLite (WAL, synchronous=FULL)}"
WRKS=()
for i in $(seq 0 $((REPLICAS - 1))); do
  wrk -t1 -c$((CONNECTIONS / REPLICAS)) -d"$DURATION" --latency -s bench/intakes.lua \
    "http://127.0.0.1:$((PORT + i))/api/v1/intakes" >"$WORK/wrk$i.txt" &
  WRKS+=($!)
done
wait "${WRKS[@]}"

echo
total=0
for i in $(seq 0 $((REPLICAS - 1))); do
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk$i.txt")
  p50=$(awk '/ 50%/ {print $2}' "$WORK/wrk$i.txt")
  p99=$(awk '/ 99%/ {print $2}' "$WORK/wrk$i.txt")
  errors=$(awk '/Non-2xx/ {print $4}' "$WORK/wrk$i.txt")
  echo "replica $i: requests/s $rps  p50 $p50  p99 $p99  non-2xx ${errors:-0}"
  total=$(awk -v a="$total" -v b="$rps" 'BEGIN {print a + b}')
done
echo "total requests/s: $total"
sleep 2
curl -fs "http://127.0.0.1:$PORT/readyz" && echo
