#!/usr/bin/env python3
"""Memory a node gives back: RSS before, at the peak and after each load phase (BENCHMARKS.md, "Memory").

    memory.py --url http://127.0.0.1:18700 --pid PID [--api-key K] [--streams 19000] [--slow 1000]
              [--settle 10] [--json]

Phases, one after the other on one node:
  streams  open --streams idle streams (one socket each, several source addresses), read their
           heads, then close them all;
  slow     open --slow streams that never read, publish channel events of 8 KiB until the node has cut
           every one off as a slow client (sse.maxBufferedBytes), then close what is left;
  publish  post --publish-batches arrays of 50 events of 1 KiB to one channel nobody reads
           (the node parses, stores and routes them).
After each phase it waits --settle seconds and reads VmRSS again. Prints one line per phase and, with
--json, a RESULT line. Loopback only; every socket operation has a timeout.
"""
import argparse
import json
import socket
import sys
import time
import urllib.error
import urllib.request


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Node:
    def __init__(self, url, api_key):
        self.url = url.rstrip("/")
        host_port = self.url.split("//", 1)[1]
        self.host, port = host_port.split(":")
        self.port = int(port)
        self.api_key = api_key

    def publish(self, body):
        request = urllib.request.Request(self.url + "/publish", data=json.dumps(body).encode(), method="POST")
        request.add_header("Content-Type", "application/json")
        if self.api_key:
            request.add_header("X-API-Key", self.api_key)
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status

    def open_streams(self, count, path, read_head=True):
        """Opens count streams from 127.0.0.1..127.0.0.8; returns the sockets."""
        sockets = []
        request = f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\nAccept: text/event-stream\r\n\r\n".encode()
        for i in range(count):
            s = socket.socket()
            s.settimeout(10)
            s.bind((f"127.0.0.{1 + i % 8}", 0))
            s.connect((self.host, self.port))
            s.sendall(request)
            sockets.append(s)
        if read_head:
            for s in sockets:
                head = s.recv(4096)
                if not head.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(f"stream refused: {head[:80]!r}")
        return sockets


def close_all(sockets):
    for s in sockets:
        try:
            s.close()
        except OSError:
            pass


def still_open(s):
    """True while the node has not closed the stream (reads and drops what it sent)."""
    s.setblocking(False)
    try:
        while True:
            data = s.recv(1 << 16)
            if not data:
                return False
    except BlockingIOError:
        return True
    except OSError:
        return False


def phase_streams(node, n):
    sockets = node.open_streams(n, "/events?channel=mem-idle")
    return sockets, {}


def phase_slow(node, n):
    # A small receive buffer so the node's own buffer fills after a few events.
    sockets = []
    request = f"GET /events?channel=mem-slow HTTP/1.1\r\nHost: {node.host}\r\n\r\n".encode()
    for i in range(n):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(10)
        s.bind((f"127.0.0.{1 + i % 8}", 0))
        s.connect((node.host, node.port))
        s.sendall(request)
        sockets.append(s)
    time.sleep(1)  # no event to await: the heads arrive unread, by design
    data = "x" * 8192
    published = 0
    deadline = time.monotonic() + 120
    peak = 0
    while time.monotonic() < deadline:
        node.publish([{"target": {"type": "channel", "id": "mem-slow"}, "event": "bulk", "data": data, "ephemeral": True} for _ in range(6)])
        published += 6
        if published % 120 == 0:
            peak = max(peak, rss_kib(node.pid))
            if not any(still_open(s) for s in sockets[:: max(1, n // 50)]):
                break
    return sockets, {"published": published, "peakDuring": peak}


def phase_publish(node, batches):
    body = [{"target": {"type": "channel", "id": "mem-publish"}, "data": "y" * 1024} for _ in range(50)]
    peak = 0
    for _ in range(batches):
        node.publish(body)
        peak = max(peak, rss_kib(node.pid))
    return [], {"peakDuring": peak}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--api-key", default="")
    parser.add_argument("--streams", type=int, default=19000)
    parser.add_argument("--slow", type=int, default=1000)
    parser.add_argument("--publish-batches", type=int, default=1000)
    parser.add_argument("--settle", type=float, default=10)
    parser.add_argument("--phases", default="streams,slow,publish")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    node = Node(args.url, args.api_key)
    node.pid = args.pid
    results = {"start": rss_kib(args.pid), "phases": []}
    print(f"start: {results['start'] / 1024:.1f} MiB", flush=True)
    for name in args.phases.split(","):
        before = rss_kib(args.pid)
        if name == "streams":
            sockets, extra = phase_streams(node, args.streams)
        elif name == "slow":
            sockets, extra = phase_slow(node, args.slow)
        elif name == "publish":
            sockets, extra = phase_publish(node, args.publish_batches)
        else:
            sys.exit(f"unknown phase {name}")
        time.sleep(1)
        peak = max(rss_kib(args.pid), extra.get("peakDuring", 0))
        close_all(sockets)
        time.sleep(args.settle)  # what the allocator gives back over time is the measurement
        after = rss_kib(args.pid)
        row = {"phase": name, "before": before, "peak": peak, "after": after, **extra}
        results["phases"].append(row)
        print(f"{name}: before {before / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB, "
              f"after {args.settle:g} s {after / 1024:.1f} MiB", flush=True)
    if args.json:
        print("RESULT " + json.dumps(results))


if __name__ == "__main__":
    main()
