"""One tenant, one site or one demo node acting as another, on a node with authentication on: an id
claimed first in another tenant, a token without a tenant claim, a cross-site form with the token
cookie, a demo token taken to a production node."""

import json

import tokens
import web
from case import case
from node import Node

JSON = {"Content-Type": "application/json"}


def _error(answer):
    body = answer.json()
    return body.get("error") if isinstance(body, dict) else None


@case("id-collision", "a token of tenant a publishes first the id a backend then publishes to a user in tenant b", auth=True)
def id_collision(ctx):
    victim = ctx.stream({}, headers=tokens.bearer(tokens.mint("atk-bob", tenant="atk-b")))
    ctx.require(victim.wait_open(10), "the victim's stream did not open")
    attacker = tokens.bearer(tokens.mint("atk-mallory", tenant="atk-a", publish=["user:*"]))
    with ctx.attack():
        first = web.publish(ctx.port, {"target": {"type": "user", "id": "atk-mallory"}, "data": "x", "id": "invoice-1000-paid"},
                            headers=attacker)
        real = web.publish(ctx.port, {"target": {"type": "user", "id": "atk-bob", "tenant": "atk-b"}, "data": "paid",
                                      "id": "invoice-1000-paid"}, headers=ctx.publisher_headers())
        got = victim.wait_for(lambda e: e.data == "paid", 5) is not None
        victim.close()
    duplicate = (real.json() or {}).get("duplicate", False) if real.status == 202 else None
    ctx.figure("attacker", f"first publish {first.status}; the real one {real.status}, duplicate {duplicate}; delivered {got}")
    ctx.check(first.status == 202, f"the attacker's own publish got {first.status}")
    ctx.check(real.status == 202 and not duplicate, f"the real publish was answered {real.status} {real.body[:80]!r}")
    ctx.check(got, "the user in tenant b never got the real publication")


@case("tenantless-grant", "a token with publish rights but no tenant claim, against another tenant's user", auth=True)
def tenantless_grant(ctx):
    victim = ctx.stream({}, headers=tokens.bearer(tokens.mint("atk-alice", tenant="atk-acme")))
    ctx.require(victim.wait_open(10), "the victim's stream did not open")
    svc = {**JSON, **tokens.bearer(tokens.mint("atk-svc", publish=["user:atk-alice"]))}
    with ctx.attack():
        publish = web.request(ctx.port, "POST", "/publish", json.dumps(
            {"target": {"type": "user", "id": "atk-alice", "tenant": "atk-acme"}, "data": "forged"}).encode(), svc)
        kick = web.request(ctx.port, "POST", "/disconnect", json.dumps(
            {"target": {"type": "user", "id": "atk-alice", "tenant": "atk-acme"}}).encode(), svc)
        presence = [web.request(ctx.port, "GET", path, headers=svc).status
                    for path in ("/presence/users?tenant=atk-beta", "/presence/connections?tenant=atk-acme",
                                 "/presence/users/atk-alice?tenant=atk-acme")]
        marker = web.publish(ctx.port, {"target": {"type": "user", "id": "atk-alice", "tenant": "atk-acme"}, "data": "real"},
                             headers=ctx.publisher_headers())
        first = victim.wait_for(lambda e: e.event != "connected", 5)
        victim.close()
    ctx.figure("attacker", f"publish {publish.status}, kick {kick.status}, presence {presence}; "
                           f"the victim's first event {first.data if first else None!r}")
    ctx.check(publish.status == 403 and _error(publish) == "target_not_allowed", f"the publish got {publish.status}")
    ctx.check(kick.status == 403, f"the kick got {kick.status}")
    ctx.check(presence == [403, 403, 403], f"presence of other tenants answered {presence}")
    ctx.check(marker.status == 202 and first is not None and first.data == "real", "the victim's stream got something else first, or nothing")


@case("cross-site-upload", "a form on another site posts an upload and opens a stream with the token cookie", auth=True)
def cross_site_upload(ctx):
    cookie = {"Cookie": f"sse_token={tokens.mint('atk-alice')}"}
    form = (b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\n"
            b"hello\r\n--XyZ--\r\n")
    multipart = {"Content-Type": "multipart/form-data; boundary=XyZ"}
    with ctx.attack():
        upload = web.request(ctx.port, "POST", "/upload/demo/files", form, {**multipart, **cookie, "Origin": "https://evil.example"})
        send = web.request(ctx.port, "POST", "/send/demo/chat", b'{"text":"hi"}',
                           {**JSON, **cookie, "Referer": "https://evil.example/page.html"})
        stream = web.request(ctx.port, "GET", "/events", headers={**cookie, "Origin": "https://evil.example"})
        own_host = f"127.0.0.1:{ctx.port}"
        own = web.request(ctx.port, "POST", "/upload/demo/files", form, {**multipart, **cookie, "Origin": f"http://{own_host}",
                                                                          "Host": own_host})
    ctx.figure("attacker", f"upload {upload.status} {_error(upload)}, send {send.status}, stream {stream.status}; "
                           f"the node's own origin {own.status}")
    ctx.check(upload.status == 403 and _error(upload) == "cross_origin", f"the cross-site upload got {upload.status}")
    ctx.check(send.status == 403, f"the cross-site send got {send.status}")
    ctx.check(stream.status == 403, f"the cross-site stream got {stream.status}")
    ctx.check(own.status != 403, "the node's own page was refused too")


@case("demo-token", "a demo node asked for another tenant's token, and its token taken to a node without demo mode",
      auth=True, node_args=["--demo"])
def demo_token(ctx):
    production_port = next(p for p in ctx.settings.node_ports if p != ctx.port)
    production = Node(ctx.settings, production_port, [], ctx.settings.run_dir / "demo-token-production.log", auth=True)
    production.start()
    try:
        production.wait_ready()
        with ctx.attack():
            acme = web.request(ctx.port, "POST", "/demo/token", b'{"user": "atk-ceo", "tenant": "acme"}', JSON)
            minted = web.request(ctx.port, "POST", "/demo/token", b'{"user": "atk-ceo"}', JSON)
            token = (minted.json() or {}).get("token") or ""
            on_demo = ctx.stream({"token": token})
            opened = on_demo.wait_open(10)
            on_demo.close()
            elsewhere = web.request(production_port, "GET", f"/events?token={token}", timeout=5)
    finally:
        production.stop()
    ctx.figure("attacker", f"a token for acme {acme.status} {_error(acme)}; a demo token {minted.status}, opens on the demo node "
                           f"{opened}, on a production node {elsewhere.status} {_error(elsewhere)}")
    ctx.check(acme.status == 400 and _error(acme) == "demo_tenant_only", f"a demo token for tenant acme was answered {acme.status}")
    ctx.check(minted.status == 200 and opened, "the demo node's own token did not work there")
    ctx.check(elsewhere.status == 401 and _error(elsewhere) == "demo_token_refused",
              f"the demo token on a production node got {elsewhere.status or elsewhere.error}")
