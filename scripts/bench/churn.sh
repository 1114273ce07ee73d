#!/usr/bin/env bash
# S4, connection churn (BENCHMARKS.md): new streams per second on one cluster node, each registered in
# Redis before its `connected` event, and the time to that event.
#
#   scripts/bench/churn.sh
#
# Starts redis-server and rabbitmq-server on bench ports (scripts/services.sh) and one sse-fanout node in
# release, then runs sse-bench churn: open loop at each of RATES for DURATION s (each connection waits for
# `connected`, then closes), and, unless CLOSED_LOOP=0, closed loop with CLOSED_CONCURRENCY connections in
# progress (as many per second as the node answers). Target: at least 5,000 new streams/s per node, with
# the p99 time to `connected`. After each run it checks that the node removed every registration from
# Redis (sse:node:<id>:connections is empty again). Stops everything at the end; each step is bounded.
#
# With AUTH (scripts/bench/auth.sh) the node checks a token on every stream: AUTH=hs256 or es256 starts it
# with a fresh secret or P-256 key, and sse-bench mints one token per connection (before each measurement)
# and sends it. A list (AUTH="none hs256 es256") measures each in turn on a fresh node, in a different
# order each of ROUNDS rounds; the tags then end in the mode (churn-5000ps-hs256), and the summary gives
# medians per tag when ROUNDS > 1.
#
# Settings (environment), besides those of scripts/bench/nodes.sh (BIN, ports, KEEP_SERVICES, NODE_THREADS):
#   RATES="1000 5000" DURATION=10 CONCURRENCY=1000 CLOSED_LOOP=1 CLOSED_CONCURRENCY=64
#   USERS=1000 SOURCE_ADDRESSES=8 CLOSE=fin (or reset: no TIME_WAIT) CLIENT_THREADS=1 NODE_PORT=18483
#   AUTH=none (or hs256, es256, or a list of them) TOKEN_IN=header (or query) ROUNDS=1
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
RATES=${RATES:-"1000 5000"}
DURATION=${DURATION:-10}
CONCURRENCY=${CONCURRENCY:-1000}
CLOSED_LOOP=${CLOSED_LOOP:-1}
CLOSED_CONCURRENCY=${CLOSED_CONCURRENCY:-64}
USERS=${USERS:-1000}
SOURCE_ADDRESSES=${SOURCE_ADDRESSES:-8}
CLOSE=${CLOSE:-fin}
CLIENT_THREADS=${CLIENT_THREADS:-1}
NODE_PORT=${NODE_PORT:-18483}
STEP_TIMEOUT=${STEP_TIMEOUT:-120}
AUTH=${AUTH:-none}
ROUNDS=${ROUNDS:-1}
RUN_DIR=${RUN_DIR:-$REPO/.run/bench/$(date +%Y%m%d-%H%M%S)-churn}
SERVER_NAME=churn
FAILURES=0
source "$REPO/scripts/bench/nodes.sh"
source "$REPO/scripts/bench/auth.sh"
# What an AUTH=none node runs with: nodes.sh's NODE_AUTH, if given, else --no-auth.
NONE_NODE_AUTH=${NODE_AUTH:---no-auth}
read -r -a AUTH_MODES <<<"$AUTH"
for mode in "${AUTH_MODES[@]}"; do
    [[ $mode != users ]] || { echo "AUTH=users is for idle streams; churn streams always have users" >&2; exit 1; }
done

mkdir -p "$RUN_DIR"
auth_prepare "${AUTH_MODES[@]}"
prepare_run
: >"$RUN_DIR/registrations.txt"
common=(--url "http://127.0.0.1:$NODE_PORT/events" --duration "$DURATION" --users "$USERS"
    --source-addresses "$SOURCE_ADDRESSES" --close "$CLOSE" --client-threads "$CLIENT_THREADS")

# After a run every stream is closed, so the node must have removed its registrations (it writes them in
# order, one queue per node, so this may trail the last close a little). Waits at most 10 s.
check_registrations() {
    local tag=$1 left
    for _ in $(seq 100); do
        left=$(redis-cli -p "$BENCH_REDIS_PORT" SCARD "sse:node:$NODE_PORT:connections")
        ((left == 0)) && break
        sleep 0.1
    done
    echo "$tag: $left registrations left in Redis after the run; $(ss -tan state time-wait | tail -n +2 | wc -l) sockets in TIME_WAIT" |
        tee -a "$RUN_DIR/registrations.txt" >&2
    ((left == 0)) || FAILURES=$((FAILURES + 1))
}

# measure_auth MODE: a fresh node checking tokens as MODE says, and each measurement against it.
measure_auth() {
    local mode=$1 suffix=""
    ((${#AUTH_MODES[@]} == 1)) && [[ $mode == none ]] || suffix=-$mode
    auth_node_args "$mode"
    auth_bench_args "$mode"
    # nodes.sh passes NODE_AUTH to the node in place of --no-auth (split on spaces).
    local NODE_AUTH="${AUTH_NODE_ARGS[*]}"
    [[ -n $NODE_AUTH ]] || NODE_AUTH=$NONE_NODE_AUTH
    log "starting node :$NODE_PORT, auth $mode (run directory: $RUN_DIR)"
    start_node "$NODE_PORT"
    local pids=(--pid "${NODE_PIDS[0]}" --service-pid "$(redis_pid)" --service-pid "$(rabbit_pid)")
    for rate in $RATES; do
        bench "churn-${rate}ps$suffix" churn "${common[@]}" "${AUTH_BENCH_ARGS[@]}" --rate "$rate" --concurrency "$CONCURRENCY" "${pids[@]}"
        check_registrations "churn-${rate}ps$suffix"
    done
    if [[ $CLOSED_LOOP == 1 ]]; then
        bench "churn-closed-${CLOSED_CONCURRENCY}$suffix" churn "${common[@]}" "${AUTH_BENCH_ARGS[@]}" --concurrency "$CLOSED_CONCURRENCY" "${pids[@]}"
        check_registrations "churn-closed-${CLOSED_CONCURRENCY}$suffix"
    fi
    stop_nodes
}

# The modes take turns, in a different order each round, so machine noise hits all of them.
for round in $(seq "$ROUNDS"); do
    for ((i = 0; i < ${#AUTH_MODES[@]}; i++)); do
        RUN=$round measure_auth "${AUTH_MODES[$(((i + round - 1) % ${#AUTH_MODES[@]}))]}"
    done
done

{
    echo "# churn $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "machine: $(nproc) cores, $(uname -sr); one node (--threads $NODE_THREADS) with Redis and RabbitMQ; $USERS users, $SOURCE_ADDRESSES source addresses, close: $CLOSE; auth: $AUTH (tokens in the $TOKEN_IN); rounds: $ROUNDS"
    echo
    python3 "$REPO/scripts/bench/summarize.py" "$RUN_DIR/results.jsonl"
    sed 's/^/- /' "$RUN_DIR/registrations.txt"
} | tee "$RUN_DIR/summary.md"
draw_chart "S4 churn: new streams on one sse-fanout node (Redis registration, then connected)" \
    "$USERS users; each stream closed at its connected event; $(nproc) cores, one machine"
exit $((FAILURES > 0))
