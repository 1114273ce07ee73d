#!/usr/bin/env bash
# A quick end-to-end check of the load tool (under a minute after the build): runs every sse-bench
# scenario with tiny numbers against a standalone sse-fanout node (no Redis, no RabbitMQ), draws the
# chart, and fails unless every stream opened, every publish was accepted and every delivery arrived.
# Then the same for streams with tokens: a second standalone node checking HS256 tokens (and, with openssl
# installed, a third checking ES256 ones), `churn` and `idle` sending one minted token per connection,
# and a stream without a token refused.
#
#   swift build && scripts/bench/smoke.sh
#
# Settings (environment):
#   BIN=DIR            where sse-fanout and sse-bench are (default: `swift build --show-bin-path`, debug)
#   SMOKE_PORT=18390   the node's port on 127.0.0.1 (the token-checking nodes: the two ports after it)
#   RUN_DIR=.run/bench/smoke   results, the chart and the node's log
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
BIN=${BIN:-$(swift build --show-bin-path)}
PORT=${SMOKE_PORT:-18390}
RUN_DIR=${RUN_DIR:-$REPO/.run/bench/smoke}
STEP_TIMEOUT=30

for binary in sse-fanout sse-bench; do
    [[ -x $BIN/$binary ]] || { echo "smoke: no $BIN/$binary; build first (swift build)" >&2; exit 1; }
done
command -v python3 >/dev/null || { echo "smoke: python3 is needed to check the results" >&2; exit 1; }
rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR"

NODES=()
trap 'for pid in "${NODES[@]}"; do kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null || true; done' EXIT
# start_node PORT NAME [serve flags]: a standalone node, logging to NAME.log; sets NODE to its pid.
start_node() {
    local port=$1 name=$2
    shift 2
    "$BIN/sse-fanout" serve --standalone --host 127.0.0.1 --port "$port" --threads 1 --log-level warning "$@" >"$RUN_DIR/$name.log" 2>&1 &
    NODE=$!
    NODES+=("$NODE")
    for _ in $(seq 100); do
        curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/healthz" && return 0
        kill -0 "$NODE" 2>/dev/null || { echo "smoke: the node exited; see $RUN_DIR/$name.log" >&2; exit 1; }
        sleep 0.1
    done
}
start_node "$PORT" node

EVENTS=http://127.0.0.1:$PORT/events
PUBLISH=http://127.0.0.1:$PORT/publish
# step NAME sse-bench-arguments...: runs one scenario (bounded), keeps its JSON as NAME.json.
step() {
    local name=$1
    shift
    echo "smoke: $name" >&2
    timeout "$STEP_TIMEOUT" "$BIN/sse-bench" "$@" --pid "$NODE" --no-progress --label "$name" --json "$RUN_DIR/$name.json" \
        >"$RUN_DIR/$name.out" 2>&1 || { cat "$RUN_DIR/$name.out" >&2; echo "smoke: $name failed" >&2; exit 1; }
}

step idle idle --url "$EVENTS" --connections 50 --settle 0.2
step broadcast broadcast --url "$EVENTS" --publish-url "$PUBLISH" --connections 50 --rate 20 --duration 1 --settle 0.2 --drain 2
step broadcast-nio broadcast --url "$EVENTS" --publish-url "$PUBLISH" --connections 50 --rate 20 --duration 1 --settle 0.2 --drain 2 \
    --reader nio
step unicast-user unicast --url "$EVENTS" --publish-url "$PUBLISH" --connections 20 --rate 200 --duration 1 --settle 0 --drain 2
step unicast-connection unicast --url "$EVENTS" --publish-url "$PUBLISH" --publish-connections 0 --target connection \
    --connections 10 --rate 50 --duration 1 --settle 0 --drain 2
step churn churn --url "$EVENTS" --rate 200 --duration 1 --concurrency 100
step churn-closed churn --url "$EVENTS" --concurrency 8 --duration 1 --close reset --source-addresses 0

# Calibration against the floor server (scripts/bench/floor-server.c), built with the system's C compiler or
# the Swift toolchain's clang.
CC=${CC:-$(command -v cc || command -v clang || true)}
if [[ -n $CC ]]; then
    "$CC" -O2 -o "$RUN_DIR/floor-server" "$REPO/scripts/bench/floor-server.c"
    "$RUN_DIR/floor-server" "$((PORT + 3))" >"$RUN_DIR/floor.log" 2>&1 &
    FLOOR=$!
    NODES+=("$FLOOR")
    for _ in $(seq 50); do curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$((PORT + 3))/" && break; sleep 0.1; done
    echo "smoke: calibrate" >&2
    timeout 60 "$BIN/sse-bench" calibrate --nchan --url "http://127.0.0.1:$((PORT + 3))/sub/bench" \
        --publish-url "http://127.0.0.1:$((PORT + 3))/pub/bench" --connections 50 --rates 10 40 --duration 1 --settle 0.2 \
        --drain 2 --pid "$FLOOR" --no-progress >"$RUN_DIR/calibrate.out" 2>&1 \
        || { cat "$RUN_DIR/calibrate.out" >&2; echo "smoke: calibrate failed" >&2; exit 1; }
    # Whether a rate had headroom depends on how busy the machine is, which a smoke check cannot know: it
    # checks that each rate was measured and a verdict given, not what the verdict was.
    for rate in 10 40; do
        grep -Eq "^ *$rate/s +[0-9]+ deliveries/s" "$RUN_DIR/calibrate.out" \
            || { cat "$RUN_DIR/calibrate.out" >&2; echo "smoke: calibration did not measure $rate/s" >&2; exit 1; }
    done
    grep -Eq "with headroom +(reads|no rate was within its limits)" "$RUN_DIR/calibrate.out" \
        || { cat "$RUN_DIR/calibrate.out" >&2; echo "smoke: calibration gave no verdict" >&2; exit 1; }
else
    echo "smoke: no C compiler; calibration against the floor server left out" >&2
fi

# With tokens: HS256 over the header and the query, and ES256 when openssl can make a key.
SECRET=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
start_node "$((PORT + 1))" node-hs256 --jwt-secret "$SECRET"
EVENTS=http://127.0.0.1:$((PORT + 1))/events
step churn-hs256 churn --url "$EVENTS" --rate 200 --duration 1 --concurrency 100 --jwt-secret "$SECRET"
step churn-hs256-query churn --url "$EVENTS?channel=news" --concurrency 8 --duration 1 --close reset --source-addresses 0 \
    --jwt-secret "$SECRET" --token-in query --tokens 50
step idle-hs256 idle --url "$EVENTS" --connections 20 --settle 0.2 --jwt-secret "$SECRET"
TOKEN_CHECKS=(churn-hs256 churn-hs256-query idle-hs256)
if command -v openssl >/dev/null; then
    (umask 077 && openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt >"$RUN_DIR/es256.pem")
    start_node "$((PORT + 2))" node-es256 --jwt-key-file "$RUN_DIR/es256.pem"
    step churn-es256 churn --url "http://127.0.0.1:$((PORT + 2))/events" --rate 200 --duration 1 --concurrency 100 \
        --jwt-key-file "$RUN_DIR/es256.pem"
    TOKEN_CHECKS+=(churn-es256)
else
    echo "smoke: no openssl; ES256 left out" >&2
fi
# A stream without a token is refused (401).
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$EVENTS")
[[ $code == 401 ]] || { echo "smoke: a stream without a token got $code, not 401" >&2; exit 1; }

python3 - "$RUN_DIR" "${TOKEN_CHECKS[@]}" <<'PY'
import json, sys
run_dir = sys.argv[1]
token_checks = sys.argv[2:]
problems = []
def load(name):
    with open(f"{run_dir}/{name}.json") as f:
        return json.load(f)
idle = load("idle")
if idle["opened"] != idle["connections"]:
    problems.append(f"idle: {idle['opened']} of {idle['connections']} streams opened")
for name in ("broadcast", "broadcast-nio"):
    r = load(name)
    if "valid" not in r or r["client"]["microsecondsPerDelivery"] <= 0:
        problems.append(f"{name}: no figures of the load tool's own CPU per delivery")
for name in ("broadcast", "broadcast-nio", "unicast-user", "unicast-connection"):
    r = load(name)
    if r["opened"] != r["connections"]:
        problems.append(f"{name}: {r['opened']} of {r['connections']} streams opened")
    if r["published"] != r["publishAttempted"] or r["publishFailed"] or r["publishSkipped"]:
        problems.append(f"{name}: {r['published']} of {r['publishAttempted']} publishes accepted ({r['publishFirstError']})")
    if r["deliveries"] == 0 or r["lost"] != 0:
        problems.append(f"{name}: {r['deliveries']} of {r['expected']} deliveries (lost {r['lost']})")
    if r["latencyMilliseconds"]["count"] != r["deliveries"]:
        problems.append(f"{name}: {r['latencyMilliseconds']['count']} latencies for {r['deliveries']} deliveries")
for name in ["churn", "churn-closed"] + [n for n in token_checks if n.startswith("churn")]:
    r = load(name)
    if r["connected"] == 0 or r["connected"] != r["attempted"] or r["failed"]:
        problems.append(f"{name}: {r['connected']} of {r['attempted']} connected ({r['failed']} failed: {r.get('firstError')})")
for name in token_checks:
    r = load(name)
    if not r.get("tokens"):
        problems.append(f"{name}: sent no tokens")
    if name.startswith("idle") and r["opened"] != r["connections"]:
        problems.append(f"{name}: {r['opened']} of {r['connections']} streams opened ({r.get('firstError')})")
for problem in problems:
    print(f"smoke: {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY

echo "smoke: chart" >&2
"$BIN/sse-bench" chart --input "$RUN_DIR/broadcast.json" --input "$RUN_DIR/unicast-user.json" \
    --input "$RUN_DIR/unicast-connection.json" --input "$RUN_DIR/churn.json" --input "$RUN_DIR/idle.json" \
    --output "$RUN_DIR/chart.svg" --title "sse-bench smoke" >/dev/null
grep -q '<svg' "$RUN_DIR/chart.svg" || { echo "smoke: no chart" >&2; exit 1; }

# A bad option is refused with a usage error (exit code 64), before anything connects.
set +e
"$BIN/sse-bench" unicast --url "$EVENTS" --connections 1 --pid "$NODE" >"$RUN_DIR/bad-option.out" 2>&1
code=$?
set -e
if [[ $code != 64 ]] || ! grep -q -- "--publish-url" "$RUN_DIR/bad-option.out"; then
    echo "smoke: a missing --publish-url gave exit code $code:" >&2
    cat "$RUN_DIR/bad-option.out" >&2
    exit 1
fi
echo "smoke: ok ($RUN_DIR)" >&2
