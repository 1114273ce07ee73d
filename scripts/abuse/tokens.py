"""Credentials for the cases that attack a node with authentication on: a secret the suite makes up,
an API key, and HS256 tokens signed with it (the standard library is enough for HS256)."""

import base64
import hashlib
import hmac
import json
import secrets
import time

SECRET = secrets.token_hex(24)
API_KEY = "abuse-" + secrets.token_hex(16)


def _part(value):
    data = value if isinstance(value, bytes) else json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(sub, ttl=600, **claims):
    """A token for `sub`, valid for `ttl` seconds, with `claims` added (tenant, publish, channels, ...)."""
    now = int(time.time())
    payload = {"sub": sub, "iat": now, "exp": now + ttl, **claims}
    signing_input = f"{_part({'alg': 'HS256', 'typ': 'JWT'})}.{_part(payload)}"
    signature = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_part(signature)}"


def bearer(token):
    return {"Authorization": f"Bearer {token}"}
