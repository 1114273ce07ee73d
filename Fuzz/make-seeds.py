#!/usr/bin/env python3
# Writes the seed corpus, Fuzz/corpus/<target>/: small valid and near-valid inputs per target. The
# compact tokens in corpus/jwt are signed with the secret Fuzz/jwt/main.swift configures.
#   python3 Fuzz/make-seeds.py
import base64, hashlib, hmac, json, os
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
def put(target, name, data):
    if isinstance(data, str): data = data.encode()
    os.makedirs(f"{root}/{target}", exist_ok=True)
    open(f"{root}/{target}/{name}", "wb").write(data)

# publish: POST /publish bodies
P = {
 "user-text": '{"target":{"type":"user","id":"alice"},"data":"hello"}',
 "all-fields": '{"target":{"type":"channel","id":"news","tenant":"acme"},"event":"update","data":"line 1\\nline 2\\r\\nline 3","id":"evt-1","retry":3000,"ephemeral":true}',
 "json-data": '{"target":{"type":"broadcast"},"data":{"b":[1,2.5,-0,1e3,true,null,"x"],"a":{"nested":{"deep":[[]]}}}}',
 "number-data": '{"target":{"type":"tenant","id":"acme"},"data":12345678901234567890}',
 "null-data": '{"target":{"type":"session","id":"s-1"},"data":null}',
 "client": '{"target":{"type":"client","user":"a/b%2F","id":"tab 1","tenant":"acme"},"data":"x"}',
 "connection": '{"target":{"type":"connection","id":"c-0001"},"data":"x"}',
 "targets": '{"targets":[{"type":"user","id":"alice"},{"type":"user","id":"alice"},{"type":"channel","id":"news"},{"type":"broadcast"},{"type":"tenant","id":"t.1_-"}],"data":"x"}',
 "batch": '[{"target":{"type":"user","id":"alice"},"data":"1"},{"target":{"type":"channel","id":"news"},"event":"e","data":[1]}]',
 "unicode": '{"target":{"type":"user","id":"\u00e9\u6f22\U0001F600"},"event":"\u00e9","id":"\u2028","data":"\\ud83d\\ude00 \\u0000 \\t"}',
 "escapes": '{"target":{"type":"user","id":"a\\"b\\\\c\\/d"},"data":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u001f"}',
 "position-ignored": '{"target":{"type":"user","id":"alice"},"data":"x","position":"1700000000000-1","hops":3}',
 "empty-batch": '[]',
 "batch-1001": '[' + ','.join(['0'] * 1001) + ']',
 "not-object": '"just a string"',
 "missing-data": '{"target":{"type":"user","id":"alice"}}',
 "unknown-type": '{"target":{"type":"group","id":"g"},"data":"x"}',
 "empty-id": '{"target":{"type":"user","id":"alice"},"id":"","data":"x"}',
 "event-newline": '{"target":{"type":"user","id":"alice"},"event":"a\\nb","data":"x"}',
 "retry-float": '{"target":{"type":"user","id":"alice"},"retry":1.5,"data":"x"}',
 "retry-huge": '{"target":{"type":"user","id":"alice"},"retry":1e300,"data":"x"}',
 "retry-negative": '{"target":{"type":"user","id":"alice"},"retry":-1,"data":"x"}',
 "retry-bool": '{"target":{"type":"user","id":"alice"},"retry":true,"data":"x"}',
 "target-and-targets": '{"target":{"type":"user","id":"a"},"targets":[{"type":"user","id":"b"}],"data":"x"}',
 "bad-tenant": '{"target":{"type":"user","id":"a","tenant":"a:b"},"data":"x"}',
 "connection-tenant": '{"target":{"type":"connection","id":"c","tenant":"acme"},"data":"x"}',
 "client-no-user": '{"target":{"type":"client","id":"tab"},"data":"x"}',
 "control-id": '{"target":{"type":"user","id":"a\\u0007"},"data":"x"}',
 "long-id": '{"target":{"type":"user","id":"' + "x" * 257 + '"},"data":"x"}',
 "deep-data": '{"target":{"type":"user","id":"a"},"data":' + "[" * 200 + "]" * 200 + '}',
 "duplicate-keys": '{"target":{"type":"user","id":"a"},"target":{"type":"user","id":"b"},"data":"x","data":1}',
 "truncated": '{"target":{"type":"user","id":"alice"},"data":"hel',
 "found-client-combining-mark": '{"target":{"type":"client","user":"a","id":"\\u0301x"},"data":"x"}',
 "found-negative-zero": '{"target":{"type":"broadcast"},"data":[-0e1,{"a":-0.0}]}',
 "numbers": '{"target":{"type":"user","id":"a"},"data":[0,-1,1e-400,1e400,9223372036854775807,9223372036854775808,-9223372036854775809,0.1,1E+2]}',
}
for k, v in P.items(): put("publish", k + ".json", v)

# amqp: bodies on RabbitMQ (node to node, ingress, control)
A = {
 "leg": '{"target":{"type":"user","id":"alice"},"position":"1700000000000-3","hops":1,"data":"hello"}',
 "leg-json": '{"target":{"type":"channel","id":"news","tenant":"acme"},"event":"e","id":"1","retry":10,"ephemeral":true,"position":"18446744073709551615-18446744073709551615","data":{"k":[1,2]}}',
 "batch": '[{"target":{"type":"user","id":"a"},"position":"1-0","data":"1"},{"target":{"type":"session","id":"s"},"hops":2,"data":"2"}]',
 "producer": '{"targets":[{"type":"user","id":"a"},{"type":"broadcast"}],"data":"x"}',
 "bad-position": '{"target":{"type":"user","id":"a"},"position":"17-x","data":"x"}',
 "position-overflow": '{"target":{"type":"user","id":"a"},"position":"18446744073709551616-0","data":"x"}',
 "hops-negative": '{"target":{"type":"user","id":"a"},"hops":-5,"data":"x"}',
 "hops-huge": '{"target":{"type":"user","id":"a"},"hops":1e300,"data":"x"}',
 "hops-string": '{"target":{"type":"user","id":"a"},"hops":"3","data":"x"}',
 "kick": '{"control":"disconnect","target":{"type":"user","id":"alice","tenant":"acme"},"reason":"kicked","reconnect":false,"barredUntil":1700000060000}',
 "kick-reconnect": '{"control":"disconnect","target":{"type":"client","user":"a","id":"phone"},"reason":"bye","reconnect":true}',
 "kick-replaced": '{"control":"disconnect","target":{"type":"user","id":"alice"},"reason":"replaced","reconnect":true,"cause":"replaced"}',
 "kick-cause-unknown": '{"control":"disconnect","target":{"type":"user","id":"alice"},"cause":"whatever"}',
 "kick-broadcast": '{"control":"disconnect","target":{"type":"broadcast"},"reason":"maintenance","reconnect":false,"barredUntil":1}',
 "kick-barred-huge": '{"control":"disconnect","target":{"type":"user","id":"a"},"reconnect":false,"barredUntil":1e300}',
 "kick-barred-float": '{"control":"disconnect","target":{"type":"user","id":"a"},"reconnect":false,"barredUntil":-1.5}',
 "kick-reason-control": '{"control":"disconnect","target":{"type":"user","id":"a"},"reason":"a\\u0000b"}',
 "kick-reason-long": '{"control":"disconnect","target":{"type":"user","id":"a"},"reason":"' + "r" * 257 + '"}',
 "kick-no-target": '{"control":"disconnect","reason":"x"}',
 "found-client-combining-mark": '{"target":{"type":"client","user":"a","id":"\u0f75"}}',
 "empty": '',
 "binary": b'\x00\xff\xfe{"target"',
 "utf16": '{"target":{"type":"user","id":"a"},"data":"x"}'.encode("utf-16"),
 "bom": b'\xef\xbb\xbf{"target":{"type":"user","id":"a"},"data":"x"}',
}
for k, v in A.items(): put("amqp", k + (".json" if isinstance(v, str) else ".bin"), v)

# stream-request: URI line, then headers
S = {
 "anonymous": "/events",
 "query": "/events?user=alice&tenant=acme&session=s-1&channel=news&channel=sport&channel=news&clientId=tab%201",
 "resume-header": "/events?channel=news\nLast-Event-ID: 1.u~lsk2j3k0-0.b~lsk2j3k0-2.c1x3k9z~lsk2j1a0-0",
 "resume-query": "/events?lastEventId=1.u~lsk2j3k0-0&user=a",
 "bearer": "/events?channel=news\nAuthorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln",
 "bearer-case": "/events\nauthorization:   bEaReR \t tok.en.x  \nAuthorization: Bearer second",
 "bearer-blanks": "/events\nAuthorization: Bearer\u0301 x\nAuthorization: Bearer tok\u0600  \t ",
 "basic": "/events\nAuthorization: Basic dXNlcjpwYXNz",
 "cookie": "/events\nCookie: theme=dark; sse_token=\"abc.def.ghi\"; other=1\nCookie: sse_token=later",
 "cookie-empty": "/events\nCookie: sse_token=; sse_token=\"\"; =x; sse_token",
 "token-query": "/events?token=abc.def.ghi&channel=x#frag?token=no",
 "token-encoded": "/events?%74oken=a%2Eb%2Ec&token=second&tok%en=x",
 "token-bad-percent": "/events?token=%zz%&token=%",
 "fragment": "/events#?token=hidden",
 "many-questions": "/events??token=a?b&&&=&token&token=",
 "origin": "/events?channel=a\nOrigin: https://app.example\nAccess-Control-Request-Headers: Last-Event-ID",
 "origin-other": "/events\nOrigin: https://evil.example",
 "bad-user": "/events?user=",
 "control-channel": "/events?channel=a%0Ab",
 "too-many-channels": "/events?" + "&".join(f"channel=c{i}" for i in range(65)),
 "plus": "/events?user=a+b&channel=%2B",
 "absolute": "http://host:8080/events?user=a",
 "unicode": "/events?user=%C3%A9&channel=\u00e9\u6f22",
 "invalid-percent-utf8": "/events?user=%FF%FE&channel=%C3",
 "bad-tenant": "/events?tenant=a:b",
}
for k, v in S.items(): put("stream-request", k + ".txt", v)

# resume-token: Last-Event-ID values
R = {
 "one": "1.u~lsk2j3k0-0",
 "many": "1.u~lsk2j3k0-0.s~lsk2j3k0-1.d~1-1.t~0-0.b~lsk2j3k0-2.c1x3k9z~lsk2j1a0-0",
 "empty-token": "1",
 "max": "1.u~3w5e11264sgsf-3w5e11264sgsf",
 "overflow": "1.u~3w5e11264sgsg-0",
 "uppercase": "1.U~LSK2J3K0-0",
 "signed": "1.u~+1-+0",
 "negative": "1.u~-1-0",
 "version-2": "2.u~1-0",
 "empty-tag": "1.~1-0",
 "no-tilde": "1.u1-0",
 "two-tildes": "1.u~1~2-0",
 "no-sequence": "1.u~1",
 "trailing-dot": "1.u~1-0.",
 "duplicate": "1.u~1-0.u~2-0",
 "unicode-tag": "1.\u00e9~1-0",
 "130-parts": "1" + "".join(f".c{i}~1-0" for i in range(129)),
 "131-parts": "1" + "".join(f".c{i}~1-0" for i in range(130)),
 "redis-id": "1700000000000-0",
}
for k, v in R.items(): put("resume-token", k + ".txt", v)

# jwt: "{header}\n{claims}" is signed by the target; anything else is a compact token as is.
secret = b"fuzz-secret-0123456789abcdef-0123456789"
now = 1_700_000_000
def b64(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def token(header, claims, key=secret):
    si = b64(header.encode()) + "." + b64(claims.encode())
    return si + "." + b64(hmac.new(key, si.encode(), hashlib.sha256).digest())
H = '{"alg":"HS256","typ":"JWT"}'
C = '{"sub":"alice","iat":1700000000,"exp":1700003600}'
J = {
 "signed-minimal": H + "\n" + C,
 "signed-full": H + "\n" + '{"sub":"alice","tenant":"acme","sid":"s-1","channels":["news","sport-*","*"],"publish":["*","broadcast","user:*","tenant:acme","channel:news-*"],"iat":1700000000,"nbf":1699999990,"exp":1700003600.5,"iss":"me","aud":["a","b"]}',
 "signed-aud-string": H + "\n" + '{"sub":"a","exp":1700000100,"aud":"x"}',
 "signed-alg-none": '{"alg":"none"}' + "\n" + C,
 "signed-alg-NoNe": '{"alg":"NoNe"}' + "\n" + C,
 "signed-alg-rs256": '{"alg":"RS256"}' + "\n" + C,
 "signed-kid": '{"alg":"HS256","kid":"k1"}' + "\n" + C,
 "signed-crit": '{"alg":"HS256","crit":["b64"]}' + "\n" + C,
 "signed-no-alg": '{"typ":"JWT"}' + "\n" + C,
 "signed-no-exp": H + "\n" + '{"sub":"alice"}',
 "signed-expired": H + "\n" + '{"sub":"alice","exp":1699999000}',
 "signed-too-long": H + "\n" + '{"sub":"alice","exp":1800000000}',
 "signed-nbf-future": H + "\n" + '{"sub":"alice","exp":1700003600,"nbf":1700001000}',
 "signed-exp-string": H + "\n" + '{"sub":"alice","exp":"1700003600"}',
 "signed-exp-huge": H + "\n" + '{"sub":"alice","exp":1e308}',
 "signed-sub-control": H + "\n" + '{"sub":"a\\u0000","exp":1700003600}',
 "signed-bad-tenant": H + "\n" + '{"sub":"a","tenant":"a b","exp":1700003600}',
 "signed-bad-pattern": H + "\n" + '{"sub":"a","channels":["a*b"],"publish":["group:x"],"exp":1700003600}',
 "signed-not-object": H + "\n" + '["sub"]',
 "signed-empty-claims": H + "\n",
 "compact-valid": token(H, C),
 "compact-other-secret": token(H, C, b"another-secret-0123456789abcdef-012345"),
 "compact-padded": token(H, C) + "==",
 "compact-two-parts": token(H, C).rsplit(".", 1)[0],
 "compact-four-parts": token(H, C) + ".x",
 "compact-empty-signature": token(H, C).rsplit(".", 1)[0] + ".",
 "compact-standard-base64": base64.b64encode(H.encode()).decode() + "." + base64.b64encode(C.encode()).decode() + ".ab+/",
 "compact-dots": "..",
 "compact-api-key": "fuzz-api-key-0123456789",
 "compact-unicode": "\u00e9.\u00e9.\u00e9",
}
for k, v in J.items(): put("jwt", k + ".txt", v)

# presence: GET /presence/... request URIs (path and query)
longest_cursor = base64.urlsafe_b64encode(b"x" * 256).decode().rstrip("=")
R = {
 "users": "/presence/users",
 "users-all": "/presence/users?tenant=acme&channel=news&cursor=Ym9i&limit=1000",
 "user": "/presence/users/bob?limit=5",
 "user-encoded": "/presence/users/al%2Fice?tenant=",
 "user-slash": "/presence/users/a/b",
 "user-empty": "/presence/users/",
 "connections": "/presence/connections?user=bob&session=s1&channel=news&tenant=&cursor=YzE&limit=1",
 "repeated": "/presence/connections?user=a&user=b&limit=1&limit=2&tenant=x&tenant=",
 "cursor-longest": "/presence/users?cursor=" + longest_cursor,
 "cursor-too-long": "/presence/users?cursor=" + longest_cursor + "QQ",
 "cursor-padded": "/presence/users?cursor=Ym9i%3D",
 "cursor-not-utf8": "/presence/users?cursor=_w",
 "limit-zero": "/presence/users?limit=0",
 "limit-huge": "/presence/users?limit=99999999999999999999999",
 "limit-sign": "/presence/users?limit=+5",
 "tenant-bad": "/presence/users?tenant=a:b",
 "control": "/presence/connections?channel=a%0Ab&session=%00",
 "unicode": "/presence/users/%C3%A9%E2%80%A8?channel=%F0%9F%98%80",
 "invalid-percent": "/presence/users?user=%zz&channel=%C3",
 "no-value": "/presence/connections?user&cursor&limit",
 "fragment": "/presence/users#x?limit=1",
 "not-presence": "/presences?limit=1",
 "question-first": "?/presence/users",
 "spaces": "/presence/users?user=a b",
}
for k, v in R.items(): put("presence", k + ".txt", v)


# send-body: the first byte sets the size of the pieces the body is cut into (1 to 256 bytes).
S = {
    "object": b"\x10" + '{"text":"hello","n":[1,2.5e3,-0,true,false,null],"u":"\\u00e9\u00e9"}'.encode(),
    "nested": b"\x00" + b'[[[]],{},"x"]',
    "scalar": b"\x01" + b"-12.5E+3",
    "trailing-comma": b"\x03" + b'{"a":1,}',
    "bom": b"\x02" + b"\xef\xbb\xbf{}",
    "truncated": b"\x05" + b'{"a":[1,2',
    "bad-utf8": b"\x00" + b'"\xc3\x28"',
    "surrogate": b"\x07" + b'"\\ud83d\\ude00"',
}
for k, v in S.items(): put("send-body", k, v)
