#!/usr/bin/env bash
# The chaos suite: real sse-fanout nodes, a real redis-server and rabbitmq-server,
# faults while numbered events flow, and a per-client check that no event is lost, duplicated or
# delivered out of order.
#
#   scripts/chaos.sh                 every scenario, short: 30 s of events each (about 7 minutes in all)
#   scripts/chaos.sh --soak          every scenario, long: 5 minutes of events each (about 40 minutes)
#   scripts/chaos.sh [--soak] [sse-chaos options]    e.g. --report-only, --rate 100, --nodes 4
#
# It installs the Debian packages that are missing (scripts/install-deps.sh), builds sse-fanout and
# sse-chaos, and runs `sse-chaos all`: baseline, kill-node, rabbitmq-restart, redis-restart,
# rolling-restart, stalled-client, offline-user, lifecycle-balance. Each scenario starts its own redis-server (:6392) and
# rabbitmq-server (:5684) with empty data in /tmp/sse-chaos-services, and nodes on 18291-18293, so it
# never collides with scripts/test.sh (6391/5683) or the demo (6390/5682). It prints a table per
# scenario, a summary, and a `SUMMARY {json}` line; node and server logs go to
# .run/chaos/<time>-<scenario>/, the full JSON report (every client) to .run/chaos/last-report.json.
# Exits non-zero unless every scenario passed (with --report-only: 0 whenever the suite ran).
#
# One scenario alone: .build/debug/sse-chaos kill-node [--duration 60] (sse-chaos --help lists all).
#
# Settings (environment):
#   BUILD_CONFIG   debug | release   (default: debug)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build_config=${BUILD_CONFIG:-debug}

duration=30
args=()
for arg in "$@"; do
  if [[ $arg == --soak ]]; then
    duration=300
  else
    args+=("$arg")
  fi
done

"$root/scripts/install-deps.sh"
swift build -c "$build_config" --product sse-fanout
swift build -c "$build_config" --product sse-chaos
bin=$(swift build -c "$build_config" --show-bin-path)

# Options given to this script come last, so they override the durations set here.
exec "$bin/sse-chaos" all --duration "$duration" --binary "$bin/sse-fanout" ${args[@]+"${args[@]}"}
