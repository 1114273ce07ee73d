#!/usr/bin/env bash
# Checks the README's demo end to end: `scripts/cluster.sh up`, a curl subscriber on node 8082 with a
# minted token receives an event POSTed to node 8081 with the API key and one published with
# amqp-publish (both through RabbitMQ), and one through nginx; a stream without a token is refused;
# presence lists the stream; a kicked session is told so and stays out; sse.lifecycle shows the stream
# come and go; then `scripts/cluster.sh down`.
# Uses the RabbitMQ and Redis given by AMQP_PORT/REDIS_PORT/SERVICES_DIR and leaves them running.
set -euo pipefail
cd "$(dirname "$0")/.."

export NGINX_PORT=${NGINX_PORT:-18180}
for port in 8081 8082 8083 "$NGINX_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "demo smoke: skipped, port $port is in use (is the demo already running?)"
    exit 0
  fi
done

export KEEP_SERVICES=1
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; scripts/cluster.sh down >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

scripts/cluster.sh up > "$work/up.log" 2>&1 || { cat "$work/up.log"; exit 1; }

# Waits (at most 15 s) until file $1 contains text $2.
wait_for() {
  for _ in $(seq 1 150); do
    grep -qF -- "$2" "$1" && return 0
    sleep 0.1
  done
  echo "demo smoke: FAILED, no '$2' in $1:" >&2
  cat "$1" >&2
  return 1
}

amqp_url="amqp://guest:guest@127.0.0.1:${AMQP_PORT:-5682}"
# Watch sse.lifecycle from before the first stream opens: a probe published there shows the queue is bound.
amqp-consume --url "$amqp_url" -x -e sse.lifecycle -r '#' -- sh -c 'cat; echo' > "$work/lifecycle.txt" &
for _ in $(seq 1 50); do
  amqp-publish --url "$amqp_url" -e sse.lifecycle -r probe -b probe
  grep -q probe "$work/lifecycle.txt" && break
  sleep 0.2
done

session="smoke-$$-$RANDOM"  # a kick bar outlives a run: each run its own session
token=$(scripts/cluster.sh token --user smoke --sid "$session" --ttl 10m)
nginx_token=$(scripts/cluster.sh token --user smoke-nginx --ttl 10m)
key=$(scripts/cluster.sh api-key)
curl -sN --max-time 30 "http://127.0.0.1:8082/events?token=$token" > "$work/on-8082.txt" &
curl -sN --max-time 30 "http://127.0.0.1:$NGINX_PORT/events" -H "Authorization: Bearer $nginx_token" > "$work/via-nginx.txt" &
wait_for "$work/on-8082.txt" "event: connected"
wait_for "$work/via-nginx.txt" "event: connected"

status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 'http://127.0.0.1:8083/events?user=smoke')
[[ $status == 401 ]] || { echo "demo smoke: FAILED, a stream without a token got $status" >&2; exit 1; }

answer=$(curl -sf -X POST http://127.0.0.1:8081/publish -H 'Content-Type: application/json' -H "X-API-Key: $key" \
  -d '{"target": {"type": "user", "id": "smoke"}, "event": "greeting", "data": "hello from 8081"}')
[[ $answer == *'"nodes":1'* ]] || { echo "demo smoke: FAILED, publish answered $answer" >&2; exit 1; }
wait_for "$work/on-8082.txt" "data: hello from 8081"

amqp-publish --url "amqp://guest:guest@127.0.0.1:${AMQP_PORT:-5682}" -e sse.ingress -r '' -C application/json \
  -b '{"target": {"type": "user", "id": "smoke"}, "data": "hello from amqp-publish"}'
wait_for "$work/on-8082.txt" "data: hello from amqp-publish"

curl -sf -X POST "http://127.0.0.1:$NGINX_PORT/publish" -H 'Content-Type: application/json' -H "X-API-Key: $key" \
  -d '{"target": {"type": "user", "id": "smoke-nginx"}, "data": "through nginx"}' > /dev/null
wait_for "$work/via-nginx.txt" "data: through nginx"

presence=$(curl -sf "http://127.0.0.1:8083/presence/users/smoke" -H "X-API-Key: $key")
[[ $presence == *'"online":true'* && $presence == *'"node":"8082"'* ]] || { echo "demo smoke: FAILED, presence answered $presence" >&2; exit 1; }

curl -sf -X POST http://127.0.0.1:8083/disconnect -H 'Content-Type: application/json' -H "X-API-Key: $key" \
  -d '{"target": {"type": "session", "id": "'"$session"'"}, "reason": "signed out", "reconnect": false}' > /dev/null
wait_for "$work/on-8082.txt" "event: disconnect"
status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:8081/events?token=$token")
[[ $status == 403 ]] || { echo "demo smoke: FAILED, a kicked session got $status" >&2; exit 1; }

wait_for "$work/lifecycle.txt" '"event":"user.online"'
wait_for "$work/lifecycle.txt" '"reason":"kicked"'
wait_for "$work/lifecycle.txt" '"event":"user.offline"'

echo "demo smoke: passed (token on 8082, 8081 -> RabbitMQ -> 8082, amqp-publish -> 8082, nginx -> node, 401 without a token, presence lists it, kicked session stays out, sse.lifecycle shows it come and go)"
