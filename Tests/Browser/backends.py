"""What a page's sends and uploads reach: a queue bound to the `sse.upstream` exchange (read with
amqp-consume, from Debian's amqp-tools), or a small HTTP backend a node is pointed at with
--upstream-url; both record what arrives, and a test waits for it. And the way there: a proxy a test
cuts, as a network that drops."""

import json
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import NODE_ARGS, wait_until

# The nodes' RabbitMQ, as amqp-tools writes it (without the vhost: the default one).
AMQP_URL = NODE_ARGS[NODE_ARGS.index("--amqp-url") + 1].removesuffix("/%2f")
PROBE = "probe"


class UpstreamQueue:
    """An exclusive queue bound to `sse.upstream` for `<prefix>.#`: the messages nodes publish for sends
    and uploads whose path starts with `<prefix>/`, decoded, in the order they came."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.lines = []
        self.changed = threading.Condition()
        self.process = subprocess.Popen(
            ["amqp-consume", "--url", AMQP_URL, "-x", "-e", "sse.upstream", "-r", f"{prefix}.#", "--", "sh", "-c", "cat; echo"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        threading.Thread(target=self.read, daemon=True).start()
        # Bound once a message published to the exchange for the prefix comes through the queue.
        wait_until(self.probe, 15, f"a queue bound to sse.upstream for {prefix}.#")

    def read(self):
        for line in self.process.stdout:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()

    def probe(self):
        if PROBE in self.lines:
            return True
        subprocess.run(["amqp-publish", "--url", AMQP_URL, "-e", "sse.upstream", "-r", f"{self.prefix}.{PROBE}", "-b", PROBE],
                       check=True, capture_output=True)
        with self.changed:
            self.changed.wait_for(lambda: PROBE in self.lines, timeout=0.5)
        return PROBE in self.lines

    def messages(self):
        return [json.loads(line) for line in self.lines if line and line != PROBE]

    def wait_for(self, count, timeout=10):
        """Waits until `count` messages (besides probes) arrived; returns them all."""
        with self.changed:
            self.changed.wait_for(lambda: len(self.messages()) >= count, timeout=timeout)
        messages = self.messages()
        if len(messages) < count:
            raise AssertionError(f"{count} messages on sse.upstream for {self.prefix}.#: not within {timeout} s ({messages!r})")
        return messages

    def close(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class Request:
    """One request the backend got: its path with query, headers (names in lower case) and body."""

    def __init__(self, path, headers, body):
        self.path = path
        self.headers = {name.lower(): value for name, value in headers.items()}
        self.body = body
        self.released = threading.Event()  # a held request is answered once this is set

    def __repr__(self):
        return f"Request({self.path!r}, key={self.headers.get('idempotency-key')!r})"


class HTTPBackend:
    """An HTTP server on a free port that records every request and answers what `answer(request)`
    returns: (status, content type, body bytes), or None to hold the request until its `released` is set
(then it is asked again)."""

    def __init__(self, answer):
        self.answer = answer
        self.requests = []
        self.changed = threading.Condition()
        backend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(self.path, dict(self.headers.items()), self.rfile.read(length))
                with backend.changed:
                    backend.requests.append(request)
                    backend.changed.notify_all()
                reply = backend.answer(request)
                if reply is None:  # held: answered as `answer` says once released
                    request.released.wait()
                    reply = backend.answer(request)
                status, content_type, body = reply
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, condition, timeout, what):
        """Waits until `condition(requests)` holds; returns the requests."""
        deadline = time.monotonic() + timeout
        with self.changed:
            if not self.changed.wait_for(lambda: condition(self.requests), timeout=max(0, deadline - time.monotonic())):
                raise AssertionError(f"{what}: not within {timeout} s (the backend got {self.requests!r})")
            return list(self.requests)

    def close(self):
        for request in list(self.requests):
            request.released.set()
        self.server.shutdown()
        self.server.server_close()


def multipart_parts(request):
    """The parts of a multipart/form-data body: [(headers text, content bytes)]."""
    boundary = request.headers["content-type"].split("boundary=", 1)[1].strip('"').encode()
    parts = []
    for chunk in request.body.split(b"--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, content = chunk.strip(b"\r\n").partition(b"\r\n\r\n")
        parts.append((head.decode(), content))
    return parts



class TCPProxy:
    """A TCP proxy on a free port to `port`: the network between a page and a node, which a test cuts
    (every connection open now is closed at once, both ways) while the node goes on with what it got."""

    def __init__(self, port):
        self.target = ("127.0.0.1", port)
        self.sockets = set()
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets |= {client, server}
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self.pump, args=(source, sink), daemon=True).start()

    def pump(self, source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            self.drop(end)

    def drop(self, end):
        with self.lock:
            self.sockets.discard(end)
        try:
            end.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        end.close()

    def cut(self):
        with self.lock:
            open_now = list(self.sockets)
        for end in open_now:
            self.drop(end)

    def close(self):
        self.listener.close()
        self.cut()
