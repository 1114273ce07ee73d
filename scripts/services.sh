#!/usr/bin/env bash
# Starts or stops a private redis-server and rabbitmq-server on their own ports and data
# directories, so tests and the demo never touch a server that is already running.
#
#   scripts/services.sh start|stop|status
#
# Settings (environment):
#   SERVICES_DIR   where data, logs and pid files go   (default: /tmp/sse-fanout-services)
#   REDIS_PORT     redis-server port                   (default: 6390)
#   AMQP_PORT      rabbitmq-server AMQP port           (default: 5682; its Erlang
#                  distribution port is AMQP_PORT + 20000)
#   RABBIT_NAME    Erlang node name prefix             (default: ssefanout)
#   SERVICES_FRESH 1: RabbitMQ and Redis start from empty data (the test scripts set it)
set -euo pipefail

dir=${SERVICES_DIR:-/tmp/sse-fanout-services}
redis_port=${REDIS_PORT:-6390}
amqp_port=${AMQP_PORT:-5682}
rabbit_node="${RABBIT_NAME:-ssefanout}-${amqp_port}@localhost"

rabbit_env() {
  export RABBITMQ_NODENAME=$rabbit_node
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT=$amqp_port
  export RABBITMQ_DIST_PORT=$((amqp_port + 20000))
  export RABBITMQ_MNESIA_BASE=$dir/rabbitmq/mnesia
  export RABBITMQ_LOG_BASE=$dir/rabbitmq/log
  export RABBITMQ_FEATURE_FLAGS_FILE=$dir/rabbitmq/feature_flags
  export RABBITMQ_ENABLED_PLUGINS_FILE=$dir/rabbitmq/enabled_plugins
  export RABBITMQ_PID_FILE=$dir/rabbitmq/pid
  export RABBITMQ_CONFIG_FILE=$dir/rabbitmq/rabbitmq
  # Erlang schedulers spin while waiting for work; on a small machine shared with the nodes, Redis and
  # the tests that spinning takes CPU the others need (RABBITMQ_ERL_ARGS overrides).
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=${RABBITMQ_ERL_ARGS:-"+sbwt none +sbwtdcpu none +sbwtdio none"}
}

redis_up() { redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG; }
rabbit_up() { (rabbit_env; rabbitmq-diagnostics -q -n "$rabbit_node" check_port_connectivity >/dev/null 2>&1); }

start_redis() {
  if redis_up; then echo "redis-server already up on :$redis_port"; return; fi
  # SERVICES_FRESH=1: what an earlier run left (its nodes' leases and connections, kept in the
  # append-only file) would be reaped by the first node of this run, its closes published meanwhile.
  [[ ${SERVICES_FRESH:-0} == 1 ]] && rm -rf "$dir/redis"
  mkdir -p "$dir/redis"
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$dir/redis" \
    --daemonize yes --pidfile "$dir/redis/pid" --logfile "$dir/redis/log" \
    --save "" --appendonly yes --appendfsync everysec --enable-debug-command local
  for _ in $(seq 1 100); do redis_up && { echo "redis-server up on :$redis_port"; return; }; sleep 0.1; done
  echo "redis-server did not start; see $dir/redis/log" >&2; exit 1
}

start_rabbit() {
  if rabbit_up; then echo "rabbitmq-server already up on :$amqp_port"; add_test_vhosts; return; fi
  # SERVICES_FRESH=1 (the test scripts): start from empty data. A node killed before it could stop
  # leaves its database behind, and recovering that one hung a boot for minutes.
  [[ ${SERVICES_FRESH:-0} == 1 ]] && rm -rf "$dir/rabbitmq/mnesia"
  mkdir -p "$dir/rabbitmq/mnesia" "$dir/rabbitmq/log"
  : > "$dir/rabbitmq/enabled_plugins.tmp"; echo "[]." > "$dir/rabbitmq/enabled_plugins"; rm -f "$dir/rabbitmq/enabled_plugins.tmp"
  # Small disk and memory alarms: a shared build machine must not block publishers.
  printf 'disk_free_limit.absolute = 50MB\nvm_memory_high_watermark.relative = 0.6\nloopback_users = none\n' > "$dir/rabbitmq/rabbitmq.conf"
  chown -R rabbitmq:rabbitmq "$dir/rabbitmq" 2>/dev/null || true
  (rabbit_env; nohup rabbitmq-server > "$dir/rabbitmq/stdout.log" 2>&1 &)
  for _ in $(seq 1 600); do
    rabbit_up && { echo "rabbitmq-server up on :$amqp_port"; add_test_vhosts; return; }
    sleep 0.2
  done
  echo "rabbitmq-server did not start; see $dir/rabbitmq/log and $dir/rabbitmq/stdout.log" >&2; exit 1
}

# More virtual hosts: sse-isolated for tests whose nodes use a Redis of their own (in the shared one
# their nodes would consume the shared dead-letter queue and look its messages up in the wrong Redis),
# sse-contracts for the broker contract suite (whose brokers take from the shared queues themselves).
add_test_vhosts() {
  (rabbit_env
   for vhost in sse-isolated sse-contracts; do
     rabbitmqctl -q -n "$rabbit_node" add_vhost "$vhost" >/dev/null 2>&1 || true
     rabbitmqctl -q -n "$rabbit_node" set_permissions -p "$vhost" guest '.*' '.*' '.*' >/dev/null
   done)
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stop_redis() { redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true; }
stop_rabbit() {
  (rabbit_env; rabbitmqctl -q -n "$rabbit_node" stop >/dev/null 2>&1) || true
  # `stop` can return before the Erlang VM let go of its ports (seconds on a busy machine), and whoever
  # starts a server on them next finds them taken: wait until both are free, a minute at most.
  for _ in $(seq 1 300); do
    listening "$amqp_port" || listening "$((amqp_port + 20000))" || return 0
    sleep 0.2
  done
}

case "${1:-}" in
  start) start_redis; start_rabbit ;;
  stop) stop_redis; stop_rabbit ;;
  status)
    redis_up && echo "redis-server: up on :$redis_port" || echo "redis-server: down"
    rabbit_up && echo "rabbitmq-server: up on :$amqp_port" || echo "rabbitmq-server: down" ;;
  start-redis) start_redis ;; stop-redis) stop_redis ;;
  start-rabbitmq) start_rabbit ;; stop-rabbitmq) stop_rabbit ;;
  *) echo "usage: $0 start|stop|status|start-redis|stop-redis|start-rabbitmq|stop-rabbitmq" >&2; exit 2 ;;
esac
