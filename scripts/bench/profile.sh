#!/usr/bin/env bash
# Where a broadcast's time goes in the node (BENCHMARKS.md, "The stream path near the floor").
#
#   scripts/bench/profile.sh [OUT_DIR]
#
# Starts a standalone one-loop node on core 0 and `sse-bench broadcast` on core 1 (CONNECTIONS streams,
# RATE broadcasts/s of SIZE bytes for DURATION s), and once publishing is under way records the node with
# `perf record -e cpu-clock -g` for 4 s and counts its system calls by kind for 2 s
# (`perf stat -e 'syscalls:sys_enter_*'`). Writes perf.data, syscalls.txt, top.txt (the hottest symbols)
# and the load tool's report to OUT_DIR (default .run/bench/profile-<time>).
#
# Settings (environment): BIN (sse-fanout and sse-bench; default: a release build), PORT=18190,
# CONNECTIONS=10000 RATE=10 SIZE=64 DURATION=12.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$REPO/.run/bench/profile-$(date +%Y%m%d-%H%M%S)}
PORT=${PORT:-18190} CONNECTIONS=${CONNECTIONS:-10000} RATE=${RATE:-10} SIZE=${SIZE:-64} DURATION=${DURATION:-12}
if [[ -z ${BIN:-} ]]; then
    (cd "$REPO" && swift build -c release --product sse-fanout >/dev/null && swift build -c release --product sse-bench >/dev/null)
    BIN=$(cd "$REPO" && swift build -c release --show-bin-path)
fi
command -v perf >/dev/null || apt-get install -y linux-perf >/dev/null
mkdir -p "$OUT"
ulimit -n 20000

taskset -c 0 "$BIN/sse-fanout" serve --standalone --host 127.0.0.1 --port "$PORT" --threads 1 --log-level warning >"$OUT/node.log" 2>&1 &
NODE=$!
trap 'kill $NODE 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.1; done

taskset -c 1 "$BIN/sse-bench" broadcast --url "http://127.0.0.1:$PORT/events" --publish-url "http://127.0.0.1:$PORT/publish" \
    --connections "$CONNECTIONS" --rate "$RATE" --duration "$DURATION" --size "$SIZE" --pid "$NODE" >"$OUT/bench.txt" 2>&1 &
BENCH=$!
# Publishing starts once every stream is open and a settle time has passed.
for _ in $(seq 240); do
    (($(ss -Htn state established "( sport = :$PORT )" | wc -l) >= CONNECTIONS)) && break
    sleep 0.5
done
sleep 4
perf record -e cpu-clock -g -p "$NODE" -o "$OUT/perf.data" -- sleep 4 >/dev/null 2>&1
perf stat -e 'syscalls:sys_enter_write,syscalls:sys_enter_sendto,syscalls:sys_enter_writev,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_ctl,syscalls:sys_enter_read' \
    -p "$NODE" -o "$OUT/syscalls.txt" -- sleep 2 >/dev/null 2>&1
wait "$BENCH"
perf report -i "$OUT/perf.data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null | grep '%' | head -60 >"$OUT/top.txt" || true
grep -E 'deliveries|latency|server CPU|client CPU|valid' "$OUT/bench.txt"
grep -E 'syscalls:' "$OUT/syscalls.txt"
head -25 "$OUT/top.txt"
echo "written to $OUT"
