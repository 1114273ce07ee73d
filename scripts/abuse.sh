#!/usr/bin/env bash
# The abuse suite: real sse-fanout nodes, a real redis-server and rabbitmq-server, and clients and
# producers that try to break a node (too many streams, slowloris heads, bodies that never end,
# oversized AMQP messages, Redis going away under closing streams, duplicate ids in flight, odd
# protocol bytes). Each case checks that the node keeps serving /healthz and its other streams, gives
# back its file descriptors and memory, leaves nothing stale in Redis, and that the attacker got a
# clear 4xx/5xx or a close, never a hang.
#
#   scripts/abuse.sh                  every case, full counts (20,000 streams, 2,000 slowloris heads, ...)
#   scripts/abuse.sh --short          every case, small counts and a 3 s request timeout (CI; about 90 s)
#   scripts/abuse.sh --only slowloris,pipelining     some cases
#   scripts/abuse.sh --skip ''        also the cases and checks skipped by default (fixes not in yet)
#   scripts/abuse.sh --list           the cases
#   scripts/abuse.sh --rss-bound unfinished-bodies=400   memory a case may keep after its attack (MB)
#
# It installs the Debian packages that are missing (scripts/install-deps.sh), builds sse-fanout, and
# runs scripts/abuse/main.py (Python 3, standard library only), which starts its own redis-server and
# rabbitmq-server through scripts/services.sh (empty data in $ABUSE_SERVICES_DIR), a fresh node per
# case on 127.0.0.1, prints a table (case, result, figures) and exits non-zero if any case failed.
# Node logs go to .run/abuse/<time>/, the last table to .run/abuse/last-table.txt.
#
# Settings (environment):
#   BUILD_CONFIG         debug | release            (default: debug)
#   ABUSE_REDIS_PORT     redis-server port          (default: 6394)
#   ABUSE_AMQP_PORT      rabbitmq-server port       (default: 5686)
#   ABUSE_NODE_PORTS     the nodes' ports           (default: 18601-18610)
#   ABUSE_SERVICES_DIR   the servers' data and logs (default: /tmp/sse-abuse-services)
#   ABUSE_RABBIT_NAME    Erlang node name prefix    (default: ssefanout-abuse)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build_config=${BUILD_CONFIG:-debug}

"$root/scripts/install-deps.sh"
swift build -c "$build_config" --product sse-fanout
bin=$(swift build -c "$build_config" --show-bin-path)

exec python3 "$root/scripts/abuse/main.py" --binary "$bin/sse-fanout" "$@"
