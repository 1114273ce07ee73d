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
    """One attacking socket and where it stands."""

    def __init__(self, number, plan):
        self.number = number
        self.outbox = plan.request.replace(b"{n}", str(number).encode())
        self.received = b""
        self.started = time.monotonic()
        self.next_drip = 0.0
        self.drip_at = 0
        self.connected = False
        self.sock = None

    def status(self):
        """The answer's status code, once its head arrived."""
        if not self.received.startswith(b"HTTP/") or b"\r\n" not in self.received:
            return None
        return self.received.split(b" ", 2)[1].decode(errors="replace")

    def answer(self):
        """The outcome once the whole answer is here (a stream: its head and first event), else None."""
        if b"\r\n\r\n" not in self.received:
            return None
        head, body = self.received.split(b"\r\n\r\n", 1)
        if self.status() == "200" and b"text/event-stream" in head.lower():
            return "200 stream" if b"\n\n" in body else None
        for line in head.lower().split(b"\r\n"):
            if line.startswith(b"content-length:") and len(body) >= int(line.split(b":")[1]):
                return self.status() or "?"
        return None


def _worker(plan, numbers, port, pipe):
    attack = _Attack(plan, numbers, port)
    attack.run()
    pipe.send(attack.summary)
    try:
        pipe.recv()  # "release"
    except EOFError:
        pass  # the suite is gone: close anyway
    for sock in attack.held:
        sock.close()
    try:
        pipe.send("released")
    except OSError:
        pass


class _Attack:
    """Drives one worker's share of a flood with one selector until every connection finished."""

    def __init__(self, plan, numbers, port):
        self.plan = plan
        self.port = port
        self.waiting = list(reversed(numbers))
        self.live = {}  # fd -> _Connection
        self.held = []  # sockets of streams that opened, kept until released
        self.summary = Summary()
        self.selector = selectors.DefaultSelector()
        self.limit = plan.concurrency or len(numbers)

    def run(self):
        while self.waiting or self.live:
            self._start_connections()
            for key, mask in self.selector.select(timeout=0.05):
                if self.live.get(key.fd) is key.data:  # not finished earlier in this turn
                    self._serve(key, mask)
            self._tick()

    def _count(self, outcome):
        self.summary.outcomes[outcome] = self.summary.outcomes.get(outcome, 0) + 1

    def _start_connections(self):
        """Connects more while under the concurrency limit, a few hundred per turn."""
        for _ in range(200):
            if not self.waiting or len(self.live) >= self.limit:
                return
            conn = _Connection(self.waiting.pop(), self.plan)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if self.plan.rcvbuf:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.plan.rcvbuf)
            sock.setblocking(False)
            try:
                sock.bind((self.plan.sources[conn.number % len(self.plan.sources)], 0))
                code = sock.connect_ex(("127.0.0.1", self.port))
            except OSError as error:
                code = error.errno
            if code not in (0, errno.EINPROGRESS):
                sock.close()
                self._count(f"connect {errno.errorcode.get(code, code)}")
                continue
            conn.sock = sock
            self.live[sock.fileno()] = conn
            self.selector.register(sock, selectors.EVENT_WRITE, conn)

    def _serve(self, key, mask):
        conn = key.data
        if not conn.connected:
            code = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:
                return self._finish(conn, f"connect {errno.errorcode.get(code, code)}")
            conn.connected = True
            conn.next_drip = time.monotonic() + self.plan.drip_every
        if mask & selectors.EVENT_READ:
            try:
                chunk = conn.sock.recv(65536)
            except BlockingIOError:
                return
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return self._closed(conn)
            conn.received += chunk
            outcome = conn.answer() if self.plan.finish == "answer" else None
            if outcome:
                return self._finish(conn, outcome, keep=outcome == "200 stream")
        if conn.outbox:
            try:
                conn.outbox = conn.outbox[conn.sock.send(conn.outbox):]
            except BlockingIOError:
                pass
            except OSError:
                return self._closed(conn)
        wanted = selectors.EVENT_READ | (selectors.EVENT_WRITE if conn.outbox else 0)
        if key.events != wanted:
            self.selector.modify(conn.sock, wanted, conn)

    def _tick(self):
        """Times out connections past the plan's timeout (hangs) and sends the next drips."""
        now = time.monotonic()
        for conn in list(self.live.values()):
            if now - conn.started > self.plan.timeout:
                self._finish(conn, "hang")
            elif self.plan.drip and conn.connected and now >= conn.next_drip:
                size = self.plan.drip_size
                piece = bytes(self.plan.drip[(conn.drip_at + i) % len(self.plan.drip)] for i in range(size))
                conn.drip_at += size
                conn.next_drip = now + self.plan.drip_every
                try:
                    conn.sock.send(piece)
                except BlockingIOError:
                    pass
                except OSError:
                    self._closed(conn)

    def _closed(self, conn):
        """The node closed the connection (or reset it): with an answer before, or without."""
        status = conn.answer() or conn.status()
        self._finish(conn, f"{status} then closed" if status else "closed")

    def _finish(self, conn, outcome, keep=False):
        self._count(outcome)
        self.summary.seconds.append(time.monotonic() - conn.started)
        self.summary.received += len(conn.received)
        if b"\r\nretry-after:" in conn.received.split(b"\r\n\r\n", 1)[0].lower():
            self.summary.retry_after += 1
        self.selector.unregister(conn.sock)
        del self.live[conn.sock.fileno()]
        if keep:
            self.held.append(conn.sock)
        else:
            conn.sock.close()
