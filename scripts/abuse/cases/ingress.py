"""Producers writing straight to `sse.ingress` what no HTTP publish could carry, and ingress while the
node cannot reach Redis."""

import json
import time

import web
from case import case
from watch import Repeating, wait_until


class PublishTimer(Repeating):
    """Publishes over HTTP on the node every `interval`, keeping the answers: one producer's message
    must not stall everybody else's publishes."""

    def __init__(self, port, user, interval=0.1):
        super().__init__(interval)
        self.port = port
        self.user = user
        self.answers = []

    @property
    def slowest(self):
        return max((a.seconds for a in self.answers), default=0.0)

    @property
    def failed(self):
        return [a for a in self.answers if a.status != 202]

    def turn(self):
        self.answers.append(web.publish_to_user(self.port, self.user, "timing", timeout=30))


@case("amqp-ingress-limits", "a 27 MB array of 400,000 items, and 1,001 small items in 60 kB, on sse.ingress")
def amqp_ingress_limits(ctx):
    item = {"target": {"type": "user", "id": "atk-ingress-big"}, "data": "x"}
    big = json.dumps([item] * ctx.scale(400_000, 40_000)).encode()
    # 1,001 items in 60 kB: within the size limit, one item over the item limit.
    small = {"target": {"type": "user", "id": "atk-ingress-many"}, "data": 1}
    many = json.dumps([small] * 1001, separators=(",", ":")).encode()
    client = ctx.services.amqp()
    try:
        with ctx.attack(), PublishTimer(ctx.port, "atk-ingress-timing") as timer:
            time.sleep(0.5)
            client.publish("sse.ingress", "", big)
            client.publish("sse.ingress", "", many)
            parked = wait_until(lambda: (client.counts("sse.poison") or (0, 0))[0] >= 2, 30)
            time.sleep(1)  # publishes go on a moment after the parking
        reasons = []
        while (message := client.get("sse.poison")) is not None:
            reasons.append((str(message.headers.get("x-sse-reason", "")), len(message.body)))
        left = client.counts("sse.ingress")
    finally:
        client.close()
    routed = sum(ctx.redis.call("XLEN", f"sse:history:user:atk-ingress-{name}") for name in ("big", "many"))
    ctx.figure("attacker", f"{len(big) / 1e6:.1f} MB and {len(many) / 1e3:.0f} kB published; parked: "
                           + "; ".join(f"{reason[:40]} ({size:,} B kept)" for reason, size in reasons))
    ctx.figure("HTTP publish", f"{len(timer.answers)} during, slowest {timer.slowest:.2f} s, failed {len(timer.failed)}")
    ctx.check(parked, "the messages were not parked in sse.poison within 30 s")
    ctx.check(any(r.startswith("too_large") and size <= 4096 for r, size in reasons), f"no oversized message parked as too_large: {reasons}")
    ctx.check(any(r.startswith("too_many_items") for r, _ in reasons), f"no message parked as too_many_items: {reasons}")
    ctx.check(routed == 0, f"{routed} events of the refused messages were routed")
    ctx.check(left is not None and left[0] == 0, f"sse.ingress still holds {left}")
    ctx.check(timer.slowest < 1.0 and not timer.failed, f"HTTP publishes meanwhile: slowest {timer.slowest:.2f} s, {len(timer.failed)} failed")


@case("ingress-redis-down", "sse.ingress while the node cannot reach Redis: not consumed until it can",
      probes_readiness=False)
def ingress_redis_down(ctx):
    count = 20
    client = ctx.services.amqp()
    try:
        with ctx.attack():
            ctx.services.stop_redis()
            try:
                unready = wait_until(lambda: not ctx.node.is_ready(), 20)
                paused = wait_until(lambda: (client.counts("sse.ingress") or (0, 1))[1] == 0, 20)
                cpu_before = ctx.node.cpu_seconds()
                for index in range(count):
                    body = json.dumps({"target": {"type": "user", "id": "by-0"}, "data": f"ingress-{index}"}).encode()
                    client.publish("sse.ingress", "", body)
                time.sleep(3)
                waiting = (client.counts("sse.ingress") or (0, 0))[0]
                cpu = ctx.node.cpu_seconds() - cpu_before
            finally:
                ctx.services.start_redis()
            ready = wait_until(ctx.node.is_ready, 30, interval=0.5)
            bystander = ctx.bystanders[0]
            wait_until(lambda: sum((e.data or "").startswith("ingress-") for e in bystander.events) >= count, 20)
            time.sleep(0.5)
            delivered = sorted(e.data for e in bystander.events if (e.data or "").startswith("ingress-"))
    finally:
        client.close()
    ctx.figure("attacker", f"{count} messages while Redis was away: {waiting} left waiting in sse.ingress, "
                           f"node CPU {cpu:.2f} s over 3 s; delivered after {len(delivered)} ({len(set(delivered))} distinct)")
    ctx.check(unready, "the node stayed ready without Redis")
    ctx.check(paused, "the node kept its sse.ingress consumer while Redis was away")
    ctx.check(waiting == count, f"{count - waiting} messages were taken by a node that could not route them")
    ctx.check(ready, "the node was not ready again after Redis came back")
    ctx.check(len(delivered) == count and len(set(delivered)) == count, f"delivered after the outage: {len(delivered)} of {count}")
