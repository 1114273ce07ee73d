#!/usr/bin/env bash
# How many times each thread of two cluster nodes wakes up per event (ARCHITECTURE.md, "One event, hop by
# hop"): one stream on node B, COUNT events published one at a time to node A's /publish, each awaited.
#
#   scripts/bench/handoffs.sh
#
# Counts each thread's voluntary context switches (/proc/<pid>/task/*/status: each is the thread going to
# sleep, so each is one wake-up after it) over the publishes, less what the same threads do in as long a
# quiet time before them (timers, heartbeats), divided by COUNT. Settings (environment), besides those of
# scripts/bench/nodes.sh (BIN, ports, KEEP_SERVICES, NODE_THREADS): COUNT=200 GAP=0.02 (seconds between
# publishes) NODE_A=18481 NODE_B=18482.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
COUNT=${COUNT:-200} GAP=${GAP:-0.02} NODE_A=${NODE_A:-18481} NODE_B=${NODE_B:-18482}
RUN_DIR=${RUN_DIR:-$REPO/.run/bench/$(date +%Y%m%d-%H%M%S)-handoffs}
SERVER_NAME=handoffs
source "$REPO/scripts/bench/nodes.sh"

prepare_run
start_node "$NODE_A"
start_node "$NODE_B"
user=handoffs-$RANDOM
curl -sN --max-time 600 "http://127.0.0.1:$NODE_B/events?user=$user" >"$RUN_DIR/stream.txt" &
STREAM=$!
trap 'kill $STREAM 2>/dev/null || true; stop_all' EXIT
for _ in $(seq 100); do grep -q "event: connected" "$RUN_DIR/stream.txt" 2>/dev/null && break; sleep 0.1; done

# switches PID: "name/tid count" per thread.
switches() {
    for task in /proc/"$1"/task/*; do
        printf '%s/%s %s\n' "$(tr ' ' '_' <"$task/comm")" "${task##*/}" "$(awk '/^voluntary_ctxt_switches/ {print $2}' "$task/status")"
    done | sort
}
publish() {
    curl -s -o /dev/null -w '%{http_code}\n' -X POST -H 'Content-Type: application/json' \
        -d "{\"target\":{\"type\":\"user\",\"id\":\"$user\"},\"data\":\"$1\"}" "http://127.0.0.1:$NODE_A/publish"
}
publish warm-up >/dev/null
sleep 1

A=${NODE_PIDS[0]} B=${NODE_PIDS[1]}
switches "$A" >"$RUN_DIR/a0" && switches "$B" >"$RUN_DIR/b0"
for i in $(seq "$COUNT"); do sleep "$GAP"; done
switches "$A" >"$RUN_DIR/a1" && switches "$B" >"$RUN_DIR/b1"
for i in $(seq "$COUNT"); do
    [[ $(publish "$i") == 202 ]] || { echo "publish $i was not accepted" >&2; exit 1; }
    sleep "$GAP"
done
switches "$A" >"$RUN_DIR/a2" && switches "$B" >"$RUN_DIR/b2"
for _ in $(seq 100); do grep -q "data: $COUNT\$" "$RUN_DIR/stream.txt" && break; sleep 0.1; done
delivered=$(grep -c '^data: [0-9]' "$RUN_DIR/stream.txt" || true)

echo "commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo ?), $COUNT events, $delivered delivered to the stream"
for node in a b; do
    echo "node ${node^^}: wake-ups per event, by thread (during the publishes, less as long a quiet time before)"
    join "$RUN_DIR/${node}0" "$RUN_DIR/${node}1" | join - "$RUN_DIR/${node}2" |
        awk -v n="$COUNT" '{quiet = $3 - $2; busy = $4 - $3; rate = (busy - quiet) / n; if (rate >= 0.05) printf "  %-28s %6.2f\n", $1, rate}'
done | tee "$RUN_DIR/summary.txt"
