#!/usr/bin/env bash
# Outbox drain speed: how many mails/s one gateway process sends to a local
# SMTP relay (Python's aiosmtpd). The gateway takes N intakes while its relay
# accepts connections but never answers (so nothing is sent or retried), is
# killed, and is started again with aiosmtpd on that port; the figure is N
# divided by the time from that start until /readyz shows nothing pending.
#
#   bench/smtp.sh                        # 3,000 intakes, SQLite, aiosmtpd's Sink handler
#   N=10000 HANDLER=aiosmtpd.handlers.Mailbox bench/smtp.sh      # a relay that writes a Maildir
#   STORE_URL=postgres://postgres@127.0.0.1:5432/hg_bench bench/smtp.sh
#   GATEWAY=/path/to/other/handoff-gate bench/smtp.sh             # compare another build
#
# Needs python3 with aiosmtpd (pip install aiosmtpd) and curl. Figures are
# measurements of this machine, not assertions.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-3000}
PORT=${PORT:-18090}
SMTP_PORT=${SMTP_PORT:-18025}
HANDLER=${HANDLER:-aiosmtpd.handlers.Sink}
STORE_URL=${STORE_URL:-}
if [[ -z "${GATEWAY:-}" ]]; then
  cargo build --release --quiet
  GATEWAY=$PWD/target/release/handoff-gate
fi
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

if [[ -n "$STORE_URL" ]]; then
  psql "$STORE_URL" -qc 'DROP TABLE IF EXISTS outbox, intakes, store_probe, _sqlx_migrations' >/dev/null
fi
export HANDOFF_GATE__SERVER__LISTEN=127.0.0.1:$PORT
export HANDOFF_GATE__LIMITS__PER_IP_PER_MINUTE=0
export HANDOFF_GATE__SMTP__HOST=127.0.0.1 HANDOFF_GATE__SMTP__PORT=$SMTP_PORT HANDOFF_GATE__SMTP__TLS=none
export HANDOFF_GATE__SMTP__TIMEOUT_SECONDS=60 HANDOFF_GATE__DELIVERY__LEASE_SECONDS=1
export RUST_LOG=warn
[[ -n "$STORE_URL" ]] && export HANDOFF_GATE__STORE__URL="$STORE_URL"

start_gateway() {
  (cd "$WORK" && exec "$GATEWAY" serve) >>"$WORK/gate.log" 2>&1 &
  GATE=$!
  PIDS+=("$GATE")
  for _ in $(seq 200); do
    curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && return
    sleep 0.05
  done
  echo "the gateway did not start; its log:" >&2
  cat "$WORK/gate.log" >&2
  exit 1
}
pending() {
  curl -s "http://127.0.0.1:$PORT/readyz" | python3 -c 'import json, sys; print(json.load(sys.stdin)["outbox"]["pending"])'
}

echo "== queueing $N intakes while the relay does not answer"
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64); time.sleep(3600)' "$SMTP_PORT" &
SILENT=$!
PIDS+=("$SILENT")
sleep 0.3
start_gateway
python3 - "$PORT" "$N" <<'EOF'
import concurrent.futures, json, sys, urllib.request
port, n = int(sys.argv[1]), int(sys.argv[2])
def post(i):
    body = json.dumps({"message": f"Bench intake {i}: Typeform entries never reach HubSpot, no follow-up"}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/intakes", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        assert response.status == 201
with concurrent.futures.ThreadPoolExecutor(16) as pool:
    list(pool.map(post, range(n)))
EOF
kill -9 "$GATE" "$SILENT"; wait "$GATE" "$SILENT" 2>/dev/null || true

echo "== draining into aiosmtpd ($HANDLER)"
HANDLER_ARGS=()
[[ "$HANDLER" == *Mailbox ]] && HANDLER_ARGS=("$WORK/Maildir")
python3 -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c "$HANDLER" "${HANDLER_ARGS[@]}" >"$WORK/smtp.log" 2>&1 &
PIDS+=($!)
# aiosmtpd answers, and the killed gateway's one-second leases have lapsed.
sleep 1.5
started=$(date +%s.%N)
start_gateway
while [[ $(pending) -gt 0 ]]; do sleep 0.05; done
finished=$(date +%s.%N)
awk -v n="$N" -v a="$started" -v b="$finished" \
  'BEGIN { printf "%d mails in %.2f s: %.0f mails/s\n", n, b - a, n / (b - a) }'
