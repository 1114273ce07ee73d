#!/usr/bin/env bash
# A local three-node sse-fanout cluster as plain processes, with nginx in front.
#
#   scripts/cluster.sh up       install what is missing, start RabbitMQ and Redis
#                               (scripts/services.sh), build, start nodes 8081-8083 and nginx
#                               on 127.0.0.1:8080, wait until all are ready, print examples
#   scripts/cluster.sh down     stop nginx and the nodes, then scripts/services.sh stop
#   scripts/cluster.sh status   what is running, and whether each node is ready
#   scripts/cluster.sh logs [-f] [-n LINES]   the last lines of every log (-f: follow)
#   scripts/cluster.sh nginx-config DIR       write the local nginx config under DIR
#                                             (used by `up` and by the tests)
#   scripts/cluster.sh token ARGS...          mint a token with the demo's key
#                                             (sse-fanout token ARGS, e.g. --user alice --channel news)
#   scripts/cluster.sh api-key                print the demo's API key
#
# Authentication is on: `up` makes a JWT secret and an API key for the demo once, in
# .run/cluster/auth.env (mode 600), hands them to the nodes through their environment, and prints
# curl lines that carry a minted token or the key.
#
# Nodes use Configs/cluster/node-8081.json ... node-8083.json (node id = port). Logs and
# pid files go to .run/cluster/ in the repository; nginx runs with its own prefix there.
# `up` is idempotent: what already runs is left alone.
#
# Settings (environment):
#   BUILD_CONFIG    debug | release                    (default: debug)
#   NGINX_PORT      nginx's port on 127.0.0.1          (default: 8080)
#   READY_TIMEOUT   seconds to wait for all nodes      (default: 60)
#   STOP_TIMEOUT    seconds to wait for each process to exit on SIGTERM (default: 10)
#   KEEP_SERVICES   1: `down` leaves RabbitMQ and Redis running
#   AMQP_PORT, REDIS_PORT, SERVICES_DIR   passed on to scripts/services.sh; when the ports
#                   differ from its defaults, the nodes get matching --amqp-url/--redis-url
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
run_dir=$root/.run/cluster
nginx_dir=$run_dir/nginx
ports=(8081 8082 8083)
build_config=${BUILD_CONFIG:-debug}
nginx_port=${NGINX_PORT:-8080}
ready_timeout=${READY_TIMEOUT:-60}
stop_timeout=${STOP_TIMEOUT:-10}
amqp_port=${AMQP_PORT:-5682}
redis_port=${REDIS_PORT:-6390}

say() { printf '%s\n' "$*"; }
die() { printf 'cluster.sh: %s\n' "$*" >&2; exit 1; }

node_config() { printf '%s/Configs/cluster/node-%s.json' "$root" "$1"; }
auth_env=$run_dir/auth.env

# The demo's secret and API key: made once, kept out of the repository and of every log.
ensure_auth() {
  mkdir -p "$run_dir"
  if [[ ! -s $auth_env ]]; then
    (
      umask 077
      printf 'SSE_FANOUT_AUTH_JWT_SECRET=%s\nSSE_FANOUT_AUTH_API_KEYS=%s\n' \
        "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" "demo-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$auth_env"
    )
  fi
  set -a
  # shellcheck disable=SC1090
  . "$auth_env"
  set +a
}

# The built sse-fanout binary.
built_bin() { printf '%s/.build/%s/sse-fanout' "$root" "$build_config"; }

cmd_token() {
  ensure_auth
  [[ -x $(built_bin) ]] || die "no $(built_bin): run scripts/cluster.sh up first"
  "$(built_bin)" token "$@"
}

cmd_api_key() {
  ensure_auth
  printf '%s\n' "$SSE_FANOUT_AUTH_API_KEYS"
}
node_pidfile() { printf '%s/node-%s.pid' "$run_dir" "$1"; }
node_log() { printf '%s/node-%s.log' "$run_dir" "$1"; }
nginx_pidfile() { printf '%s/nginx.pid' "$nginx_dir"; }

# Prints the pid recorded in $1 if that process is alive and its command line contains $2
# (so a recycled pid is never taken for ours); fails otherwise.
live_pid() {
  local file=$1 pattern=$2 pid
  [[ -s $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern" || return 1
  printf '%s\n' "$pid"
}
node_pid() { live_pid "$(node_pidfile "$1")" "node-$1.json"; }
nginx_pid() { live_pid "$(nginx_pidfile)" "nginx"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" 2>/dev/null || true; }

find_nginx() {
  local n
  for n in "$(command -v nginx 2>/dev/null || true)" /usr/sbin/nginx /usr/local/sbin/nginx; do
    [[ -n $n && -x $n ]] && { printf '%s\n' "$n"; return 0; }
  done
  return 1
}

# Writes DIR/conf/nginx.conf (a copy of docker/nginx.conf) and the two files it includes,
# set up for the local nodes, with every path nginx writes to inside DIR.
write_nginx_config() {
  local dir=$1 p
  mkdir -p "$dir/conf/sse-fanout.d" "$dir/logs" "$dir/temp"
  dir=$(cd "$dir" && pwd)
  cp "$root/docker/nginx.conf" "$dir/conf/nginx.conf"
  {
    say "# Written by scripts/cluster.sh: the local nodes, and nginx's own paths under $dir."
    say "upstream sse_fanout {"
    say "    least_conn;  # why least_conn and not ip_hash: see nginx.conf"
    for p in "${ports[@]}"; do
      say "    server 127.0.0.1:$p max_fails=1 fail_timeout=5s;"
    done
    say "    keepalive 16;"
    say "}"
    say ""
    say "access_log $dir/logs/access.log sse_fanout;"
    say "client_body_temp_path $dir/temp/client_body;"
    say "proxy_temp_path $dir/temp/proxy;"
    say "fastcgi_temp_path $dir/temp/fastcgi;"
    say "uwsgi_temp_path $dir/temp/uwsgi;"
    say "scgi_temp_path $dir/temp/scgi;"
  } >"$dir/conf/sse-fanout.d/upstream.conf"
  say "listen 127.0.0.1:$nginx_port;" >"$dir/conf/sse-fanout.d/listen.conf"
}

# Runs nginx with the prefix, config, error log and pid file under $1.
run_nginx() {
  local dir=$1 bin
  shift
  bin=$(find_nginx) || die "nginx not found (scripts/install-deps.sh installs it with WITH_NGINX=1)"
  "$bin" -p "$dir/" -c "$dir/conf/nginx.conf" -e "$dir/logs/error.log" -g "pid $dir/nginx.pid;" "$@"
}

# Sends SIGTERM to $2 (named $1) and waits up to STOP_TIMEOUT seconds, then SIGKILL.
stop_process() {
  local name=$1 pid=$2 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < stop_timeout * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || { say "stopped $name (pid $pid)"; return 0; }
    sleep 0.1
  done
  say "$name (pid $pid) did not exit within ${stop_timeout}s of SIGTERM; sending SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
}

node_args() {
  if [[ $amqp_port != 5682 ]]; then
    printf '%s\n' --amqp-url "amqp://guest:guest@127.0.0.1:$amqp_port/%2f"
  fi
  if [[ $redis_port != 6390 ]]; then
    printf '%s\n' --redis-url "redis://127.0.0.1:$redis_port/0"
  fi
}

start_node() {
  local port=$1 bin=$2 pidfile log i extra=()
  pidfile=$(node_pidfile "$port")
  log=$(node_log "$port")
  [[ -f $(node_config "$port") ]] || die "missing $(node_config "$port")"
  if port_open "$port"; then
    die "port $port is already in use by another process (not a node of this cluster)"
  fi
  mapfile -t extra < <(node_args)
  rm -f "$pidfile"
  printf '\n=== %s: starting node %s ===\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$port" >>"$log"
  # setsid: the node outlives this script and the terminal. The child records its own pid
  # (after setsid's possible fork), then becomes the node with exec.
  # shellcheck disable=SC2016 # $$ and $@ belong to the child shell
  ensure_auth
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" \
    "$bin" serve --config "$(node_config "$port")" "${extra[@]}" </dev/null >>"$log" 2>&1 &
  for ((i = 0; i < 50; i++)); do
    [[ -s $pidfile ]] && break
    sleep 0.1
  done
  [[ -s $pidfile ]] || die "node $port did not start; see $log"
  say "started node $port (pid $(<"$pidfile")), log: ${log#"$root/"}"
}

# Polls GET /readyz on every node until each answers 200, for at most READY_TIMEOUT seconds.
wait_ready() {
  local deadline=$((SECONDS + ready_timeout)) pending=("${ports[@]}") still port
  while ((${#pending[@]})); do
    still=()
    for port in "${pending[@]}"; do
      if ! node_pid "$port" >/dev/null; then
        say "node $port exited; last lines of $(node_log "$port"):" >&2
        tail -n 20 "$(node_log "$port")" >&2 || true
        die "node $port failed to start"
      fi
      if [[ $(http_code "http://127.0.0.1:$port/readyz") == 200 ]]; then
        say "node $port is ready"
      else
        still+=("$port")
      fi
    done
    pending=("${still[@]+"${still[@]}"}")
    ((${#pending[@]})) || break
    if ((SECONDS >= deadline)); then
      for port in "${pending[@]}"; do
        say "node $port: GET /readyz -> $(http_code "http://127.0.0.1:$port/readyz"); last lines of its log:" >&2
        tail -n 20 "$(node_log "$port")" >&2 || true
      done
      die "not ready after ${ready_timeout}s: ${pending[*]} (is RabbitMQ on :$amqp_port and Redis on :$redis_port up? scripts/services.sh status)"
    fi
    sleep 0.2
  done
}

start_nginx() {
  local pid i
  write_nginx_config "$nginx_dir"
  run_nginx "$nginx_dir" -t -q || die "the generated nginx config is invalid: ${nginx_dir#"$root/"}/conf/"
  if pid=$(nginx_pid); then
    kill -HUP "$pid"
    say "nginx already running (pid $pid); configuration reloaded"
    return
  fi
  if port_open "$nginx_port"; then
    die "port $nginx_port is already in use by another process (set NGINX_PORT to use another)"
  fi
  run_nginx "$nginx_dir" # daemon on: returns once the master is running
  for ((i = 0; i < 50; i++)); do
    pid=$(nginx_pid) && break
    sleep 0.1
  done
  [[ -n ${pid:-} ]] || die "nginx did not start; see ${nginx_dir#"$root/"}/logs/error.log"
  for ((i = 0; i < 50; i++)); do
    port_open "$nginx_port" && break
    sleep 0.1
  done
  say "started nginx on 127.0.0.1:$nginx_port (pid $pid), logs: ${nginx_dir#"$root/"}/logs/"
}

print_examples() {
  local bin=$1 base target alice bob carol
  ensure_auth
  alice=$("$bin" token --user alice --channel news --sid alice-laptop --ttl 1h)
  bob=$("$bin" token --user bob --channel news --ttl 1h)
  carol=$("$bin" token --user carol --tenant acme --channel 'news*' --ttl 1h)
  local -a bodies=(
    '{"target": {"type": "connection", "id": "CONNECTION_ID"}, "event": "note", "data": "just this connection"}'
    '{"target": {"type": "user", "id": "alice"}, "event": "greeting", "data": {"text": "hello alice"}}'
    '{"target": {"type": "channel", "id": "news"}, "event": "headline", "data": "on the news channel"}'
    '{"target": {"type": "broadcast"}, "event": "tick", "data": "to everyone"}'
    '{"target": {"type": "user", "id": "carol", "tenant": "acme"}, "data": "carol of acme"}'
  )
  cat <<EOF

The cluster is up: nodes 8081, 8082, 8083 (node id = port), nginx on 127.0.0.1:$nginx_port.
Authentication is on. The tokens below are minted with the demo's key (valid 1 h); mint more with
  scripts/cluster.sh token --user NAME [--channel C] [--tenant T] [--sid S] --ttl 1h
Backends publish with the demo's API key (scripts/cluster.sh api-key).

The demo (the nodes run in demo mode): open it in two browsers, pick a user in each, chat, upload, and
watch who is online; the admin page shows the nodes, users, channels, rates and queues (enter the API key):
  http://127.0.0.1:$nginx_port/demo
  http://127.0.0.1:$nginx_port/admin      API key: $SSE_FANOUT_AUTH_API_KEYS

Subscribe (each in its own terminal):
  curl -N 'http://127.0.0.1:8082/events?token=$alice'
  curl -N 'http://127.0.0.1:8083/events?channel=news' -H 'Authorization: Bearer $bob'
  curl -N 'http://127.0.0.1:$nginx_port/events?channel=news-eu&clientId=laptop' -H 'Authorization: Bearer $carol'

Publish to a node (CONNECTION_ID: the connectionId of a subscriber's "event: connected"):
EOF
  for base in "http://127.0.0.1:8081" "http://127.0.0.1:$nginx_port"; do
    if [[ $base == *":$nginx_port" ]]; then
      say ""
      say "The same through nginx:"
    fi
    for target in "${bodies[@]}"; do
      say "  curl -X POST $base/publish -H 'Content-Type: application/json' -H 'X-API-Key: $SSE_FANOUT_AUTH_API_KEYS' -d '$target'"
    done
  done
  cat <<EOF

Kick alice's session everywhere and keep it out for 5 minutes:
  curl -X POST http://127.0.0.1:8081/disconnect -H 'Content-Type: application/json' -H 'X-API-Key: $SSE_FANOUT_AUTH_API_KEYS' \\
       -d '{"target": {"type": "session", "id": "alice-laptop"}, "reason": "signed out", "reconnect": false}'

Who is online (a page of users; one user with their connections):
  curl -s 'http://127.0.0.1:8081/presence/users' -H 'X-API-Key: $SSE_FANOUT_AUTH_API_KEYS'
  curl -s 'http://127.0.0.1:8081/presence/users/alice' -H 'X-API-Key: $SSE_FANOUT_AUTH_API_KEYS'

Watch streams come and go (connection.*, user.online/offline, channel.*) on sse.lifecycle:
  amqp-consume --url amqp://guest:guest@127.0.0.1:$amqp_port -x -e sse.lifecycle -r '#' -- sh -c 'cat; echo'

Without a token, or with a forged or expired one, a stream is refused (401):
  curl -i 'http://127.0.0.1:8082/events?user=alice'

Publish straight to RabbitMQ (amqp-tools): to sse.ingress, which any node routes, or to node 8082's queue through sse.direct:
  amqp-publish --url amqp://guest:guest@127.0.0.1:$amqp_port -e sse.ingress -r '' -C application/json -b '${bodies[1]}'
  amqp-publish --url amqp://guest:guest@127.0.0.1:$amqp_port -e sse.direct -r 8082 -C application/json -b '${bodies[1]}'
  $bin publish --amqp-url 'amqp://guest:guest@127.0.0.1:$amqp_port/%2f' '${bodies[3]}'

Status, logs and stop:
  scripts/cluster.sh status
  scripts/cluster.sh logs -f
  scripts/cluster.sh down
EOF
}

cmd_up() {
  local port pid bin bin_dir need_build=0
  command -v swift >/dev/null 2>&1 || die "swift not found on PATH (a Swift 6 toolchain is needed)"
  mkdir -p "$run_dir"
  say "== dependencies"
  WITH_NGINX=1 "$root/scripts/install-deps.sh"
  command -v curl >/dev/null 2>&1 || die "curl not found"
  say "== RabbitMQ and Redis"
  "$root/scripts/services.sh" start

  # Fail before building or starting anything if a port is taken by something else.
  for port in "${ports[@]}"; do
    node_pid "$port" >/dev/null && continue
    need_build=1
    port_open "$port" && die "port $port is already in use by another process (not a node of this cluster)"
  done
  if ! nginx_pid >/dev/null && port_open "$nginx_port"; then
    die "port $nginx_port is already in use by another process (set NGINX_PORT to use another)"
  fi
  bin_dir=$(swift build --package-path "$root" -c "$build_config" --show-bin-path)
  bin=$bin_dir/sse-fanout
  if ((need_build)); then
    say "== building sse-fanout ($build_config)"
    swift build --package-path "$root" -c "$build_config" --product sse-fanout
    [[ -x $bin ]] || die "the build did not produce $bin"
  else
    say "== all nodes already running; not rebuilding (down, then up, to run a new build)"
  fi

  say "== nodes"
  for port in "${ports[@]}"; do
    if pid=$(node_pid "$port"); then
      say "node $port already running (pid $pid)"
    else
      start_node "$port" "$bin"
    fi
  done
  wait_ready

  say "== nginx"
  start_nginx
  print_examples "$bin"
}

cmd_down() {
  local port pid
  if pid=$(nginx_pid); then
    stop_process nginx "$pid"
  else
    say "nginx: not running"
  fi
  rm -f "$(nginx_pidfile)"
  for port in "${ports[@]}"; do
    if pid=$(node_pid "$port"); then
      stop_process "node $port" "$pid"
    else
      say "node $port: not running"
    fi
    rm -f "$(node_pidfile "$port")"
  done
  if [[ ${KEEP_SERVICES:-0} == 1 ]]; then
    say "leaving RabbitMQ and Redis running (KEEP_SERVICES=1)"
  else
    "$root/scripts/services.sh" stop
    say "stopped RabbitMQ and Redis"
  fi
}

cmd_status() {
  local port pid code
  for port in "${ports[@]}"; do
    if pid=$(node_pid "$port"); then
      code=$(http_code "http://127.0.0.1:$port/readyz")
      say "node $port: running (pid $pid), GET /readyz -> ${code:-no answer}"
    else
      say "node $port: down"
    fi
  done
  if pid=$(nginx_pid); then
    code=$(http_code "http://127.0.0.1:$nginx_port/healthz")
    say "nginx: running on 127.0.0.1:$nginx_port (pid $pid), GET /healthz -> ${code:-no answer}"
  else
    say "nginx: down"
  fi
  "$root/scripts/services.sh" status
}

cmd_logs() {
  local follow=0 lines=50 files=() f port
  while (($#)); do
    case $1 in
      -f | --follow) follow=1 ;;
      -n) [[ ${2:-} =~ ^[0-9]+$ ]] || die "-n needs a number"; lines=$2; shift ;;
      *) die "logs: unknown option $1 (usage: logs [-f] [-n LINES])" ;;
    esac
    shift
  done
  for port in "${ports[@]}"; do files+=("$(node_log "$port")"); done
  files+=("$nginx_dir/logs/error.log" "$nginx_dir/logs/access.log")
  local existing=()
  for f in "${files[@]}"; do [[ -e $f ]] && existing+=("$f"); done
  ((${#existing[@]})) || die "no logs yet under ${run_dir#"$root/"}/ (run: scripts/cluster.sh up)"
  if ((follow)); then
    exec tail -n "$lines" -F "${files[@]}"
  fi
  tail -n "$lines" "${existing[@]}"
}

cmd_nginx_config() {
  [[ -n ${1:-} ]] || die "usage: $0 nginx-config DIR"
  write_nginx_config "$1"
  say "$(cd "$1" && pwd)/conf/nginx.conf"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  logs) shift; cmd_logs "$@" ;;
  nginx-config) shift; cmd_nginx_config "$@" ;;
  token) shift; cmd_token "$@" ;;
  api-key) cmd_api_key ;;
  *) say "usage: $0 up|down|status|logs [-f] [-n LINES]|nginx-config DIR|token ARGS|api-key" >&2; exit 2 ;;
esac
