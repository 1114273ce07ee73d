#!/usr/bin/env bash
# Runs a command while busy loops hold some of the machine's cores, so that tests which lean on timing
# fail here rather than on a busy CI machine. The loops end with the command.
#
#   scripts/under-load.sh [--cpus N] COMMAND [ARGS...]     # N busy loops (default 1)
#   scripts/under-load.sh env CI=true bash .ci/run
set -euo pipefail

cpus=${LOAD_CPUS:-1}
if [[ ${1:-} == --cpus ]]; then
  cpus=$2
  shift 2
fi
(($# > 0)) || { echo "usage: $0 [--cpus N] COMMAND [ARGS...]" >&2; exit 2; }

loops=()
stop_loops() { ((${#loops[@]} == 0)) || kill "${loops[@]}" 2>/dev/null || true; }
trap stop_loops EXIT
for ((i = 0; i < cpus; i++)); do
  # A shell spinning in user space: a plain competitor for the cores, at normal priority.
  bash -c 'while :; do :; done' &
  loops+=($!)
done
echo "under-load: ${cpus} busy loop(s) running (pids ${loops[*]})" >&2
status=0
"$@" || status=$?
exit "$status"
