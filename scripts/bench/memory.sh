#!/usr/bin/env bash
# Memory a node gives back after load (BENCHMARKS.md, "Memory after load"): one standalone node per
# variant, the phases of scripts/bench/memory.py (19,000 idle streams; 1,000 clients that never read,
# cut off as slow; 1,000 publishes of 50 events), RSS before, at the peak and SETTLE s after each.
#
#   swift build -c release && BIN=$(swift build -c release --show-bin-path) scripts/bench/memory.sh
#
# Variants: glibc with the node's heap trimming (the default), glibc without it
# (--memory-trim-threshold 0), and jemalloc preloaded with its background purging (when
# libjemalloc2 is installed). Settings: BIN, MEMORY_PORT=18700, STREAMS=19000, SLOW=1000, SETTLE=10,
# VARIANTS="trim notrim jemalloc".
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-$(swift build -c release --show-bin-path)}
PORT=${MEMORY_PORT:-18700}
STREAMS=${STREAMS:-19000}
SLOW=${SLOW:-1000}
SETTLE=${SETTLE:-10}
VARIANTS=${VARIANTS:-"trim notrim jemalloc"}
JEMALLOC=$(ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -1 || true)
RUN_DIR=${RUN_DIR:-.run/bench/$(date +%Y%m%d-%H%M%S)-memory}
mkdir -p "$RUN_DIR"
# Idle streams need a file each, on both sides.
ulimit -n 20000

for variant in $VARIANTS; do
    env_args=() flags=()
    case $variant in
        trim) ;;
        notrim) flags=(--memory-trim-threshold 0) ;;
        jemalloc)
            [[ -n $JEMALLOC ]] || { echo "jemalloc: libjemalloc2 not installed, skipped" >&2; continue; }
            env_args=(LD_PRELOAD="$JEMALLOC" MALLOC_CONF=background_thread:true) flags=(--memory-trim-threshold 0) ;;
        *) echo "unknown variant $variant" >&2; exit 1 ;;
    esac
    env "${env_args[@]}" "$BIN/sse-fanout" serve --standalone --host 127.0.0.1 --port "$PORT" --threads 2 \
        --log-level warning "${flags[@]}" >"$RUN_DIR/node-$variant.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" && break; sleep 0.1; done
    echo "== $variant"
    timeout 600 python3 scripts/bench/memory.py --url "http://127.0.0.1:$PORT" --pid "$pid" --streams "$STREAMS" \
        --slow "$SLOW" --settle "$SETTLE" --json | tee "$RUN_DIR/$variant.txt" | grep -v '^RESULT'
    kill "$pid"
    wait "$pid" 2>/dev/null || true
done
echo "results: $RUN_DIR"
