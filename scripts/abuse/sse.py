"""One event stream read on its own thread: a bystander, a watcher, or an attacker that needs to see
each event. Thousands of streams go through `flood` instead."""

import json
import socket
import threading
import time
import urllib.parse


class Event:
    def __init__(self, fields):
        self.id = fields.get("id")
        self.event = fields.get("event", "message")
        self.data = "\n".join(fields.get("data", [])) if "data" in fields else None

    def json(self):
        try:
            return json.loads(self.data)
        except (TypeError, ValueError):
            return None

    def __repr__(self):
        return f"{self.event}: {self.data!r:.60}"


class Stream:
    def __init__(self, port, query, headers=None, host="127.0.0.1", extra=b"", source="127.0.0.1"):
        """`query`: a dict (or list of pairs) for GET /events; `extra`: bytes sent right after the
        request (what a pipelining client sends behind it); `source`: the loopback address it comes from."""
        self.port = port
        self.source = source
        self.path = "/events?" + urllib.parse.urlencode(query)
        self.headers = headers or {}
        self.host = host
        self.extra = extra
        self.status = None
        self.head = b""
        self.raw = b""  # everything after the response head
        self.events = []
        self.closed = False
        self.closed_at = None
        self.changed = threading.Condition()
        self.sock = None

    def open(self, timeout=10.0):
        """Connects and sends the request; returns at once (the answer is read on a thread)."""
        self.sock = socket.create_connection((self.host, self.port), timeout=timeout, source_address=(self.source, 0))
        self.sock.settimeout(None)
        lines = [f"GET {self.path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept: text/event-stream"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + self.extra)
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def send(self, data):
        """Sends more bytes on the stream's connection (what a client pipelines after its request)."""
        self.sock.sendall(data)

    def wait_open(self, timeout=10.0):
        """True once the stream answered 200 and sent its `connected` event."""
        return self.wait_for(lambda e: e.event == "connected", timeout) is not None

    @property
    def connection_id(self):
        for event in self.events:
            if event.event == "connected":
                return (event.json() or {}).get("connectionId")
        return None

    def wait_for(self, predicate, timeout):
        """The first event (seen so far or arriving within `timeout`) that `predicate` accepts."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for event in self.events:
                    if predicate(event):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.closed:
                    return None
                self.changed.wait(remaining)

    def wait_closed(self, timeout):
        deadline = time.monotonic() + timeout
        with self.changed:
            while not self.closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.changed.wait(remaining)
        return True

    def close(self):
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()

    def _read(self):
        buffer = b""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                with self.changed:
                    if self.status is None:
                        buffer += chunk
                        if b"\r\n\r\n" not in buffer:
                            continue
                        self.head, buffer = buffer.split(b"\r\n\r\n", 1)
                        self.status = int(self.head.split(b" ", 2)[1])
                        chunk, buffer = buffer, b""
                    self.raw += chunk
                    buffer += chunk
                    while b"\n\n" in buffer:
                        block, buffer = buffer.split(b"\n\n", 1)
                        self._parse(block.decode(errors="replace"))
                    self.changed.notify_all()
        except OSError:
            pass
        with self.changed:
            self.closed = True
            self.closed_at = time.monotonic()
            if self.status is None and self.head == b"" and buffer.startswith(b"HTTP/"):
                self.head = buffer
                self.status = int(buffer.split(b" ", 2)[1])
            self.changed.notify_all()

    def _parse(self, block):
        fields = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                fields.setdefault("data", []).append(value)
            else:
                fields[name] = value
        if fields:
            self.events.append(Event(fields))
