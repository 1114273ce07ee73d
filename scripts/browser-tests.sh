#!/usr/bin/env bash
# Runs the browser client (Sources/SSEFanout/Browser/sse.js) in a real headless Chromium against real
# nodes, Redis and RabbitMQ, and prints a table of cases.
#
#   scripts/browser-tests.sh [tests, as unittest names them: test_tabs, test_tabs.TabTests.test_...]
#
# It installs what is missing (Debian's chromium and chromium-driver through scripts/install-deps.sh;
# selenium, pinned in Tests/Browser/requirements.txt, into a venv in .run/browser/venv), starts its own
# redis-server and rabbitmq-server (scripts/services.sh), builds sse-fanout, starts two nodes (HS256
# tokens with a secret made for this run, an API key, CORS for the pages' origin) and a static server
# for Tests/Browser/pages on another port, so a page loads the module from another origin than its own;
# then it runs Tests/Browser/run.py and stops everything it started. Screenshots of every page and the
# logs go to .run/browser/.
#
# Settings (environment):
#   BROWSER_REDIS_PORT, BROWSER_AMQP_PORT   the servers' ports          (default: 6395, 5687)
#   BROWSER_SERVICES_DIR                    their data and logs         (default: /tmp/sse-fanout-browser-services)
#   BROWSER_RABBIT_NAME                     RabbitMQ's node name        (default: ssefanout-browser)
#   BROWSER_NODE_PORTS                      the two nodes' ports        (default: "18620 18621")
#   BROWSER_PAGES_PORT                      the static server's port    (default: 18622)
#   BROWSER_SPARE_PORT                      a node a test starts and stops itself (default: 18623)
#   BROWSER_TIMEOUT                         seconds for the test run    (default: 300)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
run_dir=$root/.run/browser
read -r -a node_ports <<<"${BROWSER_NODE_PORTS:-18620 18621}"
pages_port=${BROWSER_PAGES_PORT:-18622}
spare_port=${BROWSER_SPARE_PORT:-18623}
pages=http://127.0.0.1:$pages_port

WITH_BROWSER=1 scripts/install-deps.sh

venv=$run_dir/venv
requirements=Tests/Browser/requirements.txt
if ! cmp -s "$requirements" "$venv/requirements.txt"; then
  echo "installing the browser tests' Python packages into ${venv#"$root/"}"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$venv/requirements.txt"
fi

for port in "${node_ports[@]}" "$pages_port" "$spare_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "browser tests: port $port is in use (BROWSER_NODE_PORTS, BROWSER_PAGES_PORT, BROWSER_SPARE_PORT choose others)" >&2
    exit 1
  fi
done

export SERVICES_DIR=${BROWSER_SERVICES_DIR:-/tmp/sse-fanout-browser-services}
export REDIS_PORT=${BROWSER_REDIS_PORT:-6395}
export AMQP_PORT=${BROWSER_AMQP_PORT:-5687}
export RABBIT_NAME=${BROWSER_RABBIT_NAME:-ssefanout-browser}
export SERVICES_FRESH=1

pids=()
stop_all() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  scripts/services.sh stop
}
trap stop_all EXIT
scripts/services.sh start

swift build --product sse-fanout
bin=$(swift build --show-bin-path)/sse-fanout

# A secret and a key for this run only; the nodes and `sse-fanout token` read them from here.
SSE_FANOUT_AUTH_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
SSE_FANOUT_AUTH_API_KEYS=browser-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
export SSE_FANOUT_AUTH_JWT_SECRET SSE_FANOUT_AUTH_API_KEYS

mkdir -p "$run_dir"
rm -f "$run_dir"/*.png "$run_dir"/*.log
# --retry 1000: clients come back after about a second, so the cases that wait for a reconnect are short.
# --demo: the demo page and its tokens, for test_pages.
node_args=(--cors-origin "$pages" --retry 1000 --drain-window 1 --demo
  --amqp-url "amqp://guest:guest@127.0.0.1:$AMQP_PORT/%2f" --redis-url "redis://127.0.0.1:$REDIS_PORT/0")
nodes=()
for port in "${node_ports[@]}"; do
  "$bin" serve --port "$port" --node-id "browser-$port" "${node_args[@]}" >"$run_dir/node-$port.log" 2>&1 &
  pids+=($!)
  nodes+=("http://127.0.0.1:$port")
done
python3 -m http.server "$pages_port" --bind 127.0.0.1 --directory Tests/Browser/pages >"$run_dir/pages.log" 2>&1 &
pids+=($!)

deadline=$((SECONDS + 60))
for url in "${nodes[@]/%//readyz}" "$pages/client.html"; do
  until [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url") == 200 ]]; do
    if ((SECONDS > deadline)); then
      echo "browser tests: $url did not answer 200 within 60 s; logs in ${run_dir#"$root/"}" >&2
      exit 1
    fi
    sleep 0.2
  done
done

BROWSER_NODES=$(IFS=,; echo "${nodes[*]}") BROWSER_PAGES=$pages BROWSER_SSE_FANOUT=$bin BROWSER_ARTIFACTS=$run_dir \
  BROWSER_SPARE_PORT=$spare_port BROWSER_NODE_ARGS="${node_args[*]}" PYTHONDONTWRITEBYTECODE=1 \
  timeout "${BROWSER_TIMEOUT:-300}" "$venv/bin/python" Tests/Browser/run.py "$@"
