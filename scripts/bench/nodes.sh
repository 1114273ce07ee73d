# Shared by the benchmark scripts that run real sse-fanout nodes (cross-node.sh, churn.sh); source it.
# Starts a private redis-server and rabbitmq-server through scripts/services.sh on bench ports, starts
# nodes in the background, stops all of it on exit, and builds or finds the binaries.
#
# Settings (environment):
#   BIN=DIR                 take sse-fanout and sse-bench from DIR instead of building them (release)
#   BENCH_REDIS_PORT=6393 BENCH_AMQP_PORT=5685 BENCH_SERVICES_DIR=/tmp/sse-fanout-bench-services
#   BENCH_RABBIT_NAME=ssefanout-bench (the RabbitMQ node name; another name runs a second RabbitMQ beside it)
#   KEEP_SERVICES=1         leave redis-server and rabbitmq-server running at the end (faster reruns)
#   NODE_THREADS=1          event loops per node (--threads; 0 = one per core)
#   NODE_ARGS=              more `sse-fanout serve` flags for every node (e.g. --lifecycle-events user.online)
#   RUN_DIR=.run/bench/<time>-<name>   logs, raw results (results.jsonl), summary and chart
# REPO must be set (the repository root) before sourcing.

BENCH_REDIS_PORT=${BENCH_REDIS_PORT:-6393}
BENCH_AMQP_PORT=${BENCH_AMQP_PORT:-5685}
BENCH_SERVICES_DIR=${BENCH_SERVICES_DIR:-/tmp/sse-fanout-bench-services}
BENCH_RABBIT_NAME=${BENCH_RABBIT_NAME:-ssefanout-bench}
NODE_THREADS=${NODE_THREADS:-1}
REDIS_URL=redis://127.0.0.1:$BENCH_REDIS_PORT/0
AMQP_URL="amqp://guest:guest@127.0.0.1:$BENCH_AMQP_PORT/%2f"
NODE_PIDS=()

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

services() {
    REDIS_PORT=$BENCH_REDIS_PORT AMQP_PORT=$BENCH_AMQP_PORT SERVICES_DIR=$BENCH_SERVICES_DIR RABBIT_NAME=$BENCH_RABBIT_NAME \
        "$REPO/scripts/services.sh" "$@"
}

redis_pid() { cat "$BENCH_SERVICES_DIR/redis/pid"; }
rabbit_pid() { cat "$BENCH_SERVICES_DIR/rabbitmq/pid"; }

# Builds sse-fanout and sse-bench in release (the normal .build), unless BIN names a directory holding them.
find_binaries() {
    if [[ -z ${BIN:-} ]]; then
        log "building sse-fanout and sse-bench (release)"
        (cd "$REPO" && swift build -c release --product sse-fanout >&2 && swift build -c release --product sse-bench >&2)
        BIN=$(cd "$REPO" && swift build -c release --show-bin-path)
    fi
    [[ -x $BIN/sse-fanout && -x $BIN/sse-bench ]] || { echo "no sse-fanout and sse-bench in $BIN" >&2; exit 1; }
}

start_services() {
    log "starting redis-server :$BENCH_REDIS_PORT and rabbitmq-server :$BENCH_AMQP_PORT ($BENCH_SERVICES_DIR)"
    services start >&2
    # History and registrations of earlier runs would only make Redis bigger.
    redis-cli -p "$BENCH_REDIS_PORT" flushall >/dev/null
}

# start_node PORT [more serve arguments]: a cluster node with node id PORT; waits (at most 30 s) until /readyz is 200.
start_node() {
    local port=$1
    shift
    "$BIN/sse-fanout" serve --host 127.0.0.1 --port "$port" --node-id "$port" --threads "$NODE_THREADS" \
        --redis-url "$REDIS_URL" --amqp-url "$AMQP_URL" --drain-window 1 --log-level warning ${NODE_AUTH:---no-auth} ${NODE_ARGS:-} "$@" \
        >"$RUN_DIR/node-$port.log" 2>&1 &
    NODE_PIDS+=($!)
    local pid=$!
    for _ in $(seq 300); do
        [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/readyz") == 200 ]] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "node $port did not get ready; see $RUN_DIR/node-$port.log" >&2
    tail -5 "$RUN_DIR/node-$port.log" >&2 || true
    exit 1
}

stop_nodes() {
    local pid
    for pid in "${NODE_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${NODE_PIDS[@]}"; do
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    NODE_PIDS=()
}

# prepare_run: the run directory, the file limit, the binaries, and the services (stopped again on exit).
prepare_run() {
    command -v python3 >/dev/null || { echo "python3 is needed for the summary" >&2; exit 1; }
    mkdir -p "$RUN_DIR"
    : >"$RUN_DIR/results.jsonl"
    ulimit -n 20000
    find_binaries
    trap stop_all EXIT
    start_services
}

# draw_chart TITLE SUBTITLE: the run's results as $RUN_DIR/chart.svg.
draw_chart() {
    "$BIN/sse-bench" chart --input "$RUN_DIR/results.jsonl" --output "$RUN_DIR/chart.svg" --title "$1" --subtitle "$2" >&2
    log "chart: $RUN_DIR/chart.svg"
}

stop_all() {
    stop_nodes
    if [[ ${KEEP_SERVICES:-0} == 1 ]]; then
        log "leaving redis-server and rabbitmq-server running (KEEP_SERVICES=1)"
    else
        services stop >&2 || true
    fi
}

# record TAG FILE [RUN]: appends the RESULT line of sse-bench output FILE to results.jsonl, tagged with
# TAG and the repetition RUN (default 1).
record() {
    local tag=$1 out=$2 run=${3:-1}
    sed -n 's/^RESULT //p' "$out" | python3 -c '
import json, sys
for line in sys.stdin:
    result = json.loads(line)
    result.update(server=sys.argv[1], tag=sys.argv[2], run=int(sys.argv[3]), attempt=0)
    print(json.dumps(result, sort_keys=True))' "$SERVER_NAME" "$tag" "$run" >>"$RUN_DIR/results.jsonl"
}

# bench TAG sse-bench-arguments...: one measurement, bounded by STEP_TIMEOUT; prints its table, records its result.
# RUN (default 1) numbers repetitions of the same TAG; their files get a .runN suffix after the first.
bench() {
    local tag=$1 run=${RUN:-1}
    local base=$RUN_DIR/$tag$([[ $run == 1 ]] || echo ".run$run")
    shift
    log "$tag${RUN:+ (run $run)}: sse-bench $*"
    if timeout "$STEP_TIMEOUT" "$BIN/sse-bench" "$@" --label "$tag" --json "$base.json" >"$base.out"; then
        grep -v '^RESULT ' "$base.out" >&2 || true
        record "$tag" "$base.out" "$run"
    else
        log "FAILED: $tag (see $base.out)"
        tail -5 "$base.out" >&2 || true
        FAILURES=$((FAILURES + 1))
    fi
}
