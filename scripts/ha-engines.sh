#!/usr/bin/env bash
# Starts or stops the engines of a highly available deployment on this machine, on their own ports and
# data directories: three RabbitMQ nodes joined into one cluster, and a Redis primary with two replicas
# watched by three Sentinels (master name `sse`). Loopback only.
#
#   scripts/ha-engines.sh start|stop|status|pids
#
# `pids` prints, one per line, `rabbit<N> <pid>`, `redis-<port> <pid>`, `sentinel-<port> <pid>`: what a
# fault test kills. The brokers run from /usr/lib/rabbitmq/bin with a HOME of their own holding the
# shared Erlang cookie (the /usr/sbin wrappers switch user and would not find it).
#
# Settings (environment):
#   HA_DIR         data, logs, cookie and pid files   (default: /tmp/sse-fanout-ha)
#   HA_AMQP_PORTS  the brokers' AMQP ports; each one's distribution port is its AMQP port + 20000
#                  (default: "5701 5702 5703")
#   HA_REDIS_PORTS the primary's port, then the replicas' (default: "6401 6402 6403")
#   HA_SENTINEL_PORTS                                 (default: "26401 26402 26403")
#   HA_FRESH=1     brokers start from empty data (a node killed mid-run leaves a database whose
#                  recovery can hang a boot)
set -euo pipefail

dir=${HA_DIR:-/tmp/sse-fanout-ha}
read -r -a amqp_ports <<<"${HA_AMQP_PORTS:-5701 5702 5703}"
read -r -a redis_ports <<<"${HA_REDIS_PORTS:-6401 6402 6403}"
read -r -a sentinel_ports <<<"${HA_SENTINEL_PORTS:-26401 26402 26403}"
rabbit_bin=/usr/lib/rabbitmq/bin
master_name=sse

node_name() { echo "sseha$1@localhost"; }

# rabbit_env N: the environment of broker N (1-based).
rabbit_env() {
  local n=$1 port=${amqp_ports[$(($1 - 1))]} base=$dir/rabbit$1
  export HOME=$dir/home
  export RABBITMQ_NODENAME=$(node_name "$n")
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT=$port
  export RABBITMQ_DIST_PORT=$((port + 20000))
  export RABBITMQ_MNESIA_BASE=$base/mnesia
  export RABBITMQ_LOG_BASE=$base/log
  export RABBITMQ_FEATURE_FLAGS_FILE=$base/feature_flags
  export RABBITMQ_ENABLED_PLUGINS_FILE=$base/enabled_plugins
  export RABBITMQ_PID_FILE=$base/pid
  export RABBITMQ_CONFIG_FILE=$base/rabbitmq
  # One scheduler each, and no spinning while idle: three VMs share this machine with everything else.
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="+S 1:1 +sbwt none +sbwtdcpu none +sbwtdio none"
}

ctl() {
  local n=$1
  shift
  (rabbit_env "$n"; "$rabbit_bin/rabbitmqctl" -q -n "$(node_name "$n")" "$@")
}

# quiet COMMAND…: runs it, and shows what it printed only if it failed.
quiet() {
  local output
  output=$("$@" 2>&1) || { echo "$output" >&2; echo "failed: $*" >&2; exit 1; }
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_rabbit_node() {
  local n=$1 base=$dir/rabbit$1
  if ctl "$n" ping >/dev/null 2>&1; then echo "broker $n already up on :${amqp_ports[$((n - 1))]}"; return; fi
  [[ ${HA_FRESH:-0} == 1 ]] && rm -rf "$base/mnesia"
  mkdir -p "$base/mnesia" "$base/log"
  echo "[]." >"$base/enabled_plugins"
  # Small alarms (a shared machine must not block publishers); quorum queues need the stream_queue
  # feature flag for at-least-once dead-lettering, which a fresh 3.10 node enables by default.
  printf 'disk_free_limit.absolute = 50MB\nvm_memory_high_watermark.relative = 0.4\nloopback_users = none\n' >"$base/rabbitmq.conf"
  (rabbit_env "$n"; nohup "$rabbit_bin/rabbitmq-server" >"$base/stdout.log" 2>&1 &)
}

await_rabbit_node() {
  local n=$1
  for _ in $(seq 1 300); do
    ctl "$n" ping >/dev/null 2>&1 && break
    sleep 0.2
  done
  ctl "$n" await_startup --timeout 120 >/dev/null 2>&1 || {
    echo "broker $n did not start; see $dir/rabbit$n/log and $dir/rabbit$n/stdout.log" >&2
    exit 1
  }
}

# The cluster's running nodes, as rabbitmqctl names them.
running_nodes() {
  ctl "$1" cluster_status --formatter json 2>/dev/null |
    python3 -c 'import json, sys; print("\n".join(sorted(json.load(sys.stdin).get("running_nodes", []))))' 2>/dev/null || true
}

start_rabbit() {
  mkdir -p "$dir/home"
  if [[ ! -f $dir/home/.erlang.cookie ]]; then
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/home/.erlang.cookie"
    chmod 400 "$dir/home/.erlang.cookie"
  fi
  # The three boot at once: about 20 s together on two cores, rather than one after the other.
  for n in 1 2 3; do start_rabbit_node "$n"; done
  for n in 1 2 3; do await_rabbit_node "$n"; done
  for n in 2 3; do
    running_nodes "$n" | grep -qx "$(node_name 1)" && continue
    for step in stop_app reset "join_cluster $(node_name 1)" start_app; do
      # shellcheck disable=SC2086 # the step's words are its arguments
      quiet ctl "$n" $step
    done
  done
  local count
  count=$(running_nodes 1 | grep -c . || true)
  [[ $count == 3 ]] || { echo "the cluster has $count running nodes, not 3" >&2; exit 1; }
  echo "RabbitMQ cluster up: $(running_nodes 1 | tr '\n' ' ')on :${amqp_ports[*]}"
}

redis_up() { redis-cli -p "$1" ping 2>/dev/null | grep -q PONG; }

start_redis_server() {
  local port=$1 role=$2
  if redis_up "$port"; then echo "redis-server already up on :$port"; return; fi
  mkdir -p "$dir/redis-$port"
  local args=(--port "$port" --bind 127.0.0.1 --dir "$dir/redis-$port" --daemonize yes --pidfile "$dir/redis-$port/pid"
    --logfile "$dir/redis-$port/log" --save "" --appendonly yes --appendfsync everysec --enable-debug-command local)
  [[ $role == replica ]] && args+=(--replicaof 127.0.0.1 "${redis_ports[0]}")
  redis-server "${args[@]}"
  for _ in $(seq 1 100); do redis_up "$port" && return; sleep 0.1; done
  echo "redis-server did not start on :$port; see $dir/redis-$port/log" >&2
  exit 1
}

start_sentinel() {
  local port=$1 conf=$dir/sentinel-$1/sentinel.conf
  if redis_up "$port"; then echo "sentinel already up on :$port"; return; fi
  mkdir -p "$dir/sentinel-$port"
  # Sentinel rewrites its file as it learns the topology: written fresh at each start.
  cat >"$conf" <<EOF
port $port
bind 127.0.0.1
dir $dir/sentinel-$port
daemonize yes
pidfile $dir/sentinel-$port/pid
logfile $dir/sentinel-$port/log
sentinel monitor $master_name 127.0.0.1 ${redis_ports[0]} 2
sentinel down-after-milliseconds $master_name 1000
sentinel failover-timeout $master_name 5000
sentinel parallel-syncs $master_name 1
EOF
  redis-server "$conf" --sentinel
  for _ in $(seq 1 100); do redis_up "$port" && return; sleep 0.1; done
  echo "sentinel did not start on :$port; see $dir/sentinel-$port/log" >&2
  exit 1
}

start_redis() {
  start_redis_server "${redis_ports[0]}" primary
  for port in "${redis_ports[@]:1}"; do start_redis_server "$port" replica; done
  # The replicas are in sync before anything depends on them (a replica promoted before its first sync
  # would be an empty primary).
  for port in "${redis_ports[@]:1}"; do
    for _ in $(seq 1 100); do
      redis-cli -p "$port" info replication | grep -q "master_link_status:up" && break
      sleep 0.1
    done
  done
  for port in "${sentinel_ports[@]}"; do start_sentinel "$port"; done
  # Each Sentinel has found the others and both replicas.
  for port in "${sentinel_ports[@]}"; do
    for _ in $(seq 1 100); do
      local info
      info=$(redis-cli -p "$port" sentinel master "$master_name" 2>/dev/null | tr '\n' ' ')
      [[ $info == *"num-slaves 2 "* && $info == *"num-other-sentinels 2 "* ]] && break
      sleep 0.1
    done
  done
  echo "Redis up: primary :${redis_ports[0]}, replicas :${redis_ports[*]:1}, Sentinels :${sentinel_ports[*]} (master name $master_name)"
}

stop_rabbit() {
  for n in 3 2 1; do ctl "$n" stop >/dev/null 2>&1 || true; done
  for n in 1 2 3; do
    local port=${amqp_ports[$((n - 1))]}
    for _ in $(seq 1 300); do
      listening "$port" || listening "$((port + 20000))" || break
      sleep 0.2
    done
  done
}

stop_redis() {
  for port in "${sentinel_ports[@]}" "${redis_ports[@]}"; do redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; done
}

pids() {
  for n in 1 2 3; do
    local pid
    pid=$(ctl "$n" eval 'os:getpid().' 2>/dev/null | tr -d '"') && [[ -n $pid ]] && echo "rabbit$n $pid"
  done
  for port in "${redis_ports[@]}"; do [[ -f $dir/redis-$port/pid ]] && echo "redis-$port $(cat "$dir/redis-$port/pid")"; done
  for port in "${sentinel_ports[@]}"; do [[ -f $dir/sentinel-$port/pid ]] && echo "sentinel-$port $(cat "$dir/sentinel-$port/pid")"; done
  return 0
}

status() {
  if ctl 1 ping >/dev/null 2>&1; then
    echo "RabbitMQ: running nodes $(running_nodes 1 | tr '\n' ' ')"
  else
    echo "RabbitMQ: broker 1 down"
  fi
  local master
  master=$(redis-cli -p "${sentinel_ports[0]}" sentinel get-master-addr-by-name "$master_name" 2>/dev/null | tr '\n' ':' || true)
  echo "Redis: Sentinels name the primary ${master%:}"
}

case "${1:-}" in
  start) start_redis; start_rabbit ;;
  stop) stop_rabbit; stop_redis ;;
  status) status ;;
  pids) pids ;;
  *) echo "usage: $0 start|stop|status|pids" >&2; exit 2 ;;
esac
