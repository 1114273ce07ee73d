"""Requests that are legal bytes but odd: a resume position from the future, requests pipelined behind
a stream's, control characters in ids, an empty publication id, HEAD probes, HTTP/0.9."""

import json
import time

import web
from flood import Flood, Plan
from case import case

# The largest position a resume token can name: Redis answers "ERR invalid start ID" past it.
FUTURE_TOKEN = "1.u~3w5e11264sgsf-3w5e11264sgsf"


def _is_json_error(response):
    body = response.json()
    return isinstance(body, dict) and isinstance(body.get("error"), str)


@case("future-last-event-id", "streams resuming from the largest position a token can name")
def future_last_event_id(ctx):
    count = ctx.scale(20, 5)
    with ctx.attack():
        streams = [ctx.stream({"user": f"atk-future-{i}"}, headers={"Last-Event-ID": FUTURE_TOKEN}) for i in range(count)]
        opened = sum(s.wait_open(10) for s in streams)
        reset = sum(s.wait_for(lambda e: e.event == "reset", 5) is not None for s in streams)
        time.sleep(1)  # a stream about to close (and reconnect) would do so now
        delivered = 0
        for index, stream in enumerate(streams):
            web.publish_to_user(ctx.port, f"atk-future-{index}", "after-reset")
            delivered += stream.wait_for(lambda e: e.data == "after-reset", 5) is not None
        resets = [sum(e.event == "reset" for e in s.events) for s in streams]
        still_open = sum(not s.closed for s in streams)
        # Reconnecting with the last id the stream gave carries on without another reset.
        again = []
        for index, stream in enumerate(streams):
            ids = [e.id for e in stream.events if e.id]
            stream.close()
            again.append(ctx.stream({"user": f"atk-future-{index}"}, headers={"Last-Event-ID": ids[-1]} if ids else {}))
        reopened = sum(s.wait_open(10) for s in again)
        time.sleep(0.5)
        second_resets = sum(any(e.event == "reset" for e in s.events) for s in again)
        for stream in again:
            stream.close()
    ctx.figure("attacker", f"{opened}/{count} opened, reset once: {resets.count(1)}, open after: {still_open}, "
                           f"live event after: {delivered}; reconnected {reopened}, reset again: {second_resets}")
    ctx.check(opened == count and reset == count and resets.count(1) == count, f"resets per stream: {resets}")
    ctx.check(still_open == count and delivered == count, "streams with a future token closed or got no live event")
    ctx.check(reopened == count and second_resets == 0, f"{second_resets} streams reset again when resuming with their last id")


@case("pipelining", "a publish and a probe pipelined behind GET /events, in its write or right after it")
def pipelining(ctx):
    count = ctx.scale(50, 10)
    # The pipelined publish goes to a stream already registered, so it would arrive if it ran.
    watcher = ctx.stream({"user": "atk-pipe-watch"})
    ctx.require(watcher.wait_open(10), "the watching stream did not open")
    body = json.dumps({"target": {"type": "user", "id": "atk-pipe-watch"}, "data": "PIPELINED"}).encode()
    behind = (b"POST /publish HTTP/1.1\r\nHost: sse\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
              b"GET /healthz HTTP/1.1\r\nHost: sse\r\n\r\n" % (len(body), body))
    streams = []
    with ctx.attack():
        for index in range(count):
            # Half send it with the request, half in a write of its own while the stream opens.
            together = index % 2 == 0
            stream = ctx.stream({"user": f"atk-pipe-{index}"}, extra=behind if together else b"")
            if not together:
                stream.send(behind)
            streams.append(stream)
        opened = sum(s.wait_open(10) for s in streams)
        web.publish_to_user(ctx.port, "atk-pipe-watch", "normal")
        normal = watcher.wait_for(lambda e: e.data == "normal", 5) is not None
        pipelined = sum(e.data == "PIPELINED" for e in watcher.events)
        stored = ctx.redis.call("XLEN", "sse:history:user:atk-pipe-watch")
        answered = sum(b"HTTP/1.1" in s.raw for s in streams)
        first = sum(s.head.startswith(b"HTTP/1.1 200") for s in streams)
        for stream in streams + [watcher]:
            stream.close()
    ctx.figure("attacker", f"{opened}/{count} streams opened, their head first {first}; pipelined publishes delivered "
                           f"{pipelined}, stored {stored - 1}; answers written into a stream {answered}")
    ctx.check(opened == count and first == count, "a stream's head was not the first answer on its connection")
    ctx.check(pipelined == 0 and stored == 1, f"{max(pipelined, stored - 1)} pipelined publishes were run")
    ctx.check(answered == 0, f"{answered} streams carry an answer to a pipelined request")
    ctx.check(normal, "the watcher missed the event published normally")


@case("control-chars", "NUL, CR and LF in target ids, users, channels, devices and event names")
def control_chars(ctx):
    bad = ["atk-a\u0000b", "atk-a\r\nb", "atk-a\nb", "atk-a\rb"]
    refused, other = 0, []
    offset = ctx.node.log_offset()
    with ctx.attack():
        for value in bad:
            publishes = [
                {"target": {"type": "user", "id": value}, "data": "x"},
                {"target": {"type": "channel", "id": value}, "data": "x"},
                {"targets": [{"type": "user", "id": "atk-ok"}, {"type": "user", "id": value}], "data": "x"},
                {"target": {"type": "client", "user": value, "id": "tab"}, "data": "x"},
                {"target": {"type": "user", "id": "atk-ok"}, "event": value, "data": "x"},
                {"target": {"type": "user", "id": "atk-ok"}, "id": value, "data": "x"},
            ]
            for payload in publishes:
                answer = web.publish(ctx.port, payload)
                if answer.status == 400 and _is_json_error(answer):
                    refused += 1
                else:
                    other.append(f"publish {json.dumps(payload)[:60]}: {answer.status or answer.error}")
            encoded = "".join(f"%{b:02X}" for b in value.encode())
            for parameter in ("user", "channel", "clientId"):
                answer = web.get(ctx.port, f"/events?user=atk-ok&{parameter}={encoded}" if parameter != "user" else f"/events?user={encoded}")
                if answer.status == 400 and _is_json_error(answer):
                    refused += 1
                else:
                    other.append(f"GET /events {parameter}={encoded}: {answer.status or answer.error}")
    keys = [k for k in ctx.redis.scan("sse:*") if any(c in k for c in "\x00\r\n")]
    logged = sum("refused" in line for line in ctx.node.log_since(offset))
    ctx.figure("attacker", f"400 with a JSON error ×{refused}, other {len(other)}; keys with control characters {len(keys)}; "
                           f"{logged} log lines")
    ctx.check(not other, "not refused with 400: " + "; ".join(other[:4]))
    ctx.check(logged >= refused, f"{refused} refusals, {logged} log lines saying so")
    ctx.check(not keys, f"Redis keys with control characters: {keys[:3]}")


@case("empty-id", 'publishes with "id": "" (alone and in an array)')
def empty_id(ctx):
    with ctx.attack():
        single = web.publish(ctx.port, {"target": {"type": "user", "id": "atk-empty"}, "data": "x", "id": ""})
        batch = web.publish(ctx.port, [{"target": {"type": "user", "id": "atk-empty"}, "data": "x"},
                                       {"target": {"type": "user", "id": "atk-empty"}, "data": "x", "id": ""}])
    claimed = ctx.redis.call("EXISTS", "sse:idem:", "sse:idem:|")
    stored = ctx.redis.call("XLEN", "sse:history:user:atk-empty")
    ctx.figure("attacker", f"alone {single.status}, in an array {batch.status}; sse:idem: {'exists' if claimed else 'absent'}, stored {stored}")
    ctx.check(single.status == 400 and _is_json_error(single), f'"id": "" alone got {single.status}')
    ctx.check(batch.status == 400 and _is_json_error(batch), f'"id": "" in an array got {batch.status}')
    ctx.check(not claimed and stored == 0, "an empty id claimed sse:idem: or stored an event")


@case("head-probes", "HEAD /healthz and HEAD /readyz, as load balancers send them")
def head_probes(ctx):
    count = ctx.scale(200, 50)
    answers = {}
    with ctx.attack():
        for index in range(count):
            path = "/healthz" if index % 2 == 0 else "/readyz"
            raw, closed, seconds = web.exchange(ctx.port, f"HEAD {path} HTTP/1.1\r\nHost: sse\r\nConnection: close\r\n\r\n".encode())
            head, _, body = raw.partition(b"\r\n\r\n")
            status = head.split(b" ", 2)[1].decode() if head.startswith(b"HTTP/") else "none"
            key = f"{path} {status}" + (" with a body" if body else "") + ("" if closed else " held")
            answers[key] = answers.get(key, 0) + 1
    ctx.figure("attacker", ", ".join(f"{k}×{n}" for k, n in sorted(answers.items())))
    ctx.check(set(answers) <= {"/healthz 200", "/readyz 200"}, f"HEAD probes got {answers}")


@case("http09", "HTTP/0.9 request lines (no version, no head)")
def http09(ctx):
    count = ctx.scale(50, 10)
    timeout = ctx.settings.request_timeout + 5
    probe = Plan(b"GET /healthz\r\n", finish="close", timeout=timeout)
    stream = Plan(b"GET /events?user=atk-09-{n}\r\n\r\n", finish="close", timeout=timeout)
    with ctx.attack():
        probes = Flood(probe, count, ctx.port).start()
        streams = Flood(stream, count, ctx.port).start()
        probes, streams = probes.wait(60), streams.wait(60)
    ctx.figure("attacker", f"GET /healthz: {probes.describe()}; GET /events: {streams.describe()}; "
                           f"closed after max {max(probes.seconds + streams.seconds):.1f} s")
    for what, summary in (("GET /healthz", probes), ("GET /events", streams)):
        clear = sum(n for key, n in summary.outcomes.items() if key[:1] == "4" or key == "closed")
        ctx.check(clear == count, f"HTTP/0.9 {what} got {summary.describe()}")
