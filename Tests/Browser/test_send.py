"""send and upload, browser to server: what reaches the backend (the `sse.upstream` exchange, or an HTTP
backend), as whom, how often, and what the page's promise gets back."""

import base64
import json

from backends import HTTPBackend, TCPProxy, UpstreamQueue, multipart_parts
from harness import BrowserTestCase, SpareNode, mint, named, unique

TENANT = "browser-tests"
NOTE = "a small file ✓"
FILES = [{"field": "attachment", "name": "note.txt", "type": "text/plain", "text": NOTE}]


def answered(labels):
    """A condition on a snapshot: every send recorded under `labels` has ended."""
    return lambda s: all(any(e["label"] == label and e["status"] is not None for e in s["sends"]) for label in labels)


def outcome(snapshot, label):
    return next(e for e in snapshot["sends"] if e["label"] == label)


def connection_of(snapshot, index=-1):
    return json.loads(named(snapshot["events"], "connected")[index]["data"])["connectionId"]


class SendTests(BrowserTestCase):
    def open_sender(self, url=None, **config):
        """A page connected as a user no test has used (a token with a tenant and a session, unless the
        configuration says who it is); returns the user, the session and the page's snapshot."""
        user, session = unique("sender"), unique("tab")
        if "query" not in config:
            config["token"] = mint(user, sid=session, tenant=TENANT)
        if url:
            config["url"] = url
        self.browser.open_connected(self.page(clientId="phone-1", **config))
        return user, session, self.browser.snapshot()

    def test_send_and_upload_reach_sse_upstream_with_the_senders_identity(self):
        prefix = unique("room")
        queue = UpstreamQueue(prefix)
        self.addCleanup(queue.close)
        user, session, page = self.open_sender()
        connection = connection_of(page)
        browser = self.browser
        browser.run("harness.send('send', arguments[0], {text: 'hello', n: 1}, {x: '1'})", f"{prefix}/chat")
        browser.run("harness.upload('upload', arguments[0], {caption: 'a note'}, arguments[1])", f"{prefix}/files", FILES)
        page = browser.wait(answered(["send", "upload"]), 10, "both answered")
        messages = {m["kind"]: m for m in queue.wait_for(2)}
        keys = {p["path"]: p["key"] for p in page["posts"]}

        for kind, path in (("send", "chat"), ("upload", "files")):
            answer = outcome(page, kind)
            self.assertEqual(answer["status"], 202, answer)
            message = messages[kind]
            self.assertEqual(json.loads(answer["body"]), {"id": message["id"]}, "the page gets the send's id")
            self.assertEqual(
                {k: message.get(k) for k in ("path", "user", "tenant", "session", "clientId", "connectionId", "idempotencyKey")},
                {"path": f"{prefix}/{path}", "user": user, "tenant": TENANT, "session": session, "clientId": "phone-1",
                 "connectionId": connection, "idempotencyKey": keys[f"/{kind}/{prefix}/{path}"]},
                f"the {kind} names its sender")
        self.assertEqual(messages["send"]["body"], {"text": "hello", "n": 1})
        self.assertEqual(messages["send"]["query"], {"x": "1"})
        upload = messages["upload"]
        self.assertEqual(upload["fields"], {"caption": "a note"})
        [file] = upload["files"]
        self.assertEqual({k: file[k] for k in ("field", "filename", "contentType", "size")},
                         {"field": "attachment", "filename": "note.txt", "contentType": "text/plain", "size": len(NOTE.encode())})
        self.assertEqual(base64.b64decode(file["data"]).decode(), NOTE)
        self.assertEqual(len(page["posts"]), 2, "one request each")
        browser.screenshot("send-to-sse-upstream")

    def test_send_and_upload_reach_an_http_upstream_with_the_senders_identity(self):
        def answer(request):
            if "/chat" in request.path:
                return 201, "application/json", json.dumps({"stored": request.headers["idempotency-key"]}).encode()
            return 422, "text/plain; charset=utf-8", "too blurry".encode()

        backend = HTTPBackend(answer)
        self.addCleanup(backend.close)
        node = SpareNode("--upstream-url", backend.url + "/hooks")
        self.addCleanup(node.close)
        node.start()
        user, session, page = self.open_sender(url=node.url + "/events")
        connection = connection_of(page)
        browser = self.browser
        browser.run("harness.send('send', 'room-1/chat', {text: 'hello'}, {x: '1', tag: ['a', 'b']})")
        browser.run("harness.upload('upload', 'room-1/pictures', {caption: 'a cat'}, arguments[0])", FILES)
        page = browser.wait(answered(["send", "upload"]), 10, "both answered")
        requests = {r.path.split("?")[0]: r for r in backend.wait_for(lambda rs: len(rs) >= 2, 10, "both reach the backend")}
        keys = {p["path"]: p["key"] for p in page["posts"]}

        send, upload = requests["/hooks/room-1/chat"], requests["/hooks/room-1/pictures"]
        self.assertEqual(send.path, "/hooks/room-1/chat?x=1&tag=a&tag=b", "the query is passed on as written")
        for kind, request in (("send", send), ("upload", upload)):
            identity = {k: request.headers.get(k) for k in ("x-sse-user", "x-sse-tenant", "x-sse-session", "x-sse-client", "x-sse-connection")}
            self.assertEqual(identity, {"x-sse-user": user, "x-sse-tenant": TENANT, "x-sse-session": session,
                                        "x-sse-client": "phone-1", "x-sse-connection": connection}, f"the {kind}'s sender")
            self.assertEqual(request.headers.get("idempotency-key"), keys[f"/{kind}/room-1/{request.path.split('/')[-1].split('?')[0]}"])
            self.assertTrue(request.headers.get("x-sse-send-id"))
            self.assertNotIn("authorization", request.headers, "the token stays with the node")
            self.assertNotIn("cookie", request.headers)
        self.assertEqual(json.loads(send.body), {"text": "hello"})
        self.assertTrue(upload.headers["content-type"].startswith("multipart/form-data; boundary="))
        parts = multipart_parts(upload)
        self.assertEqual([content for _, content in parts], [b"a cat", NOTE.encode()])
        self.assertIn('filename="note.txt"', parts[1][0])

        # The backend's answer, as it gave it.
        self.assertEqual({k: outcome(page, "send")[k] for k in ("status", "contentType", "body")},
                         {"status": 201, "contentType": "application/json", "body": json.dumps({"stored": send.headers["idempotency-key"]})})
        self.assertEqual({k: outcome(page, "upload")[k] for k in ("status", "contentType", "body")},
                         {"status": 422, "contentType": "text/plain; charset=utf-8", "body": "too blurry"})
        browser.screenshot("send-to-http-upstream")

    def test_sends_made_while_offline_arrive_once_after_reconnecting(self):
        backend = HTTPBackend(lambda request: (200, "application/json", b'{"ok": true}'))
        self.addCleanup(backend.close)
        # Authentication off: the page says who it is in the query, and its sends must say the same.
        node = SpareNode("--no-auth", "--upstream-url", backend.url)
        self.addCleanup(node.close)
        node.start()
        user, session = unique("offline"), unique("tab")
        query = {"user": user, "tenant": TENANT, "session": session}
        _, _, page = self.open_sender(url=node.url + "/events", query=query)
        browser = self.browser

        node.stop()
        browser.wait(lambda s: named(s["events"], "close") and s["state"] != "open", 10, "the page lost its stream")
        labels = [f"send-{n}" for n in range(1, 5)]
        for n, label in enumerate(labels[:3], 1):
            browser.run("harness.send(arguments[0], 'inbox', {n: arguments[1]})", label, n)
        browser.run("harness.upload(arguments[0], 'inbox', {n: '4'}, arguments[1])", labels[3], FILES)
        node.start()
        page = browser.wait(answered(labels), 30, "every send answered after reconnecting")
        connection = connection_of(page)
        self.assertEqual(len(named(page["events"], "connected")), 2, "answered on the second stream")
        for label in labels:
            self.assertEqual(outcome(page, label)["status"], 200, outcome(page, label))

        requests = backend.wait_for(lambda rs: len(rs) >= 4, 10, "the sends reach the backend")
        keys = [r.headers.get("idempotency-key") for r in requests]
        self.assertEqual(len(requests), 4, f"each send once: {requests}")
        self.assertEqual(sorted(keys), sorted(p["key"] for p in page["posts"]), "every send, each with its own key")
        self.assertEqual(len(set(keys)), 4)
        bodies = sorted(json.loads(r.body)["n"] for r in requests if r.headers["content-type"] == "application/json")
        self.assertEqual(bodies, [1, 2, 3])
        for request in requests:
            self.assertEqual(
                {k: request.headers.get(k) for k in ("x-sse-user", "x-sse-tenant", "x-sse-session", "x-sse-connection")},
                {"x-sse-user": user, "x-sse-tenant": TENANT, "x-sse-session": session, "x-sse-connection": connection},
                "the sender as the stream's query says, on the stream it has now")
        self.figures = f"4 sends while offline, {len(requests)} requests at the backend"
        browser.screenshot("sends-after-reconnecting")

    def test_a_send_the_node_cannot_take_now_is_tried_again_while_connected(self):
        def answer(request):
            key = request.headers["idempotency-key"]
            if "/flaky" in request.path and sum(r.headers["idempotency-key"] == key for r in backend.requests) == 1:
                return 503, "application/json", b'{"error": "warming_up"}'
            if "/slow" in request.path and not request.released.is_set():
                return None  # held: the browser loses this attempt while the node is still on it
            return 200, "application/json", b'{"ok": true}'

        backend = HTTPBackend(answer)
        self.addCleanup(backend.close)
        node = SpareNode("--upstream-url", backend.url)
        self.addCleanup(node.close)
        node.start()
        network = TCPProxy(node.port)  # the page reaches the node through it: its stream and its sends
        self.addCleanup(network.close)
        self.open_sender(url=network.url + "/events")
        browser = self.browser

        # The backend answers 503 once: tried again with backoff, on the same stream, with the same key.
        browser.run("harness.send('flaky', 'flaky', {n: 1})")
        page = browser.wait(answered(["flaky"]), 10, "the flaky send answered")
        self.assertEqual(outcome(page, "flaky")["status"], 200, outcome(page, "flaky"))
        self.assertEqual([p["status"] for p in page["posts"]], [503, 200])
        self.assertEqual(len({p["key"] for p in page["posts"]}), 1, "one key across the retry")

        # The network drops while the node hands a send on; once the stream is back, the retry finds the
        # first attempt under way (409 in_flight), waits, and ends as a duplicate: the backend got it once.
        browser.run("harness.send('slow', 'slow', {n: 2})")
        [held] = [r for r in backend.wait_for(lambda rs: any("/slow" in r.path for r in rs), 10, "the slow send arrives")
                  if "/slow" in r.path]
        network.cut()  # (Chromium itself may send the request again at once on a new connection)
        # The first 409 may come while the stream is down (then the send waits for `connected`); the
        # ones after it come on the open stream, and each is followed by a retry after its Retry-After.
        page = browser.wait(lambda s: len([p for p in s["posts"] if p["status"] == 409]) >= 3, 20, "retries refused as in flight")
        self.assertEqual(outcome(page, "slow")["status"], None, "a 409 in_flight does not end the send")
        held.released.set()
        page = browser.wait(answered(["slow"]), 10, "the slow send answered")
        slow = outcome(page, "slow")
        self.assertEqual((slow["status"], json.loads(slow["body"]).get("duplicate")), (200, True), slow)
        slow_posts = [p for p in page["posts"] if p["path"] == "/send/slow"]
        self.assertEqual(len({p["key"] for p in slow_posts}), 1, "one key across the retries")
        self.assertEqual(len([r for r in backend.requests if "/slow" in r.path]), 1, "the backend got it once")
        refused = [i for i, p in enumerate(slow_posts) if p["status"] == 409]
        gaps = [slow_posts[i + 1]["at"] - slow_posts[i]["answeredAt"] for i in refused[1:]]
        self.assertTrue(gaps and all(gap >= 950 for gap in gaps), f"tried again after Retry-After (1 s): {gaps} ms")
        self.figures = "attempts: flaky " + "/".join(str(p["status"]) for p in page["posts"] if p["path"] == "/send/flaky") + \
            ", slow " + "/".join(str(p["status"]) for p in slow_posts)
        browser.screenshot("send-retried")
