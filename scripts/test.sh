#!/usr/bin/env bash
# Runs the whole test suite: unit tests, and integration tests against a real redis-server and
# rabbitmq-server that this script installs (when missing) and starts on private ports.
#
#   scripts/test.sh [extra `swift test` arguments, e.g. --filter ClusterDeliveryTests]
#
# DEMO_SMOKE=0 skips the check of the README's three-node demo (scripts/demo-smoke.sh); BENCH_SMOKE=0
# skips the load tool's smoke run (scripts/bench/smoke.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_COMPOSE=1 WITH_NGINX=1 scripts/install-deps.sh

# Private ports and data, apart from the demo's (6390/5682) and any system servers.
export SERVICES_DIR=${TEST_SERVICES_DIR:-/tmp/sse-fanout-test-services}
export REDIS_PORT=${TEST_REDIS_PORT:-6391}
export AMQP_PORT=${TEST_AMQP_PORT:-5683}
export RABBIT_NAME=ssefanout-test
scripts/services.sh start
trap 'scripts/services.sh stop' EXIT

export REDIS_URL="redis://127.0.0.1:${REDIS_PORT}/0"
export AMQP_URL="amqp://guest:guest@127.0.0.1:${AMQP_PORT}/%2f"

swift build --build-tests
# The README's three-node demo, on the same servers (DEMO_SMOKE=0 skips it).
[[ ${DEMO_SMOKE:-1} == 0 ]] || scripts/demo-smoke.sh
# The load tool end to end against a standalone node, with tiny numbers (BENCH_SMOKE=0 skips it).
[[ ${BENCH_SMOKE:-1} == 0 ]] || scripts/bench/smoke.sh
swift test --skip-build "$@"
