"""The module loads from a node into a page of another origin and delivers what backends publish."""

import json

from harness import NODES, PAGES, BrowserTestCase, mint, named, presence, publish, to_user, unique, wait_until


class ModuleLoadingTests(BrowserTestCase):
    def test_loads_from_another_origin_and_receives_user_and_channel_events(self):
        user, channel = unique("loader"), unique("news")
        self.assertNotEqual(PAGES, NODES[0], "the page must come from another origin than the module")
        # No `url`: the stream defaults to the module's own origin, not the page's.
        self.browser.open(self.page(token=mint(user, channels=[channel]), query={"channel": channel}))
        connected = self.browser.wait(lambda s: named(s["events"], "connected"), 10, "connected")
        info = json.loads(named(connected["events"], "connected")[0]["data"])
        self.assertEqual((info["user"], info["channels"]), (user, [channel]))

        publish(to_user(user), "1")  # through the other node, so it crosses RabbitMQ
        publish({"type": "channel", "id": channel}, "2")
        page = self.browser.wait(lambda s: len(named(s["events"], "tick")) >= 2, 10, "both events")
        self.expect_ticks(page["events"], [1, 2], "a user event and a channel event")
        ticks = named(page["events"], "tick")
        self.assertTrue(all(t["id"] for t in ticks), "each event carries its id (the resume token)")
        self.assertEqual(self.browser.run("return location.origin"), PAGES)
        self.browser.screenshot("loads-from-another-origin")

    def test_switch_url_moves_the_stream_to_another_node(self):
        user = unique("switcher")
        browser = self.browser
        browser.open(self.page(token=mint(user)))
        page = browser.wait(lambda s: named(s["events"], "connected"), 10, "connected")
        first = json.loads(named(page["events"], "connected")[0]["data"])
        browser.run(f"harness.sse.switchURL({json.dumps(NODES[1] + '/events')})")
        page = browser.wait(lambda s: len(named(s["events"], "connected")) == 2, 10, "connected to the other node")
        second = json.loads(named(page["events"], "connected")[1]["data"])
        self.assertNotEqual(first["nodeId"], second["nodeId"])
        wait_until(lambda: [c["node"] for c in presence(user)["connections"]] == [second["nodeId"]], 10,
                   "one connection, on the other node")
        publish(to_user(user), "1", node=0)
        page = browser.wait(lambda s: named(s["events"], "tick"), 10, "an event on the new stream")
        self.expect_ticks(page["events"], [1], "after switching")
        browser.screenshot("switch-url")
