#!/usr/bin/env bash
# S3, cross-node unicast (BENCHMARKS.md): subscribers on node B, publisher on node A or RabbitMQ.
#
#   scripts/bench/cross-node.sh
#
# Starts redis-server and rabbitmq-server on bench ports (scripts/services.sh), two sse-fanout nodes A and
# B in release, opens SUBSCRIBERS streams on B (each its own user) and measures, for each publish path,
#   - latency at a fixed LATENCY_RATE (1,000 messages/s) for DURATION s: p50, p99, p99.9, max
#     (target: p99 < 5 ms), LATENCY_RUNS times with the paths taking turns (the summary gives medians), and
#   - the most messages per second B delivers, publishing open loop at each of MAX_RATES for MAX_DURATION s
#     with at most MAX_IN_FLIGHT publishes unanswered (target: >= 20,000 messages/s per node), once for
#     each of BATCHES: events per publish (1: a request or AMQP message per event; 20: JSON arrays of 20).
# Publish paths (PATHS): http (POST to A's /publish, keep-alive connections, addressed to the user),
# amqp (to sse.ingress: whichever node takes it routes it), direct (to sse.direct with B's node id,
# addressed to the connection id: delivered live by B). Stops everything at the end; each step is bounded.
#
# Settings (environment), besides those of scripts/bench/nodes.sh (BIN, ports, KEEP_SERVICES, NODE_THREADS):
#   SUBSCRIBERS=100 LATENCY_RATE=1000 DURATION=10 LATENCY_RUNS=3 MAX_RATES=30000 MAX_DURATION=5 MAX_IN_FLIGHT=5000
#   PATHS="http amqp direct"  MODES="latency max"  BATCHES="1 20"  PUBLISH_CONNECTIONS=8
#   MAX_PUBLISH_CONNECTIONS=64 (HTTP, single events: each connection has one request in progress)
#   NODE_A=18481 NODE_B=18482
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
SUBSCRIBERS=${SUBSCRIBERS:-100}
LATENCY_RATE=${LATENCY_RATE:-1000}
DURATION=${DURATION:-10}
LATENCY_RUNS=${LATENCY_RUNS:-3}
MAX_RATES=${MAX_RATES:-30000}
MAX_DURATION=${MAX_DURATION:-5}
MAX_IN_FLIGHT=${MAX_IN_FLIGHT:-5000}
PATHS=${PATHS:-"http amqp direct"}
MODES=${MODES:-"latency max"}
PUBLISH_CONNECTIONS=${PUBLISH_CONNECTIONS:-8}
MAX_PUBLISH_CONNECTIONS=${MAX_PUBLISH_CONNECTIONS:-64}
BATCHES=${BATCHES:-"1 20"}
NODE_A=${NODE_A:-18481}
NODE_B=${NODE_B:-18482}
STEP_TIMEOUT=${STEP_TIMEOUT:-120}
RUN_DIR=${RUN_DIR:-$REPO/.run/bench/$(date +%Y%m%d-%H%M%S)-cross-node}
SERVER_NAME=cross-node
FAILURES=0
source "$REPO/scripts/bench/nodes.sh"

for path in $PATHS; do
    [[ $path == http || $path == amqp || $path == direct ]] || { echo "unknown path $path (http, amqp, direct)" >&2; exit 2; }
done
prepare_run
log "starting node A :$NODE_A and node B :$NODE_B (run directory: $RUN_DIR)"
start_node "$NODE_A"
start_node "$NODE_B"
pids=(--pid "${NODE_PIDS[0]}" --pid "${NODE_PIDS[1]}" --service-pid "$(redis_pid)" --service-pid "$(rabbit_pid)")

# publish_args PATH [HTTP CONNECTIONS]: how sse-bench publishes on that path.
publish_args() {
    case $1 in
        http) echo "--publish-url http://127.0.0.1:$NODE_A/publish --publish-connections ${2:-$PUBLISH_CONNECTIONS} --target user" ;;
        amqp) echo "--amqp-url $AMQP_URL --target user" ;;
        direct) echo "--amqp-url $AMQP_URL --amqp-node $NODE_B --target connection" ;;
    esac
}

for mode in $MODES; do
    [[ $mode == latency || $mode == max ]] || { echo "unknown mode $mode (latency, max)" >&2; exit 2; }
done

# Latency: LATENCY_RUNS rounds, the paths taking turns, so that machine noise falls on all of them.
if [[ " $MODES " == *" latency "* ]]; then
    for run in $(seq "$LATENCY_RUNS"); do
        for path in $PATHS; do
            RUN=$run bench "unicast-$path-${LATENCY_RATE}ps" unicast --url "http://127.0.0.1:$NODE_B/events" \
                --connections "$SUBSCRIBERS" --settle 0.5 $(publish_args "$path") \
                --rate "$LATENCY_RATE" --duration "$DURATION" "${pids[@]}"
        done
    done
fi

if [[ " $MODES " == *" max "* ]]; then
    for path in $PATHS; do
        for batch in $BATCHES; do
            # Single events over HTTP need many connections: NIO answers a connection's requests one at a time.
            connections=$PUBLISH_CONNECTIONS
            [[ $batch == 1 ]] && connections=$MAX_PUBLISH_CONNECTIONS
            label=$([[ $batch == 1 ]] && echo "" || echo "-x$batch")
            for rate in $MAX_RATES; do
                bench "unicast-$path-max-${rate}ps$label" unicast --url "http://127.0.0.1:$NODE_B/events" \
                    --connections "$SUBSCRIBERS" --settle 0.5 $(publish_args "$path" "$connections") \
                    --events-per-publish "$batch" --rate "$rate" --duration "$MAX_DURATION" \
                    --max-in-flight $((MAX_IN_FLIGHT / batch)) --drain 5 "${pids[@]}"
            done
        done
    done
fi

{
    echo "# cross-node unicast $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "machine: $(nproc) cores, $(uname -sr); nodes: --threads $NODE_THREADS; $SUBSCRIBERS subscribers on node B ($NODE_B), publisher on node A ($NODE_A) or RabbitMQ"
    echo
    python3 "$REPO/scripts/bench/summarize.py" "$RUN_DIR/results.jsonl"
} | tee "$RUN_DIR/summary.md"
draw_chart "S3 cross-node unicast: sse-fanout, 2 nodes, Redis, RabbitMQ" \
    "$SUBSCRIBERS streams on node B; publish to node A over HTTP or to RabbitMQ; $(nproc) cores, one machine"
exit $((FAILURES > 0))
