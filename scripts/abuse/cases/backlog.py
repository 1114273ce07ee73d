"""Clients that resume a large channel backlog and then read nothing: the node must bound what it
buffers for them (sse.maxBufferedBytes) and close them as slow, not hold the backlog once per client."""

import concurrent.futures
import socket
import time
import urllib.parse

import web
from case import RSS_BOUND_MB, case


def _publish_backlog(port, channel, events, size):
    """Publishes `events` events of `size` bytes to the channel, as many to a request as fit in one
    body; returns how many were accepted."""
    data = "b" * size
    per_request = max(1, 60_000 // (size + 80))
    batches = [list(range(start, min(events, start + per_request))) for start in range(0, events, per_request)]
    payload = lambda batch: [{"target": {"type": "channel", "id": channel}, "data": f"{i:06d}{data}"} for i in batch]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda batch: web.publish(port, payload(batch), timeout=30), batches))
    return sum(len(batch) for batch, answer in zip(batches, answers) if answer.status == 202)


def _silent_client(port, query, last_event_id):
    """A stream request from a client that will not read: a receive buffer of 4 KiB, never emptied."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    request = (f"GET /events?{urllib.parse.urlencode(query)} HTTP/1.1\r\nHost: sse\r\n"
               f"Last-Event-ID: {last_event_id}\r\n\r\n")
    sock.sendall(request.encode())
    return sock


def _drain(sock, timeout):
    """Reads what the node sent until it closed: (bytes, closed)."""
    received = 0
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            chunk = sock.recv(1 << 20)
            if not chunk:
                return received, True
            received += len(chunk)
    except socket.timeout:
        return received, False
    except ConnectionResetError:
        return received, True
    finally:
        sock.close()
    return received, False


@case("resume-backlog", "10 clients resume a 64 MB channel backlog and read nothing",
      # A replay that makes no progress for two heartbeats is a slow client: beats 2 s apart find it soon.
      node_args=["--heartbeat-interval", "2"])
def resume_backlog(ctx):
    channel = "atk-backlog"
    # The short run's events are small, so that it too holds far more than a page per client.
    events, size = 1000, ctx.scale(64_000, 6_000)
    clients = 10
    first = ctx.stream({"user": "atk-backlog-origin", "channel": channel})
    ctx.require(first.wait_open(10), "the stream giving the resume position did not open")
    origin = first.events[0].id
    first.close()
    published = _publish_backlog(ctx.port, channel, events, size)
    ctx.require(published == events, f"only {published} of {events} backlog events were accepted")
    backlog_mb = events * size / 1e6
    with ctx.attack():
        silent = [_silent_client(ctx.port, {"user": f"atk-backlog-{i}", "channel": channel}, origin) for i in range(clients)]
        time.sleep(ctx.scale(15, 8))
        peak = ctx.node.rss_mb()
        drained = [_drain(sock, 20) for sock in silent]
    closed = sum(c for _, c in drained)
    growth = max(peak, ctx.rss_peak) - ctx.rss_before
    # Holding each client's backlog would grow the node by clients × backlog (and did, twice that: 1.28 GB
    # for 10 × 64 MB); paced, a client costs a page and its channel's bound. A quarter of what they
    # missed, and never less than any case may move the node, tells the two apart.
    bound = max(RSS_BOUND_MB, clients * backlog_mb / 4)
    ctx.figure("attacker", f"{clients} silent clients on a {backlog_mb:.0f} MB backlog: closed by the node {closed}, "
                           f"read before the close {max(r for r, _ in drained) / 1e6:.1f} MB at most")
    ctx.figure("growth", f"{growth:.0f} MB at the peak (bound {bound:.0f} MB)")
    ctx.check(closed == clients, f"{clients - closed} silent clients were not closed as slow")
    ctx.check(growth <= bound, f"the node grew {growth:.0f} MB for {clients} clients of a {backlog_mb:.0f} MB backlog")
