#!/usr/bin/env bash
# sse-fanout side by side with nginx+nchan, on this machine, in one run (BENCHMARKS.md has the figures).
#
#   scripts/bench/fanout-compare.sh
#
# Builds sse-fanout and sse-bench in release, then for each run and scenario starts each server fresh
# (sse-fanout standalone with one event loop, sse-fanout with one loop per core, nginx+nchan with one
# worker), runs the same sse-bench scenario against it, and stops it. The servers take turns in a
# rotating order, so machine noise hits all of them. Prints the medians and ratios at the end and draws
# them (sse-bench chart).
# Everything listens on 127.0.0.1; each step is bounded in time.
#
# Settings (environment):
#   RUNS=3                      repetitions of every measurement (medians are quoted)
#   IDLE_CONNECTIONS="1000 10000 19000"
#   BROADCAST_CONNECTIONS=10000 RATES="10 5" DURATION=20 SIZES="64 1024"   (each rate with each size)
#   SERVERS="fanout-1 fanout-n nchan"   fanout-1: --threads 1; fanout-n: --threads 0 (one loop per core);
#                               fanout-1-nometrics: fanout-1 with --no-metrics (what the metrics cost);
#                               fanout-1-nopacing: fanout-1 with --no-pacing;
#                               floor: scripts/bench/floor-server.c, one write(2) per delivery and nothing else;
#                               fanout-1-baseline: fanout-1 from BASELINE_BIN (another build, for before and after);
#                               fanout-1-budgetN: fanout-1 with --pacing-budget N (milliseconds)
#   SCENARIOS="idle broadcast"
#   FANOUT_PORT=18080 NCHAN_PORT=18091 FLOOR_PORT=18095 CLIENT_THREADS=1
#   READER=epoll                how sse-bench reads broadcast streams: epoll (one thread, plain read(2)) or nio
#   MAX_CLIENT_SHARE=0.6        a broadcast during which sse-bench used more of a core is invalid (left out)
#   PIN=1                       one-loop servers run on core 0 and sse-bench on core 1 (taskset), so neither takes
#                               the other's CPU; fanout-n, with a loop per core, is not pinned
#   QUIET=0.15 QUIET_WAIT=300   before each measurement, wait (at most QUIET_WAIT s) until the machine's other
#                               processes use less than QUIET cores
#   OTHER_MAX=2 RETRIES=2       a broadcast during which other processes used more than OTHER_MAX CPU-seconds
#                               is repeated (at most RETRIES times); the summary leaves such runs out
#   AUTH=none                   for idle streams (S1), sse-fanout servers run once per mode in the list (the modes of
#                               scripts/bench/auth.sh: none, users, hs256, es256), each named e.g. fanout-1+hs256:
#                               a standalone node given the secret or key checks a token on every stream, and
#                               sse-bench mints one per stream before it opens them. Broadcasts run only with none.
#   TOKEN_IN=header             where each stream sends its token: header (Authorization: Bearer) or query
#   RUN_DIR=.run/bench/<time>   logs, raw results (results.jsonl), the summary (summary.md) and chart.svg
#   BIN=DIR                     take sse-fanout and sse-bench from DIR instead of building them
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD

RUNS=${RUNS:-3}
IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-"1000 10000 19000"}
BROADCAST_CONNECTIONS=${BROADCAST_CONNECTIONS:-10000}
RATES=${RATES:-"10 5"}
DURATION=${DURATION:-20}
SIZES=${SIZES:-"64 1024"}
SERVERS=${SERVERS:-"fanout-1 fanout-n nchan"}
SCENARIOS=${SCENARIOS:-"idle broadcast"}
FANOUT_PORT=${FANOUT_PORT:-18080}
NCHAN_PORT=${NCHAN_PORT:-18091}
FLOOR_PORT=${FLOOR_PORT:-18095}
CLIENT_THREADS=${CLIENT_THREADS:-1}
READER=${READER:-epoll}
MAX_CLIENT_SHARE=${MAX_CLIENT_SHARE:-0.6}
PIN=${PIN:-1}
RUN_DIR=${RUN_DIR:-$REPO/.run/bench/$(date +%Y%m%d-%H%M%S)}
FILES=20000
# One measurement never takes longer than this (ramp-up, publishing, drain).
STEP_TIMEOUT=${STEP_TIMEOUT:-240}
QUIET=${QUIET:-0.15}
QUIET_WAIT=${QUIET_WAIT:-300}
OTHER_MAX=${OTHER_MAX:-2}
RETRIES=${RETRIES:-2}
AUTH=${AUTH:-none}

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# --- prerequisites ----------------------------------------------------------------------------------
if [[ " $SERVERS " == *" nchan "* && ! -e /usr/lib/nginx/modules/ngx_nchan_module.so ]]; then
    log "installing nginx and libnginx-mod-nchan"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx libnginx-mod-nchan >/dev/null
fi
command -v python3 >/dev/null || { echo "python3 is needed for the summary" >&2; exit 1; }
ulimit -n "$FILES"  # inherited by both servers and the load tool

# Release build in the normal .build; wait (at most 10 minutes) while someone else builds in this checkout.
building_here() {
    local pid
    for pid in $(pgrep -x swift-build); do
        [[ $(readlink "/proc/$pid/cwd") == "$REPO" ]] && return 0
    done
    return 1
}
if [[ -z ${BIN:-} ]]; then
    for _ in $(seq 120); do
        building_here || break
        log "another swift build is running in $REPO; waiting"
        sleep 5
    done
    log "building sse-fanout and sse-bench (release)"
    swift build -c release --product sse-fanout >&2
    swift build -c release --product sse-bench >&2
    BIN=$(swift build -c release --show-bin-path)
fi

mkdir -p "$RUN_DIR"
# The reference floor server: plain C, built here for this machine.
FLOOR_BIN=$RUN_DIR/floor-server
if [[ " $SERVERS " == *" floor "* ]]; then
    # The system's C compiler, or the Swift toolchain's clang.
    "${CC:-$(command -v cc || command -v clang)}" -O2 -Wall -o "$FLOOR_BIN" "$REPO/scripts/bench/floor-server.c"
fi
source "$REPO/scripts/bench/auth.sh"
read -r -a AUTH_MODES <<<"$AUTH"
auth_prepare "${AUTH_MODES[@]}"
RESULTS=$RUN_DIR/results.jsonl
: >"$RESULTS"
log "run directory: $RUN_DIR"

# --- servers ----------------------------------------------------------------------------------------
SERVER_PID=""      # the process started (sse-fanout, or nginx's master)
MEASURED_PID=""    # the process measured (sse-fanout, or nginx's worker)

stop_server() {
    [[ -n $SERVER_PID ]] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    MEASURED_PID=""
}
trap stop_server EXIT

wait_for_port() {
    for _ in $(seq 100); do
        curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/" && return 0
        sleep 0.1
    done
    echo "nothing answers on port $1" >&2
    return 1
}

# endpoints NAME: sets SUB_URL, PUB_URL and NCHAN_FLAG for that server.
endpoints() {
    case $1 in
        fanout-*)
            SUB_URL=http://127.0.0.1:$FANOUT_PORT/events
            PUB_URL=http://127.0.0.1:$FANOUT_PORT/publish
            NCHAN_FLAG=""
            ;;
        nchan)
            SUB_URL=http://127.0.0.1:$NCHAN_PORT/sub/bench
            PUB_URL=http://127.0.0.1:$NCHAN_PORT/pub/bench
            NCHAN_FLAG=--nchan
            ;;
        floor)  # takes the raw payload, as nchan does
            SUB_URL=http://127.0.0.1:$FLOOR_PORT/sub/bench
            PUB_URL=http://127.0.0.1:$FLOOR_PORT/pub/bench
            NCHAN_FLAG=--nchan
            ;;
    esac
}

# auth_mode NAME: the AUTH mode of a server name (fanout-1+hs256: hs256; fanout-1: none).
auth_mode() {
    [[ $1 == *+* ]] && echo "${1#*+}" || echo none
}

# pin_server NAME / pin_client: the taskset prefix that keeps a one-loop server on core 0 and sse-bench on core 1.
pin_server() {
    [[ $PIN == 1 && $(nproc) -ge 2 && $1 != fanout-n* ]] && echo "taskset -c 0"
    return 0
}
pin_client() {
    [[ $PIN == 1 && $(nproc) -ge 2 ]] && echo "taskset -c 1"
    return 0
}

# start_server NAME TAG: starts a fresh server, logging to $RUN_DIR/TAG.NAME.log; sets SERVER_PID and MEASURED_PID.
start_server() {
    local name=$1 tag=$2 port=$FANOUT_PORT
    [[ $name == nchan ]] && port=$NCHAN_PORT
    [[ $name == floor ]] && port=$FLOOR_PORT
    # Something else on the port would answer in place of the server (and the server would exit).
    if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then
        echo "port $port is already in use; choose another (FANOUT_PORT, NCHAN_PORT)" >&2
        return 1
    fi
    case ${name%%+*} in
        fanout-1 | fanout-n | fanout-1-nometrics | fanout-1-nopacing | fanout-1-baseline | fanout-1-budget*)
            local threads=1 extra=() bin=$BIN
            [[ $name == *-baseline* ]] && bin=${BASELINE_BIN:?fanout-1-baseline needs BASELINE_BIN}
            [[ $name == fanout-n* ]] && threads=0
            [[ $name == *-nometrics* ]] && extra=(--no-metrics)
            [[ $name == *-nopacing* ]] && extra=(--no-pacing)
            [[ $name == *-budget* ]] && extra=(--pacing-budget "${name##*-budget}")
            auth_node_args "$(auth_mode "$name")"
            $(pin_server "$name") "$bin/sse-fanout" serve --standalone --host 127.0.0.1 --port "$FANOUT_PORT" --threads "$threads" \
                --log-level warning "${AUTH_NODE_ARGS[@]}" "${extra[@]}" >"$RUN_DIR/$tag.$name.log" 2>&1 &
            SERVER_PID=$!
            wait_for_port "$FANOUT_PORT"
            MEASURED_PID=$SERVER_PID
            ;;
        nchan)
            local prefix=$RUN_DIR/$tag.nginx  # its error.log stays there
            mkdir -p "$prefix/tmp"
            sed "s/listen 127.0.0.1:18091/listen 127.0.0.1:$NCHAN_PORT/" "$REPO/scripts/bench/nchan.conf" >"$prefix/nchan.conf"
            $(pin_server "$name") nginx -p "$prefix" -c "$prefix/nchan.conf" >"$RUN_DIR/$tag.nchan.log" 2>&1 &
            SERVER_PID=$!
            wait_for_port "$NCHAN_PORT"
            MEASURED_PID=$(pgrep -P "$SERVER_PID" | head -1)
            [[ -n $MEASURED_PID ]] || { echo "no nginx worker" >&2; return 1; }
            ;;
        floor)
            $(pin_server "$name") "$FLOOR_BIN" "$FLOOR_PORT" >"$RUN_DIR/$tag.floor.log" 2>&1 &
            SERVER_PID=$!
            wait_for_port "$FLOOR_PORT"
            MEASURED_PID=$SERVER_PID
            ;;
        *) echo "unknown server $name" >&2; return 1 ;;
    esac
}

# Busy CPU-seconds of the whole machine so far (/proc/stat: user nice system steal; as sse-bench counts it).
machine_busy() {
    awk -v hz="$(getconf CLK_TCK)" '/^cpu / {print ($2 + $3 + $4 + $9) / hz; exit}' /proc/stat
}

# Waits until the rest of the machine is quiet (under QUIET cores busy over 2 s), at most QUIET_WAIT seconds.
wait_quiet() {
    local waited=0 before after
    while ((waited < QUIET_WAIT)); do
        before=$(machine_busy)
        sleep 2
        after=$(machine_busy)
        if awk -v a="$after" -v b="$before" -v q="$QUIET" 'BEGIN {exit !((a - b) / 2 < q)}'; then
            return 0
        fi
        ((waited == 0)) && log "machine busy ($(awk -v a="$after" -v b="$before" 'BEGIN {printf "%.2f", (a - b) / 2}') cores); waiting"
        waited=$((waited + 2))
    done
    log "machine still busy after ${QUIET_WAIT}s; measuring anyway"
}

# measure RUN NAME TAG sse-bench-arguments...: one measurement on a fresh server; appends its result
# (tagged with the server, run and tag) to results.jsonl.
measure() {
    local run=$1 name=$2 tag=$3 attempt other
    shift 3
    for attempt in $(seq 0 "$RETRIES"); do
        wait_quiet
        start_server "$name" "$tag.run$run.$attempt"
        local out=$RUN_DIR/$tag.run$run.$attempt.$name.out
        log "run $run $tag $name$( ((attempt > 0)) && echo " (repeat $attempt)")"
        if timeout "$STEP_TIMEOUT" $(pin_client) "$BIN/sse-bench" "$@" --pid "$MEASURED_PID" --client-threads "$CLIENT_THREADS" >"$out" 2>&1; then
            grep -v '^RESULT ' "$out" >&2 || true
            sed -n 's/^RESULT //p' "$out" | python3 -c '
import json, sys
for line in sys.stdin:
    result = json.loads(line)
    result.update(server=sys.argv[1], run=int(sys.argv[2]), tag=sys.argv[3], attempt=int(sys.argv[4]))
    print(json.dumps(result, sort_keys=True))' "$name" "$run" "$tag" "$attempt" >>"$RESULTS"
        else
            log "FAILED: run $run $tag $name (see $out)"
            tail -5 "$out" >&2 || true
        fi
        stop_server
        sleep 1
        other=$(sed -n 's/^RESULT //p' "$out" | python3 -c 'import json, sys; print(json.loads(sys.stdin.read() or "{}").get("otherCPUSeconds", 0))')
        if awk -v o="$other" -v m="$OTHER_MAX" 'BEGIN {exit !(o <= m)}'; then
            return 0
        fi
        if ((attempt < RETRIES)); then
            log "other processes used ${other} CPU-s during that measurement; repeating it"
        else
            log "other processes used ${other} CPU-s during that measurement; no repeats left (the summary leaves it out)"
        fi
    done
}

# Every server once per AUTH mode (nchan, which checks no tokens, once).
SERVER_LIST=()
for name in $SERVERS; do
    if [[ $name == nchan || $name == floor ]]; then
        SERVER_LIST+=("$name")
        continue
    fi
    for mode in "${AUTH_MODES[@]}"; do
        [[ $mode == none ]] && SERVER_LIST+=("$name") || SERVER_LIST+=("$name+$mode")
    done
done

# The servers in a different order each run.
rotated() {
    local run=$1
    local -a list=("${SERVER_LIST[@]}")
    local n=${#list[@]} i
    for ((i = 0; i < n; i++)); do
        printf '%s ' "${list[$(((i + run) % n))]}"
    done
}

# --- the runs ---------------------------------------------------------------------------------------
for run in $(seq "$RUNS"); do
    for scenario in $SCENARIOS; do
        case $scenario in
            idle)
                for connections in $IDLE_CONNECTIONS; do
                    for name in $(rotated "$run"); do
                        endpoints "$name"
                        auth_bench_args "$(auth_mode "$name")"
                        [[ $(auth_mode "$name") == users ]] && AUTH_BENCH_ARGS=(--users "$connections")
                        measure "$run" "$name" "idle-$connections" \
                            idle --url "$SUB_URL" --connections "$connections" "${AUTH_BENCH_ARGS[@]}"
                    done
                done
                ;;
            broadcast)
                for rate in $RATES; do
                    for size in $SIZES; do
                        for name in $(rotated "$run"); do
                            [[ $name == *+* ]] && continue  # sse-bench broadcast sends no tokens
                            endpoints "$name"
                            measure "$run" "$name" "broadcast-${size}B-${rate}ps" \
                                broadcast --url "$SUB_URL" --publish-url "$PUB_URL" $NCHAN_FLAG \
                                --connections "$BROADCAST_CONNECTIONS" --rate "$rate" --duration "$DURATION" --size "$size" \
                                --reader "$READER" --max-client-share "$MAX_CLIENT_SHARE"
                        done
                    done
                done
                ;;
            *) echo "unknown scenario $scenario" >&2; exit 1 ;;
        esac
    done
done

# --- summary ----------------------------------------------------------------------------------------
{
    echo "# fanout-compare $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, $(uname -sr); $(swift --version 2>&1 | head -1)"
    echo "nginx: $(nginx -v 2>&1 | sed 's/.*version: //'), nchan $(dpkg-query -W -f='${Version}' libnginx-mod-nchan 2>/dev/null)"
    echo "runs: $RUNS; client threads: $CLIENT_THREADS; broadcast: $BROADCAST_CONNECTIONS streams, $RATES per second, $DURATION s; auth (idle): $AUTH, tokens in the $TOKEN_IN"
    echo
    python3 "$REPO/scripts/bench/summarize.py" --max-other "$OTHER_MAX" "$RESULTS"
} | tee "$RUN_DIR/summary.md"
"$BIN/sse-bench" chart --input "$RESULTS" --output "$RUN_DIR/chart.svg" --max-other "$OTHER_MAX" \
    --title "sse-fanout vs nginx+nchan: idle streams and broadcast (S1, S2)" \
    --subtitle "medians of $RUNS runs; $BROADCAST_CONNECTIONS streams, $RATES broadcasts/s; $(nproc) cores, one machine" >&2
log "chart: $RUN_DIR/chart.svg"
