#!/usr/bin/env bash
# Load test: POST /api/v1/intakes against a release build with the default
# SQLite store, mail written to files. Prints requests/s and latency
# percentiles (wrk's), then what the store and the outbox hold.
#
#   bench/load.sh                 # 15 s, 2 wrk threads, 32 connections
#   DURATION=30s CONNECTIONS=64 bench/load.sh
#
# Needs wrk (apt-get install wrk). Figures are measurements of this machine,
# not assertions: nothing here fails on speed.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
PORT=${PORT:-18080}

command -v wrk >/dev/null || { echo "bench/load.sh needs wrk: apt-get install wrk" >&2; exit 2; }
cargo build --release --quiet
WORK=$(mktemp -d)
trap 'kill "$GATE" 2>/dev/null && wait "$GATE" 2>/dev/null; rm -rf "$WORK"' EXIT

(
  cd "$WORK"
  HANDOFF_GATE__SERVER__LISTEN=127.0.0.1:$PORT \
  HANDOFF_GATE__SERVER__TRUSTED_PROXIES=127.0.0.1 \
  HANDOFF_GATE__LIMITS__PER_IP_PER_MINUTE=600 \
  RUST_LOG=warn \
  exec "$OLDPWD/target/release/handoff-gate" serve
) >"$WORK/gate.log" 2>&1 &
GATE=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  sleep 0.1
done

echo "== wrk -t$THREADS -c$CONNECTIONS -d$DURATION POST /api/v1/intakes (SQLite, WAL, synchronous=FULL)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/intakes.lua \
  "http://127.0.0.1:$PORT/api/v1/intakes" | tee "$WORK/wrk.txt"

echo
echo "== summary"
awk '/Requests\/sec/ {print "requests/s: " $2} / 50%/ {print "p50: " $2} / 99%/ {print "p99: " $2} /Non-2xx/ {print "non-2xx responses: " $4}' "$WORK/wrk.txt"
sleep 2
curl -fs "http://127.0.0.1:$PORT/readyz" && echo
