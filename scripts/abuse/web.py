"""One-shot HTTP requests to a node, each bounded by a timeout: probes, publishes."""

import http.client
import json
import socket
import time


class Response:
    def __init__(self, status=None, headers=None, body=b"", seconds=0.0, error=None):
        self.status = status  # None: no answer (the error says why)
        self.headers = headers or {}
        self.body = body
        self.seconds = seconds
        self.error = error

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def __repr__(self):
        return f"{self.status or self.error} in {self.seconds:.2f} s"


def request(port, method, path, body=None, headers=None, timeout=5.0, host="127.0.0.1"):
    started = time.monotonic()
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        answer = connection.getresponse()
        data = answer.read()
        return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, data, time.monotonic() - started)
    except (OSError, http.client.HTTPException) as error:
        kind = "timeout" if isinstance(error, socket.timeout) else type(error).__name__
        return Response(error=kind, seconds=time.monotonic() - started)
    finally:
        connection.close()


def get(port, path, timeout=5.0):
    return request(port, "GET", path, timeout=timeout)


def publish(port, payload, timeout=10.0, headers=None):
    """POST /publish of a JSON value (an object or an array), with the credential in `headers` if any."""
    body = json.dumps(payload).encode()
    return request(port, "POST", "/publish", body, {"Content-Type": "application/json", **(headers or {})}, timeout=timeout)


def publish_to_user(port, user, data, event_id=None, timeout=10.0, headers=None):
    payload = {"target": {"type": "user", "id": user}, "data": data}
    if event_id is not None:
        payload["id"] = event_id
    return publish(port, payload, timeout=timeout, headers=headers)


def exchange(port, raw, timeout=5.0, host="127.0.0.1", until_close=True):
    """Sends raw bytes and reads what comes back until the node closes (or, with `until_close`
    False, until a whole response head arrived). Returns (bytes, closed, seconds); closed is False
    when the timeout passed first (the node held the connection)."""
    started = time.monotonic()
    received = b""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(raw)
        deadline = started + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return received, False, time.monotonic() - started
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                return received, False, time.monotonic() - started
            except ConnectionResetError:
                return received, True, time.monotonic() - started
            if not chunk:
                return received, True, time.monotonic() - started
            received += chunk
            if not until_close and b"\r\n\r\n" in received:
                return received, False, time.monotonic() - started
