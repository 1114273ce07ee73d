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


def connected_users(page):
    """Who each `connected` event a tab heard was for, in order."""
    return [json.loads(e["data"]).get("user") for e in named(page["events"], "connected")]


def connection_ids(user):
    return sorted(c["connectionId"] for c in presence(user)["connections"])


class TabsOfTwoUsersTests(BrowserTestCase):
    """Tabs share a stream only with tabs of the same user: tabs that get their token from `getToken`
    are told apart by the token's user, taken before they join, or by the page's `userKey`."""

    def test_two_users_with_get_token_in_one_origin_hold_a_stream_each(self):
        alice, bob = unique("alice"), unique("bob")
        browser = self.browser
        alice_tab = browser.open(self.page(tokens=[mint(alice)]))
        page = browser.wait(lambda s: s["leader"] and named(s["events"], "connected"), 10, "alice's tab leads and connects")
        self.assertEqual(connected_users(page), [alice])
        bob_tab = browser.open(self.page(tokens=[mint(bob)]), new_tab=True)
        page = browser.wait(lambda s: named(s["events"], "connected"), 10, "bob's tab connects")
        self.assertEqual(connected_users(page), [bob], "bob's tab hears bob's stream, not alice's")
        self.assertTrue(page["leader"], "bob's tab leads a stream of its own")
        self.assertEqual(len(page["opens"]), 1, "bob's tab opened a stream")
        # A second tab of alice's, also with getToken, shares her stream.
        alice_second = browser.open(self.page(tokens=[mint(alice)]), new_tab=True)
        page = browser.wait(lambda s: s["state"] == "open", 10, "alice's second tab hears her stream is open")
        self.assertFalse(page["leader"], "alice's second tab follows her first")
        self.assertEqual(page["opens"], [], "alice's second tab opens no stream")
        self.assertEqual(len(connection_ids(alice)), 1, "one stream for alice's two tabs")
        self.assertEqual(len(connection_ids(bob)), 1, "one stream for bob's tab")

        for n in (1, 2):
            publish(to_user(alice), str(n))
            publish(to_user(bob), str(100 + n))
        for handle, expected, what in ((alice_tab, [1, 2], "alice's tab"), (bob_tab, [101, 102], "bob's tab"),
                                       (alice_second, [1, 2], "alice's second tab")):
            browser.switch(handle)
            page = browser.wait_for_tick(expected[-1])
            self.expect_ticks(page["events"], expected, what)
        browser.screenshot("two-users-alice-follower")
        browser.switch(bob_tab)
        browser.screenshot("two-users-bob")

    def test_a_tab_switching_to_another_user_leaves_the_first_users_tabs(self):
        alice, bob = unique("alice"), unique("bob")
        browser = self.browser
        # getToken in the switching tab hands out alice's token, which runs out in a few seconds, then
        # bob's: the account changed while the tab was open.
        switching = browser.open(self.page(tokens=[mint(alice, ttl="4s"), mint(bob)]))
        browser.wait(lambda s: s["leader"] and named(s["events"], "connected"), 10, "the switching tab leads alice's stream")
        staying = browser.open(self.page(tokens=[mint(alice)]), new_tab=True)
        page = browser.wait(lambda s: s["state"] == "open", 10, "alice's other tab hears her stream is open")
        self.assertFalse(page["leader"], "alice's other tab follows")
        publish(to_user(alice), "1")
        browser.wait_for_tick(1)

        browser.switch(switching)
        browser.wait_for_tick(1)
        browser.wait(lambda s: named(s["events"], "expired"), 15, "alice's token runs out")
        for n in (2, 3):  # while the tab turns to bob, and alice's other tab takes her stream over
            publish(to_user(alice), str(n))
        page = browser.wait(lambda s: connected_users(s) == [alice, bob], 10, "the switching tab connects as bob")
        self.assertTrue(page["leader"], "the switching tab leads bob's stream")
        for n in (4, 5):
            publish(to_user(alice), str(n))
            publish(to_user(bob), str(100 + n))
        page = browser.wait_for_tick(105)
        self.expect_ticks(page["events"], [1, 104, 105], "the switching tab: alice's event before, bob's after")
        bob_stream = json.loads(named(page["events"], "connected")[-1]["data"])["connectionId"]
        browser.screenshot("switching-tab-as-bob")

        browser.switch(staying)
        page = browser.wait_for_tick(5)
        self.expect_ticks(page["events"], [1, 2, 3, 4, 5], "alice's other tab")
        self.assertEqual(connected_users(page), [alice], "alice's other tab heard only alice's stream")
        self.assertTrue(page["leader"], "alice's other tab took her stream over")
        alice_stream = json.loads(named(page["events"], "connected")[-1]["data"])["connectionId"]
        self.assertEqual(connection_ids(alice), [alice_stream], "alice's stream is her remaining tab's")
        self.assertEqual(connection_ids(bob), [bob_stream], "bob's stream is the switched tab's")
        browser.screenshot("staying-tab-as-alice")

    def test_tabs_with_a_user_key_share_by_it_without_asking_for_a_token_first(self):
        alice, bob = unique("alice"), unique("bob")
        browser = self.browser
        browser.open_connected(self.page(userKey="t1/" + alice, tokens=[mint(alice)]))
        follower = browser.open(self.page(userKey="t1/" + alice, tokens=[mint(alice)]), new_tab=True)
        page = browser.wait(lambda s: s["state"] == "open", 10, "alice's second tab hears her stream is open")
        self.assertFalse(page["leader"])
        self.assertEqual(page["tokenCalls"], 0, "a tab that follows by its user key asks for no token")
        bob_tab = browser.open(self.page(userKey="t1/" + bob, tokens=[mint(bob)]), new_tab=True)
        page = browser.wait(lambda s: named(s["events"], "connected"), 10, "bob's tab connects")
        self.assertEqual(connected_users(page), [bob])
        self.assertTrue(page["leader"])
        publish(to_user(alice), "1")
        publish(to_user(bob), "101")
        page = browser.wait_for_tick(101)
        browser.switch(follower)
        followed = browser.wait_for_tick(1)
        self.expect_ticks(followed["events"], [1], "alice's second tab")
        self.expect_ticks(page["events"], [101], "bob's tab")
        self.assertEqual(len(connection_ids(alice)), 1)

    def test_a_follower_takes_no_events_from_a_leader_of_another_user(self):
        alice = unique("alice")
        browser = self.browser
        browser.open_connected(self.page(tokens=[mint(alice)]))
        browser.open(self.page(tokens=[mint(alice)]), new_tab=True)
        browser.wait(lambda s: s["state"] == "open" and not s["leader"], 10, "the second tab follows")
        # Something on the group's channel that says it leads a stream for another user.
        browser.run("""
            const channel = new BroadcastChannel(harness.sse.group)
            channel.postMessage({ type: 'event', name: 'tick', data: '666', id: '', from: 'elsewhere',
                                  group: harness.sse.group, user: { user: 'mallory', tenant: '', session: '' } })
            channel.close()""")
        page = browser.wait(lambda s: s["leader"] and named(s["events"], "connected"), 10, "the follower streams alone")
        self.assertEqual(connected_users(page), [alice])
        self.assertEqual(len(page["opens"]), 1, "the follower opened a stream of its own")
        publish(to_user(alice), "1")
        page = browser.wait_for_tick(1)
        self.expect_ticks(page["events"], [1], "the follower that went alone")
        self.assertEqual(len(connection_ids(alice)), 2, "two streams: the follower's own and the first tab's")
