#!/usr/bin/env bash
# Batch throughput: `redact --jsonl`, `redact` (one text) and `triage` (a
# comments export) against `cat` of the same file. Prints, per command, the
# wall time, MB/s, CPU time / wall time (how many cores it kept busy), peak
# RSS, and its MB/s as a share of cat's.
#
#   bench/batch.sh                              # 100 MB of short records, 100,000 comments
#   MB=20 COMMENTS=20000 bench/batch.sh         # smaller
#   GATEWAY=/path/to/other/handoff-gate bench/batch.sh   # another build, e.g. the last release
#
# Inputs are synthetic (bench/batch-data.py, the same bytes each run) and
# kept in $DATA (default /tmp/handoff-gate-bench). Needs GNU time
# (/usr/bin/time) and python3. Figures are measurements of this machine, not
# assertions: say the load (`uptime`) beside them.
set -euo pipefail
cd "$(dirname "$0")/.."

MB=${MB:-100}
COMMENTS=${COMMENTS:-100000}
DATA=${DATA:-/tmp/handoff-gate-bench}
[[ -x /usr/bin/time ]] || { echo "bench/batch.sh needs GNU time: apt-get install time" >&2; exit 2; }
if [[ -z "${GATEWAY:-}" ]]; then
  cargo build --release --quiet
  GATEWAY=$PWD/target/release/handoff-gate
fi
mkdir -p "$DATA"
RECORDS=$DATA/records-${MB}mb.jsonl
EXPORT=$DATA/comments-$COMMENTS.csv
[[ -s $RECORDS ]] || python3 bench/batch-data.py jsonl "$MB" >"$RECORDS"
[[ -s $EXPORT ]] || python3 bench/batch-data.py comments "$COMMENTS" >"$EXPORT"
# One text of the same size: the records' texts, one paragraph each.
TEXT=$DATA/text-${MB}mb.txt
[[ -s $TEXT ]] || python3 -c 'import json,sys
for line in sys.stdin: print(json.loads(line)["text"] + "\n")' <"$RECORDS" >"$TEXT"

echo "load: $(uptime | sed 's/.*load average: //') on $(nproc) cores; $GATEWAY"
printf '%-22s %10s %9s %10s %8s %10s %9s\n' command MB wall_s MB/s cpu/wall peak_MiB vs_cat
# measure NAME INPUT CAT_RATE CMD...: time CMD < INPUT > /dev/null, print a
# row, leave its MB/s in $RATE.
measure() {
  local name=$1 input=$2 cat=$3 log
  shift 3
  log=$(mktemp)
  /usr/bin/time -v "$@" <"$input" >/dev/null 2>"$log" || { tail -5 "$log" >&2; rm -f "$log"; return 1; }
  RATE=$(python3 - "$name" "$(stat -c %s "$input")" "$cat" "$log" <<'PY'
import re, sys
name, size, cat, log = sys.argv[1], int(sys.argv[2]), sys.argv[3], open(sys.argv[4]).read()
def field(label):
    return re.search(re.escape(label) + r": (.*)", log).group(1).strip()
h, m, s = ([0, 0] + field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":"))[-3:]
wall = int(h) * 3600 + int(m) * 60 + float(s)
cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
rss = int(field("Maximum resident set size (kbytes)")) / 1024
rate = size / 1e6 / max(wall, 1e-3)
vs = f"{rate / float(cat):.4f}" if cat else "1"
print(f"{name:<22} {size / 1e6:10.1f} {wall:9.2f} {rate:10.1f} {cpu / max(wall, 1e-3):8.2f} {rss:10.0f} {vs:>9}", file=sys.stderr)
print(rate)
PY
)
  rm -f "$log"
}
# bench NAME INPUT CMD...: cat of INPUT, then CMD on it.
bench() {
  local name=$1 input=$2
  shift 2
  measure "  cat" "$input" "" cat
  measure "$name" "$input" "$RATE" "$@"
}
bench "redact --jsonl" "$RECORDS" "$GATEWAY" redact --jsonl
bench "redact (one text)" "$TEXT" "$GATEWAY" redact
bench "triage (comments)" "$EXPORT" "$GATEWAY" triage "$EXPORT"
