"""What every case must leave behind, checked once its attack is over:
- the node still runs and answers GET /healthz, and no probe failed three times in a row during the
  attack (each probe waits 3 s);
- every bystander stream is still open and receives an event published after the attack;
- the node's open files come back to what they were before the attack;
- its resident memory comes back under the case's bound (growth over before the attack);
- Redis holds no registry or presence entry of a stream that is closed."""

import time

import web
from case import ATTACKER
from watch import wait_until


def check_aftermath(ctx):
    node = ctx.node
    ctx.require(node.running, f"the node exited ({node.process.returncode}); see {node.log_path}")
    probes = ctx.probes
    if probes is not None:
        ctx.figure("probes", f"{len(probes.latencies)}, slowest {probes.slowest:.2f} s, failed {len(probes.failures)}")
        ctx.check(not probes.would_restart, f"a probe failed {probes.longest_streak} times in a row during the attack: "
                                            f"{'; '.join(probes.failures[:3])}")
    health = web.get(ctx.port, "/healthz", timeout=3)
    ctx.check(health.status == 200, f"GET /healthz after the attack: {health}")
    _check_bystanders(ctx)
    _check_files(ctx)
    _check_memory(ctx)
    _check_registry(ctx)


def _check_bystanders(ctx):
    late = []
    for index, stream in enumerate(ctx.bystanders):
        marker = f"after-{ctx.spec.name}-{index}-{time.monotonic_ns()}"
        answer = web.publish_to_user(ctx.port, f"by-{index}", marker, headers=ctx.publisher_headers())
        got = answer.status == 202 and stream.wait_for(lambda e, m=marker: e.data == m, 5) is not None
        if not got:
            late.append(f"by-{index} ({'closed' if stream.closed else 'open'}, publish {answer.status or answer.error})")
    ctx.check(not late, f"bystanders without the event published after the attack: {', '.join(late)}")


def _check_files(ctx):
    if ctx.probes is None:
        return
    slack = 8  # connections to Redis and RabbitMQ may be made again meanwhile, probes come and go
    wait_until(lambda: ctx.node.open_files() <= ctx.files_before + slack, 20)
    after = ctx.node.open_files()
    ctx.figure("fds", f"{ctx.files_before}/{ctx.files_peak:,}/{after}")
    ctx.check(after <= ctx.files_before + slack, f"open files {after} after the attack, {ctx.files_before} before")


def _check_memory(ctx):
    if ctx.probes is None:
        return
    bound = ctx.settings.rss_bounds.get(ctx.spec.name, ctx.settings.rss_bounds.get("all", ctx.spec.rss_bound_mb))
    limit = ctx.rss_before + bound
    wait_until(lambda: ctx.node.rss_mb() <= limit, ctx.scale(20, 8), interval=0.5)
    after = ctx.node.rss_mb()
    ctx.figure("RSS MB", f"{ctx.rss_before:.0f}/{max(ctx.rss_peak, after):.0f}/{after:.0f} (≤+{bound:g})")
    ctx.check(after <= limit, f"resident memory {after:.0f} MB after the attack, over {ctx.rss_before:.0f} + {bound:g} MB")


def _check_registry(ctx):
    """Nothing in Redis for a stream that is closed: connection hashes, the node's set, addresses and
    presence name open streams only (README, "Redis key schema"). Unregistration is asynchronous,
    so this waits a little for it."""
    live = {stream.connection_id for stream in ctx.kept if not stream.closed and stream.connection_id}
    stale = wait_until(lambda: not stale_registry(ctx.redis, ctx.node.node_id, live), 20, interval=0.5)
    problems = stale_registry(ctx.redis, ctx.node.node_id, live)
    ctx.figure("redis", "clean" if not problems else "stale: " + ", ".join(problems))
    ctx.check(not problems, "Redis holds entries of closed streams: " + ", ".join(problems))


def stale_registry(redis, node_id, live):
    """What Redis holds beyond the `live` connection ids (empty when clean)."""
    problems = []
    conns = {key.split(":", 2)[2] for key in redis.scan("sse:conn:*")}
    if conns - live:
        problems.append(f"{len(conns - live)} sse:conn:* of closed streams")
    held = set(m.decode() for m in redis.call("SMEMBERS", f"sse:node:{node_id}:connections"))
    if held - live:
        problems.append(f"{len(held - live)} in sse:node:{node_id}:connections")
    if problems:
        return problems
    attacker = 0
    for key in redis.scan("sse:addr:*") + redis.scan("sse:node:*:addresses"):
        names = [key] + (redis.members(key) if key.endswith(":addresses") else [])
        attacker += sum(ATTACKER in name for name in names)
    for key in redis.scan("sse:presence:*"):
        if key.startswith("sse:presence:seq"):
            continue
        members = redis.members(key)
        attacker += (ATTACKER in key) + sum(ATTACKER in m for m in members)
        if key.startswith("sse:presence:conns:"):
            attacker += len(set(members) - live)
    if attacker:
        problems.append(f"{attacker} address or presence entries of closed streams")
    return problems
