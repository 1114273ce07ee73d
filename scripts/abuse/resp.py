"""A small Redis client (RESP2 over a socket): enough to look at what a node left in Redis."""

import socket


class RedisError(Exception):
    pass


class Redis:
    def __init__(self, port, host="127.0.0.1", timeout=5.0):
        self.address = (host, port)
        self.timeout = timeout
        self.sock = None
        self.buffer = b""

    def call(self, *args):
        """Sends one command and returns its reply (bytes, int, list, None); an error reply raises.
        A connection that broke since the last command (Redis restarted) is made again, once."""
        parts = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = arg if isinstance(arg, bytes) else str(arg).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
        request = b"".join(parts)
        reused = self.sock is not None
        try:
            return self._send(request)
        except (OSError, RedisError) as error:
            self.close()
            if not reused or (isinstance(error, RedisError) and str(error) != "connection closed"):
                raise
            return self._send(request)

    def _send(self, request):
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=self.timeout)
            self.buffer = b""
        self.sock.sendall(request)
        return self._reply()

    def close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock = None

    def scan(self, pattern):
        """Every key matching `pattern` (SCAN, so a large keyspace is read in pieces)."""
        keys, cursor = [], b"0"
        while True:
            cursor, batch = self.call("SCAN", cursor, "MATCH", pattern, "COUNT", 1000)
            keys.extend(k.decode(errors="replace") for k in batch)
            if cursor == b"0":
                return keys

    def members(self, key):
        """The members of a set or sorted set, or the fields of a hash, as strings."""
        kind = self.call("TYPE", key).decode()
        if kind == "set":
            items = self.call("SMEMBERS", key)
        elif kind == "zset":
            items = self.call("ZRANGE", key, 0, -1)
        elif kind == "hash":
            items = self.call("HKEYS", key)
        else:
            return []
        return [item.decode(errors="replace") for item in items]

    def _line(self):
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RedisError("connection closed")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def _exactly(self, count):
        while len(self.buffer) < count + 2:
            chunk = self.sock.recv(max(65536, count + 2 - len(self.buffer)))
            if not chunk:
                raise RedisError("connection closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count + 2:]
        return data

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest
        if kind == b"-":
            raise RedisError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            length = int(rest)
            return None if length < 0 else self._exactly(length)
        if kind == b"*":
            count = int(rest)
            return None if count < 0 else [self._reply() for _ in range(count)]
        raise RedisError(f"unexpected reply {line[:40]!r}")
