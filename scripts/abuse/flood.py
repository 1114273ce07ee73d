"""Thousands of attacking connections at once, spread over worker processes (one process may open at
most 20,000 files here), each driving its share with one selector.

Every connection of a flood follows one `Plan`: connect, send the request, then maybe keep sending a
drip of bytes that never completes it, and wait for the node's answer or its close, within a timeout.
A connection that got neither is a hang. Streams that opened can be held until `release()`."""

import errno
import multiprocessing
import selectors
import socket
import time
from dataclasses import dataclass, field


@dataclass
class Plan:
    request: bytes  # "{n}" is replaced by the connection's number
    finish: str = "answer"  # "answer": a whole response (a stream: its head and first event); "close": the node's close
    drip: bytes = b""  # sent `drip_size` bytes every `drip_every` seconds after the request, forever
    drip_every: float = 1.0
    drip_size: int = 1
    timeout: float = 30.0  # per connection, from its connect
    concurrency: int = 0  # most connections waiting for an answer at once (0: all)
    sources: list = field(default_factory=lambda: ["127.0.0.1"])
    rcvbuf: int = 0  # a small receive buffer makes a client that does not read fill up quickly


class Summary:
    """What a flood's connections got: counts by outcome, and how long each took."""

    def __init__(self):
        self.outcomes = {}  # "200 stream", "503", "closed", "hang", "connect EMFILE", ...
        self.retry_after = 0
        self.seconds = []
        self.received = 0

    def add(self, other):
        for key, count in other.outcomes.items():
            self.outcomes[key] = self.outcomes.get(key, 0) + count
        self.retry_after += other.retry_after
        self.seconds.extend(other.seconds)
        self.received += other.received

    def count(self, key):
        return self.outcomes.get(key, 0)

    @property
    def total(self):
        return sum(self.outcomes.values())

    def percentile(self, share):
        if not self.seconds:
            return 0.0
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    def describe(self):
        parts = [f"{key}×{count:,}" for key, count in sorted(self.outcomes.items(), key=lambda kv: -kv[1])]
        return ", ".join(parts) or "nothing"


class Flood:
    def __init__(self, plan, count, port, processes=1):
        self.plan = plan
        self.count = count
        self.port = port
        context = multiprocessing.get_context("spawn")
        self.workers = []
        for index in range(processes):
            numbers = range(index, count, processes)
            parent, child = context.Pipe()
            process = context.Process(target=_worker, args=(plan, list(numbers), port, child), daemon=True)
            self.workers.append((process, parent))

    def start(self):
        for process, _ in self.workers:
            process.start()
        return self

    def wait(self, timeout):
        """Waits until every connection was answered, closed or timed out; returns the `Summary`.
        Streams that opened stay open until `release()`; without any, the workers end here."""
        summary = Summary()
        deadline = time.monotonic() + timeout
        for _, pipe in self.workers:
            if not pipe.poll(max(0.0, deadline - time.monotonic())):
                self.release()
                raise TimeoutError("a flood worker did not report in time")
            summary.add(pipe.recv())
        if not summary.count("200 stream"):
            self.release()
        return summary

    def release(self):
        """Closes the streams held open; returns once every worker closed its sockets."""
        for process, pipe in self.workers:
            if process.is_alive():
                pipe.send("release")
        for process, pipe in self.workers:
            if process.is_alive() and pipe.poll(60):
                pipe.recv()
            process.join(10)
            if process.is_alive():
                process.kill()


class _Connection:
    def __init__(self, number, plan):
        self.number = number
        self.request = plan.request.replace(b"{n}", str(number).encode())
        self.outbox = b""
        self.received = b""
        self.started = 0.0
        self.next_drip = 0.0
        self.drip_at = 0
        self.connected = False
        self.done = False
        self.sock = None


def _worker(plan, numbers, port, pipe):
    summary, held = _attack(plan, numbers, port)
    pipe.send(summary)
    try:
        pipe.recv()  # "release"
    except EOFError:
        pass  # the suite is gone: close anyway
    for sock in held:
        sock.close()
    try:
        pipe.send("released")
    except OSError:
        pass


def _attack(plan, numbers, port):
    summary = Summary()
    selector = selectors.DefaultSelector()
    waiting = list(reversed(numbers))
    live = {}
    held = []
    limit = plan.concurrency or len(numbers)

    def finish(conn, outcome, keep=False):
        conn.done = True
        summary.outcomes[outcome] = summary.outcomes.get(outcome, 0) + 1
        summary.seconds.append(time.monotonic() - conn.started)
        summary.received += len(conn.received)
        head = conn.received.split(b"\r\n\r\n", 1)[0].lower()
        if b"\r\nretry-after:" in head:
            summary.retry_after += 1
        try:
            selector.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        del live[conn.sock.fileno()]
        if keep:
            held.append(conn.sock)
        else:
            conn.sock.close()

    def answered(conn):
        """The outcome when the connection's answer is complete, else None."""
        data = conn.received
        if b"\r\n\r\n" not in data:
            return None
        head, body = data.split(b"\r\n\r\n", 1)
        status = head.split(b" ", 2)[1].decode(errors="replace") if head.startswith(b"HTTP/") else "?"
        if status == "200" and b"text/event-stream" in head.lower():
            return "200 stream" if b"\n\n" in body else None
        for line in head.lower().split(b"\r\n"):
            if line.startswith(b"content-length:") and len(body) >= int(line.split(b":")[1]):
                return status
        return None

    def on_close(conn):
        status = answered(conn)
        if status is None and conn.received.startswith(b"HTTP/"):
            status = conn.received.split(b" ", 2)[1].decode(errors="replace")
        finish(conn, f"{status} then closed" if status else "closed")

    while waiting or live:
        now = time.monotonic()
        # Start connections while under the concurrency limit, a few hundred per turn.
        started = 0
        while waiting and len(live) < limit and started < 200:
            conn = _Connection(waiting.pop(), plan)
            conn.started = now
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if plan.rcvbuf:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, plan.rcvbuf)
            sock.setblocking(False)
            try:
                sock.bind((plan.sources[conn.number % len(plan.sources)], 0))
                code = sock.connect_ex(("127.0.0.1", port))
            except OSError as error:
                code = error.errno
            if code not in (0, errno.EINPROGRESS):
                sock.close()
                key = f"connect {errno.errorcode.get(code, code)}"
                summary.outcomes[key] = summary.outcomes.get(key, 0) + 1
                continue
            conn.sock = sock
            live[sock.fileno()] = conn
            selector.register(sock, selectors.EVENT_WRITE, conn)
            started += 1
        for key, mask in selector.select(timeout=0.05):
            conn = key.data
            if conn.done:
                continue
            if not conn.connected:
                code = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if code:
                    finish(conn, f"connect {errno.errorcode.get(code, code)}")
                    continue
                conn.connected = True
                conn.outbox = conn.request
                conn.next_drip = time.monotonic() + plan.drip_every
            if mask & selectors.EVENT_READ:
                try:
                    chunk = conn.sock.recv(65536)
                except ConnectionResetError:
                    chunk = None
                except BlockingIOError:
                    chunk = b""
                    continue
                if not chunk:
                    on_close(conn)
                    continue
                conn.received += chunk
                if plan.finish == "answer":
                    outcome = answered(conn)
                    if outcome:
                        finish(conn, outcome, keep=outcome == "200 stream")
                        continue
            if conn.outbox:
                try:
                    sent = conn.sock.send(conn.outbox)
                    conn.outbox = conn.outbox[sent:]
                except BlockingIOError:
                    pass
                except OSError:
                    on_close(conn)
                    continue
            wanted = selectors.EVENT_READ | (selectors.EVENT_WRITE if conn.outbox else 0)
            if key.events != wanted:
                selector.modify(conn.sock, wanted, conn)
        now = time.monotonic()
        for conn in list(live.values()):
            if conn.done:
                continue
            if now - conn.started > plan.timeout:
                finish(conn, "hang")
            elif plan.drip and conn.connected and now >= conn.next_drip:
                piece = bytes(plan.drip[(conn.drip_at + i) % len(plan.drip)] for i in range(plan.drip_size))
                conn.drip_at += plan.drip_size
                conn.next_drip = now + plan.drip_every
                try:
                    conn.sock.send(piece)
                except BlockingIOError:
                    pass
                except OSError:
                    on_close(conn)
    return summary, held
