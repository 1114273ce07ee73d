"""A small AMQP 0-9-1 client (one connection, one channel): publish with confirms and headers, take a
message from a queue with its headers, count, purge and delete queues. Enough for a producer that
sends what no producer should, and to look into `sse.poison` afterwards."""

import socket
import struct

FRAME_METHOD, FRAME_HEADER, FRAME_BODY, FRAME_HEARTBEAT = 1, 2, 3, 8
FRAME_END = b"\xce"

CONNECTION, CHANNEL, QUEUE, BASIC, CONFIRM = 10, 20, 50, 60, 85


class AMQPError(Exception):
    pass


def shortstr(text):
    data = text.encode() if isinstance(text, str) else text
    return struct.pack("B", len(data)) + data


def longstr(data):
    data = data.encode() if isinstance(data, str) else data
    return struct.pack(">I", len(data)) + data


def table(fields):
    """Encodes a field table of strings (what headers here carry)."""
    out = b"".join(shortstr(name) + b"S" + longstr(value) for name, value in (fields or {}).items())
    return struct.pack(">I", len(out)) + out


class Reader:
    """Reads AMQP's argument types from a method or header payload."""

    def __init__(self, data):
        self.data, self.at = data, 0

    def take(self, fmt):
        values = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return values[0] if len(values) == 1 else values

    def bytes(self, count):
        value = self.data[self.at:self.at + count]
        self.at += count
        return value

    def shortstr(self):
        return self.bytes(self.take("B")).decode(errors="replace")

    def longstr(self):
        return self.bytes(self.take(">I"))

    def table(self):
        end = self.at + 4 + self.take(">I")
        fields = {}
        while self.at < end:
            name = self.shortstr()
            fields[name] = self.value()
        return fields

    def value(self):
        kind = self.bytes(1)
        simple = {b"t": ">B", b"b": ">b", b"B": ">B", b"s": ">h", b"u": ">H", b"I": ">i", b"i": ">I",
                  b"l": ">q", b"f": ">f", b"d": ">d", b"T": ">Q"}
        if kind in simple:
            return self.take(simple[kind])
        if kind in (b"S", b"x"):
            return self.longstr().decode(errors="replace")
        if kind == b"F":
            return self.table()
        if kind == b"A":
            end = self.at + 4 + self.take(">I")
            items = []
            while self.at < end:
                items.append(self.value())
            return items
        if kind == b"D":
            scale, value = self.take(">BI")
            return value / (10 ** scale)
        if kind == b"V":
            return None
        raise AMQPError(f"unknown field type {kind!r}")


class Message:
    def __init__(self, body, headers, remaining):
        self.body = body
        self.headers = headers
        self.remaining = remaining


class AMQPClient:
    def __init__(self, port, host="127.0.0.1", user="guest", password="guest", vhost="/", timeout=30.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buffer = b""
        self.frame_max = 131072
        self.channel = 0
        self.confirming = False
        self.next_tag = 1
        self._handshake(user, password, vhost)
        self._open_channel()

    def close(self):
        try:
            self._send_method(0, CONNECTION, 50, struct.pack(">H", 200) + shortstr("bye") + struct.pack(">HH", 0, 0))
            self._expect(0, CONNECTION, 51)
        except (OSError, AMQPError):
            pass
        self.sock.close()

    # Operations

    def publish(self, exchange, routing_key, body, headers=None, content_type="application/json"):
        """Publishes and waits for the broker's confirm."""
        if not self.confirming:
            self._send_method(self.channel, CONFIRM, 10, b"\x00")
            self._expect(self.channel, CONFIRM, 11)
            self.confirming = True
        self._send_method(self.channel, BASIC, 40, struct.pack(">H", 0) + shortstr(exchange) + shortstr(routing_key) + b"\x00")
        flags, properties = 0x8000, shortstr(content_type)
        if headers:
            flags |= 0x2000
            properties += table(headers)
        header = struct.pack(">HHQH", BASIC, 0, len(body), flags) + properties
        self._send_frame(FRAME_HEADER, self.channel, header)
        step = self.frame_max - 8
        for start in range(0, len(body), step):
            self._send_frame(FRAME_BODY, self.channel, body[start:start + step])
        tag = self.next_tag
        self.next_tag += 1
        while True:
            klass, method, args = self._method(self.channel)
            if (klass, method) == (BASIC, 80):  # ack
                acked, multiple = Reader(args).take(">QB")
                if acked == tag or (multiple and acked >= tag):
                    return
            elif (klass, method) == (BASIC, 120):  # nack
                raise AMQPError("the broker refused the message")

    def get(self, queue):
        """Takes one message (acknowledged at once), or None when the queue is empty."""
        self._send_method(self.channel, BASIC, 70, struct.pack(">H", 0) + shortstr(queue) + b"\x01")
        klass, method, args = self._method(self.channel)
        if (klass, method) == (BASIC, 72):
            return None
        if (klass, method) != (BASIC, 71):
            raise AMQPError(f"unexpected answer {klass}.{method} to basic.get")
        reader = Reader(args)
        reader.take(">QB")
        reader.shortstr(), reader.shortstr()
        remaining = reader.take(">I")
        kind, _, payload = self._frame()
        if kind != FRAME_HEADER:
            raise AMQPError("expected a content header")
        header = Reader(payload)
        _, _, size, flags = header.take(">HHQH")
        headers = self._properties(header, flags).get("headers", {})
        body = b""
        while len(body) < size:
            kind, _, payload = self._frame()
            body += payload
        return Message(body, headers, remaining)

    def counts(self, queue):
        """(messages ready, consumers) of a queue, or None when it does not exist."""
        self._send_method(self.channel, QUEUE, 10, struct.pack(">H", 0) + shortstr(queue) + b"\x01" + table({}))
        try:
            args = self._expect(self.channel, QUEUE, 11)
        except AMQPError:
            return None
        reader = Reader(args)
        reader.shortstr()
        return reader.take(">II")

    def purge(self, queue):
        if self.counts(queue) is None:
            return 0
        self._send_method(self.channel, QUEUE, 30, struct.pack(">H", 0) + shortstr(queue) + b"\x00")
        return Reader(self._expect(self.channel, QUEUE, 31)).take(">I")

    def delete_queue(self, queue):
        self._send_method(self.channel, QUEUE, 40, struct.pack(">H", 0) + shortstr(queue) + b"\x00")
        self._expect(self.channel, QUEUE, 41)

    # Framing

    def _handshake(self, user, password, vhost):
        self.sock.sendall(b"AMQP\x00\x00\x09\x01")
        self._expect(0, CONNECTION, 10)
        response = b"\x00" + user.encode() + b"\x00" + password.encode()
        self._send_method(0, CONNECTION, 11, table({"product": "sse-fanout abuse suite"}) + shortstr("PLAIN") + longstr(response) + shortstr("en_US"))
        channel_max, frame_max, _ = Reader(self._expect(0, CONNECTION, 30)).take(">HIH")
        self.frame_max = frame_max or self.frame_max
        self._send_method(0, CONNECTION, 31, struct.pack(">HIH", channel_max, self.frame_max, 0))
        self._send_method(0, CONNECTION, 40, shortstr(vhost) + shortstr("") + b"\x00")
        self._expect(0, CONNECTION, 41)

    def _open_channel(self):
        self.channel += 1
        self.confirming = False
        self.next_tag = 1
        self._send_method(self.channel, CHANNEL, 10, shortstr(""))
        self._expect(self.channel, CHANNEL, 11)

    def _send_frame(self, kind, channel, payload):
        self.sock.sendall(struct.pack(">BHI", kind, channel, len(payload)) + payload + FRAME_END)

    def _send_method(self, channel, klass, method, args):
        self._send_frame(FRAME_METHOD, channel, struct.pack(">HH", klass, method) + args)

    def _read(self, count):
        while len(self.buffer) < count:
            chunk = self.sock.recv(max(65536, count - len(self.buffer)))
            if not chunk:
                raise AMQPError("connection closed by the broker")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def _frame(self):
        while True:
            kind, channel, size = struct.unpack(">BHI", self._read(7))
            payload = self._read(size + 1)[:-1]
            if kind != FRAME_HEARTBEAT:
                return kind, channel, payload

    def _method(self, channel):
        """The next method frame on `channel`; a channel.close answers and raises (the channel is
        opened again), a connection.close raises."""
        while True:
            kind, on, payload = self._frame()
            if kind != FRAME_METHOD:
                continue
            klass, method = struct.unpack_from(">HH", payload)
            args = payload[4:]
            if (klass, method) == (CONNECTION, 50):
                raise AMQPError("connection closed: " + Reader(args[2:]).shortstr())
            if (klass, method) == (CHANNEL, 40) and on == channel:
                reason = Reader(args[2:]).shortstr()
                self._send_method(on, CHANNEL, 41, b"")
                self._open_channel()
                raise AMQPError("channel closed: " + reason)
            if on == channel:
                return klass, method, args

    def _expect(self, channel, klass, method):
        got_class, got_method, args = self._method(channel)
        if (got_class, got_method) != (klass, method):
            raise AMQPError(f"expected {klass}.{method}, got {got_class}.{got_method}")
        return args

    @staticmethod
    def _properties(reader, flags):
        names = [("content_type", "s"), ("content_encoding", "s"), ("headers", "F"), ("delivery_mode", "B"),
                 ("priority", "B"), ("correlation_id", "s"), ("reply_to", "s"), ("expiration", "s"),
                 ("message_id", "s"), ("timestamp", "Q"), ("type", "s"), ("user_id", "s"), ("app_id", "s"),
                 ("cluster_id", "s")]
        properties = {}
        for bit, (name, kind) in zip(range(15, 1, -1), names):
            if not flags & (1 << bit):
                continue
            if kind == "s":
                properties[name] = reader.shortstr()
            elif kind == "F":
                properties[name] = reader.table()
            else:
                properties[name] = reader.take(">" + kind)
        return properties
