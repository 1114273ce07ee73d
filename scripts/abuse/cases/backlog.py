"""Clients that resume a large channel backlog and then read nothing: the node must bound what it
buffers for them (sse.maxBufferedBytes) and close them as slow, not hold the backlog once per client."""

import concurrent.futures
import socket
import time
import urllib.parse

import web
from case import case


def _publish_backlog(port, channel, events, size):
    data = "b" * size
    payload = lambda i: {"target": {"type": "channel", "id": channel}, "data": f"{i:06d}{data}"}
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda i: web.publish(port, payload(i), timeout=30), range(events)))
    return sum(a.status == 202 for a in answers)


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


@case("resume-backlog", "10 clients resume a 64 MB channel backlog and read nothing")
def resume_backlog(ctx):
    channel = "atk-backlog"
    events, size = ctx.scale(1000, 200), ctx.scale(64_000, 30_000)
    clients = ctx.scale(10, 5)
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
    ctx.figure("attacker", f"{clients} silent clients on a {backlog_mb:.0f} MB backlog: closed by the node {closed}, "
                           f"read before the close {max(r for r, _ in drained) / 1e6:.1f} MB at most")
    ctx.figure("growth", f"{growth:.0f} MB at the peak (bound: {backlog_mb:.0f} MB, one backlog)")
    ctx.check(closed == clients, f"{clients - closed} silent clients were not closed as slow")
    ctx.check(growth <= backlog_mb, f"the node grew {growth:.0f} MB for {clients} clients of a {backlog_mb:.0f} MB backlog")
