#!/usr/bin/env bash
# Runs the whole test suite: unit tests, and integration tests against a real redis-server and
# rabbitmq-server that this script installs (when missing) and starts on private ports.
#
#   scripts/test.sh [--repeat N] [--load] [extra `swift test` arguments, e.g. --filter ClusterDeliveryTests]
#
# --repeat N runs the demo check, the load tool's smoke run and `swift test` N times on one set of servers,
# logging each run to .run/test-repeat/, and fails if any run failed; --load holds one core busy meanwhile
# (scripts/under-load.sh; LOAD_CPUS sets how many). Together they hunt tests that depend on timing.
#
# DEMO_SMOKE=0 skips the check of the README's three-node demo (scripts/demo-smoke.sh); BENCH_SMOKE=0
# skips the load tool's smoke run (scripts/bench/smoke.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

repeat=1
load=0
while (($# > 0)); do
  case $1 in
    --repeat) repeat=$2; shift 2 ;;
    --load) load=1; shift ;;
    *) break ;;
  esac
done
if ((load)) && [[ -z ${UNDER_LOAD:-} ]]; then
  UNDER_LOAD=1 exec scripts/under-load.sh scripts/test.sh --repeat "$repeat" "$@"
fi

WITH_COMPOSE=1 WITH_NGINX=1 scripts/install-deps.sh

# Private ports and data, apart from the demo's (6390/5682) and any system servers.
export SERVICES_DIR=${TEST_SERVICES_DIR:-/tmp/sse-fanout-test-services}
export REDIS_PORT=${TEST_REDIS_PORT:-6391}
export AMQP_PORT=${TEST_AMQP_PORT:-5683}
export RABBIT_NAME=ssefanout-test
export SERVICES_FRESH=1
scripts/services.sh start
# The unit tests' key and config files (TestTokens.testFiles).
trap 'scripts/services.sh stop; rm -rf "${TMPDIR:-/tmp}/sse-fanout-test-files"' EXIT

export REDIS_URL="redis://127.0.0.1:${REDIS_PORT}/0"
export AMQP_URL="amqp://guest:guest@127.0.0.1:${AMQP_PORT}/%2f"

swift build --build-tests

# Each step's failure is returned explicitly: `set -e` does not hold inside an `if` condition.
run_once() {
  # The README's three-node demo, on the same servers (DEMO_SMOKE=0 skips it).
  if [[ ${DEMO_SMOKE:-1} != 0 ]]; then scripts/demo-smoke.sh || return 1; fi
  # The load tool end to end against a standalone node, with tiny numbers (BENCH_SMOKE=0 skips it).
  if [[ ${BENCH_SMOKE:-1} != 0 ]]; then scripts/bench/smoke.sh || return 1; fi
  swift test --skip-build "$@"
}

if ((repeat == 1)); then
  run_once "$@"
  exit
fi

logs=.run/test-repeat/$(date +%Y%m%d-%H%M%S)
mkdir -p "$logs"
failed=0
for ((run = 1; run <= repeat; run++)); do
  started=$SECONDS
  if (run_once "$@") >"$logs/run-$run.log" 2>&1; then
    verdict=passed
  else
    verdict=FAILED
    failed=$((failed + 1))
    # Which tests failed, and where: the lines a newcomer would look for first.
    grep -E '✘|error:|FAIL' "$logs/run-$run.log" | head -20 || true
  fi
  echo "test run $run of $repeat: $verdict in $((SECONDS - started)) s ($(grep -Eo 'Test run with [0-9]+ tests.*' "$logs/run-$run.log" | tail -1))"
done
echo "$((repeat - failed)) passed, $failed failed (runs of the whole suite; logs in $logs)"
((failed == 0))
