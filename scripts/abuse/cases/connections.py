"""One client trying to exhaust a node: too many streams, heads and bodies that never finish, heads
too large, more connections than the node has file descriptors."""

import math
import time

import web
from flood import Flood, Plan
from case import case

HEAD_DEADLINE_SLACK = 3.0  # seconds past http.requestTimeout within which a stalled request is cut off


def _answer_times(summary):
    return f"answered in p50 {summary.percentile(0.5):.2f} s, max {max(summary.seconds, default=0):.2f} s"


def _limit_lines(ctx, offset, text):
    lines = [line for line in ctx.node.log_since(offset) if text in line]
    return len(lines)


def _cut_off_in_time(ctx, summary, what):
    """Every stalled connection was closed by the node (with or without an answer) in time."""
    ctx.check(summary.count("hang") == 0, f"{summary.count('hang')} {what} still open {ctx.settings.request_timeout + 10:g} s later")
    latest = max(summary.seconds, default=0.0)
    bound = ctx.settings.request_timeout + HEAD_DEADLINE_SLACK
    ctx.check(latest <= bound, f"the last {what} was closed after {latest:.1f} s (http.requestTimeout {ctx.settings.request_timeout:g} s)")


def _many_streams_args(settings):
    return ["--max-connections", str(15000 if not settings.short else 1500)]


@case("many-streams", "20,000 streams from one address against --max-connections 15,000",
      node_args=_many_streams_args)
def many_streams(ctx):
    total = ctx.scale(20000, 2000)
    limit = ctx.scale(15000, 1500)
    # Each stream its own user, as a client cycling through accounts would.
    plan = Plan(b"GET /events?user=atk-many-{n} HTTP/1.1\r\nHost: sse\r\n\r\n", timeout=60, concurrency=1000)
    offset = ctx.node.log_offset()
    started = time.monotonic()
    with ctx.attack():
        flood = Flood(plan, total, ctx.port, processes=ctx.scale(2, 1)).start()
        summary = flood.wait(timeout=300)
        # The node is full: a newcomer is refused at once, probes still answer.
        newcomer = web.get(ctx.port, "/events?user=atk-newcomer", timeout=5)
        time.sleep(ctx.scale(3, 1))
        flood.release()
    seconds = time.monotonic() - started
    opened, refused = summary.count("200 stream"), summary.count("503")
    threads = 2  # two event loops may both admit a stream at the limit's edge
    expected = limit - ctx.spec.bystanders
    ctx.figure("attacker", f"{opened:,} opened, 503×{refused:,} ({summary.retry_after:,} with Retry-After), "
                           f"other {summary.total - opened - refused}; {_answer_times(summary)}")
    ctx.check(expected <= opened <= expected + threads, f"{opened:,} streams opened, the limit leaves room for {expected:,}")
    ctx.check(opened + refused == total, f"attacker got something else than a stream or 503: {summary.describe()}")
    ctx.check(summary.retry_after >= refused, f"{refused - summary.retry_after} refusals without Retry-After")
    ctx.check(newcomer.status == 503 and newcomer.seconds < 2, f"a newcomer while full got {newcomer}")
    lines = _limit_lines(ctx, offset, "connection limit reached")
    ctx.figure("log", f"{lines} limit line(s)")
    ctx.check(1 <= lines <= math.ceil(seconds / 10) + 1, f"{lines} 'connection limit reached' lines in {seconds:.0f} s (rate-limited: one per 10 s)")


@case("slowloris", "2,000 request heads sent a byte a second, never finished")
def slowloris(ctx):
    count = ctx.scale(2000, 300)
    plan = Plan(b"GET /events?user=atk-slow-{n} HTTP/1.1\r\n", drip=b"X-Slow: " + b"a" * 64 + b"\r\n",
                drip_every=1.0, finish="close", timeout=ctx.settings.request_timeout + 10)
    offset = ctx.node.log_offset()
    with ctx.attack():
        summary = Flood(plan, count, ctx.port).start().wait(timeout=120)
    ctx.figure("attacker", f"{summary.describe()}; closed after p50 {summary.percentile(0.5):.1f} s, max {max(summary.seconds):.1f} s")
    _cut_off_in_time(ctx, summary, "slow head")
    lines = _limit_lines(ctx, offset, "request head did not arrive in time")
    ctx.check(lines >= 1, "no log line about heads that did not arrive in time")


def _stalled_bodies(ctx, request, count, what):
    """`count` POSTs that each stop short of the body they announced: 408 for each, in time."""
    plan = Plan(request, finish="close", timeout=ctx.settings.request_timeout + 10)
    with ctx.attack():
        summary = Flood(plan, count, ctx.port).start().wait(timeout=180)
    ctx.figure("attacker", f"{summary.describe()}; closed after max {max(summary.seconds):.1f} s")
    _cut_off_in_time(ctx, summary, what)
    ctx.check(summary.count("408 then closed") == count, f"expected 408 for every {what}: {summary.describe()}")


@case("unfinished-bodies", "3,000 POSTs announcing 64 KiB and sending 60 KiB of it")
def unfinished_bodies(ctx):
    head = b"POST /publish HTTP/1.1\r\nHost: sse\r\nContent-Type: application/json\r\nContent-Length: 65536\r\n\r\n"
    _stalled_bodies(ctx, head + b" " * 61440, ctx.scale(3000, 300), "unfinished body")


@case("endless-chunked", "chunked bodies that never end: a slow drip (408) and a fast one past the size limit (413)")
def endless_chunked(ctx):
    head = b"POST /publish HTTP/1.1\r\nHost: sse\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    slow_chunk = b"6\r\n      \r\n"  # six blanks: valid JSON so far, never finished
    fast_chunk = b"1000\r\n" + b" " * 4096 + b"\r\n"
    slow = Plan(head, drip=slow_chunk, drip_size=len(slow_chunk), drip_every=0.5, finish="close",
                timeout=ctx.settings.request_timeout + 10)
    fast = Plan(head, drip=fast_chunk, drip_size=len(fast_chunk), drip_every=0.01, finish="close", timeout=20)
    slow_count, fast_count = ctx.scale(200, 50), 10
    with ctx.attack():
        slow_flood = Flood(slow, slow_count, ctx.port).start()
        fast_summary = Flood(fast, fast_count, ctx.port).start().wait(timeout=60)
        slow_summary = slow_flood.wait(timeout=120)
    ctx.figure("attacker", f"slow: {slow_summary.describe()}; fast: {fast_summary.describe()}")
    _cut_off_in_time(ctx, slow_summary, "endless chunked body")
    ctx.check(slow_summary.count("408 then closed") == slow_count, f"expected 408 for every slow chunked body: {slow_summary.describe()}")
    # Past the limit the node answers 413 and closes; a client still sending may see the close first.
    refused = fast_summary.count("413 then closed") + fast_summary.count("closed")
    ctx.check(refused == fast_count and fast_summary.count("413 then closed") >= 1,
              f"expected 413 (or a close) for bodies past the size limit: {fast_summary.describe()}")
    ctx.check(max(fast_summary.seconds, default=0) < 5, "bodies past the size limit were not cut off at once")


@case("short-content-length", "POSTs whose Content-Length is larger than what they send")
def short_content_length(ctx):
    body = b'{"target": {"type": "user", "id": "atk-cl"}, "data": "x"}'
    head = b"POST /publish HTTP/1.1\r\nHost: sse\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n"
    _stalled_bodies(ctx, head + body, ctx.scale(500, 100), "short body")


@case("huge-head", "request heads past http.maxHeaderSize: one 64 KiB field, or 200 fields")
def huge_head(ctx):
    count = ctx.scale(500, 100)
    big_field = Plan(b"GET /events?user=atk-big-{n} HTTP/1.1\r\nHost: sse\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n",
                     finish="close", timeout=15)
    many_fields = Plan(b"GET /events?user=atk-fields-{n} HTTP/1.1\r\nHost: sse\r\n"
                       + b"".join(b"X-F%d: 1\r\n" % i for i in range(200)) + b"\r\n", finish="close", timeout=15)
    with ctx.attack():
        big = Flood(big_field, count, ctx.port).start().wait(timeout=60)
        many = Flood(many_fields, count, ctx.port).start().wait(timeout=60)
    ctx.figure("attacker", f"64 KiB field: {big.describe()}; 200 fields: {many.describe()}")
    for what, summary in (("a 64 KiB field", big), ("200 fields", many)):
        # The node answers 431 and closes; a client still sending may see only the close.
        clear = summary.count("431 then closed") + summary.count("closed")
        ctx.check(clear == count and summary.count("431 then closed") > 0, f"heads with {what}: {summary.describe()}")
        ctx.check(max(summary.seconds, default=0) < 5, f"heads with {what} were not refused at once")


@case("per-address-cap", "streams from one address past --max-connections-per-address; another address still gets in",
      node_args=["--max-connections-per-address", "50"])
def per_address_cap(ctx):
    cap = 50
    plan = Plan(b"GET /events?user=atk-addr-{n} HTTP/1.1\r\nHost: sse\r\n\r\n", sources=["127.0.0.2"], timeout=20)
    with ctx.attack():
        flood = Flood(plan, cap + 100, ctx.port).start()
        summary = flood.wait(timeout=60)
        other = ctx.stream({"user": "atk-other-address"}, source="127.0.0.3")
        other_opened = other.wait_open(10)
        other.close()
        flood.release()
    ctx.figure("attacker", f"{summary.describe()} ({summary.retry_after} with Retry-After); another address {'opened' if other_opened else 'refused'}")
    ctx.check(summary.count("200 stream") == cap, f"{summary.count('200 stream')} streams from one address, cap {cap}")
    ctx.check(summary.count("429") == 100 and summary.retry_after == 100, f"past the cap: {summary.describe()}")
    ctx.check(other_opened, "a stream from another address was refused")


@case("emfile", "more connections than the node has file descriptors (a 512 limit): accept backs off, then serves",
      fd_limit=512)
def emfile(ctx):
    count = 700
    plan = Plan(b"GET /events?user=atk-fd-{n} HTTP/1.1\r\nHost: sse\r\n\r\n", timeout=8, concurrency=count)
    offset = ctx.node.log_offset()
    with ctx.attack():
        flood = Flood(plan, count, ctx.port).start()
        summary = flood.wait(timeout=60)
        # While out of descriptors the node must sleep, not spin on accept.
        cpu_before = ctx.node.cpu_seconds()
        time.sleep(5)
        cpu = ctx.node.cpu_seconds() - cpu_before
        flood.release()
    served = web.get(ctx.port, "/healthz", timeout=5)
    ctx.figure("attacker", f"{summary.describe()}; node CPU {cpu:.2f} s over 5 s while out of descriptors")
    ctx.check(cpu < 1.0, f"the node used {cpu:.2f} s of CPU in 5 s while out of descriptors (spinning on accept?)")
    ctx.check(served.status == 200, f"GET /healthz once the connections closed: {served}")
    lines = [line for line in ctx.node.log_since(offset) if "EMFILE" in line or "descriptors" in line]
    ctx.check(lines, "no log line about running out of file descriptors")
    # While out of descriptors no probe can connect: that is the point.
    ctx.probes.failures.clear()
    ctx.probes.longest_streak = 0
