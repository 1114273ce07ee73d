"""Tabs of one origin share one stream: a leader holds it, the others hear its events, and when the
leader goes another takes over and resumes where it stopped."""

import json

from harness import BrowserTestCase, mint, named, presence, publish, to_user, unique, wait_until


class TabTests(BrowserTestCase):
    def test_two_tabs_hold_one_stream_and_the_leader_hands_over(self):
        user, config = self.new_user_page("tabs")
        browser = self.browser
        first = browser.open(config)
        browser.wait(lambda s: s["leader"] and named(s["events"], "connected"), 10, "the first tab leads and connects")
        second = browser.open(config, new_tab=True)
        follower = browser.snapshot()
        self.assertFalse(follower["leader"], "a second tab does not lead")
        self.assertEqual(follower["opens"], [], "a second tab opens no stream")
        connections = presence(user)["connections"]
        self.assertEqual(len(connections), 1, f"presence lists one connection for two tabs: {connections}")

        for n in range(1, 6):
            publish(to_user(user), str(n))
        page = browser.wait_for_tick(5)
        self.expect_ticks(page["events"], [1, 2, 3, 4, 5], "the follower tab")
        browser.switch(first)
        page = browser.wait(lambda s: len(named(s["events"], "tick")) >= 5, 10, "the leader gets 1-5")
        self.expect_ticks(page["events"], [1, 2, 3, 4, 5], "the leader tab")
        browser.screenshot("two-tabs-leader")

        # The leader goes; events 6-10 are published while nobody holds the stream.
        closed_at = browser.run("return Date.now()")  # the tabs share one clock
        browser.driver.close()
        browser.switch(second)
        for n in range(6, 11):
            publish(to_user(user), str(n))
        page = browser.wait(lambda s: [e for e in named(s["events"], "connected") if e["leader"]], 10,
                            "the second tab takes over and connects")
        took_over = named(page["events"], "connected")[-1]
        handover = took_over["at"] - closed_at
        self.assertLessEqual(handover, 2000, "the second tab connects within 2 s of the leader closing")
        self.assertTrue(page["opens"][0]["lastEventId"], "the new leader resumes from the stored id")

        for n in range(11, 16):
            publish(to_user(user), str(n))
        page = browser.wait_for_tick(15)
        self.expect_ticks(page["events"], list(range(1, 16)), "across the handover")
        connection = json.loads(took_over["data"])["connectionId"]
        wait_until(lambda: [c["connectionId"] for c in presence(user)["connections"]] == [connection], 10,
                   "presence lists the new leader's connection alone")
        self.figures = f"handover {handover} ms"
        browser.screenshot("two-tabs-new-leader")

    def test_a_follower_closed_and_connected_again_takes_over_and_lets_go_like_any_tab(self):
        user, config = self.new_user_page("rejoin")
        browser = self.browser
        first = browser.open(config)
        browser.wait(lambda s: named(s["events"], "connected"), 10, "the first tab connects")
        second = browser.open(config, new_tab=True)
        browser.run("harness.sse.close(); harness.sse.connect()")

        browser.switch(first)
        browser.driver.close()
        browser.switch(second)
        browser.wait(lambda s: s["leader"] and named(s["events"], "connected"), 10, "the second tab takes over")
        # Closed and connected again as the only tab: it leads again, and its stream comes back.
        browser.run("harness.sse.close(); harness.sse.connect()")
        page = browser.wait(lambda s: s["leader"] and len(named(s["events"], "connected")) == 2, 10,
                            "the tab leads again after close() and connect()")
        self.assertEqual(len(page["opens"]), 2, "one stream per connect()")
        publish(to_user(user), "1")
        page = browser.wait(lambda s: named(s["events"], "tick"), 10, "an event on the new stream")
        self.expect_ticks(page["events"], [1], "on the new stream")
        browser.screenshot("follower-rejoins")

    def test_tabs_asking_for_different_streams_hold_one_each(self):
        user, news, sport = unique("two-rooms"), unique("news"), unique("sport")
        token = mint(user, channels=[news, sport])
        browser = self.browser
        first = browser.open(self.page(token=token, query={"channel": news}))
        browser.wait(lambda s: s["leader"] and named(s["events"], "connected"), 10, "the news tab connects")
        browser.open(self.page(token=token, query={"channel": sport}), new_tab=True)
        page = browser.wait(lambda s: s["leader"] and named(s["events"], "connected"), 10,
                            "the sport tab leads a stream of its own")
        self.assertEqual(json.loads(named(page["events"], "connected")[0]["data"])["channels"], [sport])
        publish({"type": "channel", "id": sport}, "2")
        publish({"type": "channel", "id": news}, "1")
        page = browser.wait(lambda s: named(s["events"], "tick"), 10, "the sport event")
        browser.screenshot("different-streams-sport")
        browser.switch(first)
        page = browser.wait(lambda s: named(s["events"], "tick"), 10, "the news event")
        self.expect_ticks(page["events"], [1], "the news tab")
        browser.switch(browser.driver.window_handles[-1])
        self.expect_ticks(browser.snapshot()["events"], [2], "the sport tab")
        self.assertEqual(len(presence(user)["connections"]), 2)
