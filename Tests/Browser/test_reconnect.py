"""A node going away: the client hears why, reconnects with backoff (starting from the node's short
retry hint), and resumes from its last id once a node answers again."""

import json

from harness import BrowserTestCase, SpareNode, mint, named, publish, to_user, unique


class ReconnectTests(BrowserTestCase):
    def test_a_draining_node_sends_the_client_away_and_it_resumes_when_a_node_is_back(self):
        node = SpareNode()
        self.addCleanup(node.close)
        node.start()
        user = unique("drained")
        browser = self.browser
        browser.open_connected(self.page(token=mint(user), url=node.url + "/events"))
        for n in range(1, 4):
            publish(to_user(user), str(n), node=0)
        browser.wait(lambda s: len(named(s["events"], "tick")) == 3, 10, "events 1-3")

        node.stop()  # SIGTERM: the node drains its streams, then exits
        page = browser.wait(lambda s: named(s["events"], "close"), 10, "told the node is going")
        farewell = named(page["events"], "close")[0]
        self.assertEqual(json.loads(farewell["data"]), {"reason": "drain", "reconnect": True})
        for n in range(4, 7):  # kept in history while the user has no stream
            publish(to_user(user), str(n), node=0)
        # Nobody answers on that URL now: the client keeps trying, further apart each time.
        browser.wait(lambda s: len(s["opens"]) >= 3, 15, "two attempts while the node is down")
        node.start()
        page = browser.wait(lambda s: len(named(s["events"], "connected")) == 2, 30, "connected to the node again")
        publish(to_user(user), "7", node=0)
        page = browser.wait_for_tick(7)
        self.expect_ticks(page["events"], list(range(1, 8)), "across the node's restart")

        attempts = [o["at"] for o in page["opens"][1:]]
        gaps = [b - a for a, b in zip([farewell["at"]] + attempts, attempts)]
        self.assertTrue(all(gap >= 45 for gap in gaps), f"no attempt hard on the heels of another: {gaps} ms")
        self.figures = f"{len(attempts)} attempts after the drain, {', '.join(map(str, gaps))} ms apart"
        browser.screenshot("drained-and-back")
