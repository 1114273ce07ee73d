"""What the server says at a stream's end or start reaches the page, and the client acts on it: a
kick, an expired token, a last id the server cannot read."""

import json
import time

from harness import BrowserTestCase, api, mint, named, presence, publish, to_user, unique

RETRY_SECONDS = 1  # the nodes' --retry (scripts/browser-tests.sh)


class ServerEventTests(BrowserTestCase):
    def holds(self, condition, seconds, what):
        """Checks that `condition(snapshot)` stays true for `seconds` (a client that must do nothing)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            snapshot = self.browser.snapshot()
            self.assertTrue(condition(snapshot), f"{what}; the page had {snapshot!r}")
            time.sleep(0.1)

    def test_a_kick_without_reconnect_stops_the_client(self):
        user = unique("kicked")
        browser = self.browser
        browser.open_connected(self.page(token=mint(user, sid=unique("session"))))

        # A kick that allows coming back: the client comes back.
        status, answer = api("POST", "/disconnect", {"target": to_user(user), "reason": "moved", "reconnect": True}, node=1)
        self.assertEqual((status, answer["nodes"]), (202, 1), answer)
        browser.wait(lambda s: len(named(s["events"], "connected")) == 2 and s["state"] == "open", 10,
                     "back after a kick with reconnect: true")

        leader = browser.driver.current_window_handle
        browser.open(self.page(token=mint(user, sid=unique("session"))), new_tab=True)  # a follower

        status, answer = api("POST", "/disconnect", {"target": to_user(user), "reason": "signed out", "reconnect": False}, node=1)
        self.assertEqual((status, answer["nodes"]), (202, 1), answer)
        page = browser.wait(lambda s: s["state"] == "closed", 10, "the follower stops after a kick with reconnect: false")
        farewells = [json.loads(e["data"]) for e in named(page["events"], "disconnect")]
        self.assertEqual(farewells, [{"reason": "signed out", "reconnect": False}],
                         f"the follower heard the kick (and not a refusal of its own: {named(page['events'], 'close')})")
        # Three reconnect intervals with no new stream request: neither tab tries again (when one did,
        # the kick's bar would refuse it, but it would have tried).
        self.holds(lambda s: s["opens"] == [] and s["state"] == "closed", 3 * RETRY_SECONDS,
                   "the follower tab takes no stream over after the kick")
        browser.screenshot("kick-stops-follower")
        browser.switch(leader)
        page = browser.snapshot()
        self.assertEqual((page["state"], page["active"]), ("closed", False))
        self.assertEqual(len(page["opens"]), 2, "the leading tab asked for no stream after the kick")
        self.assertFalse(presence(user)["online"], "nobody online for the kicked user")
        self.figures = f"2 stream requests, none after the kick in {3 * RETRY_SECONDS} s, in either tab"
        browser.screenshot("kick-stops")

    def test_an_expired_token_is_renewed_through_get_token_and_the_stream_resumes(self):
        user = unique("expiring")
        browser = self.browser
        # getToken hands out a token that runs out in a few seconds, then one that lasts.
        browser.open_connected(self.page(tokens=[mint(user, ttl="4s"), mint(user, ttl="10m")]))
        for n in range(1, 4):
            publish(to_user(user), str(n))
        browser.wait(lambda s: named(s["events"], "expired"), 15, "the stream expires")
        for n in range(4, 7):  # while the client gets a new token and comes back
            publish(to_user(user), str(n))
        page = browser.wait(lambda s: len(named(s["events"], "connected")) == 2, 10, "connected with the new token")
        info = json.loads(named(page["events"], "connected")[-1]["data"])
        self.assertGreater(info["expiresAt"], time.time() * 1000 + 60_000, "the new stream runs on the new token")
        self.assertEqual(page["tokenCalls"], 2, "getToken was asked again after expired")
        self.assertEqual(len(page["opens"]), 2, "one stream request per token: no refused attempt in between")
        for n in range(7, 10):
            publish(to_user(user), str(n))
        page = browser.wait_for_tick(9)
        self.expect_ticks(page["events"], list(range(1, 10)), "across the token's renewal")
        browser.screenshot("expired-token-renewed")

    def test_an_unreadable_last_id_gets_reset_once_and_the_stream_goes_on(self):
        user = unique("reset")
        browser = self.browser
        garbage = "not-a-resume-token"
        browser.open(self.page(token=mint(user), clientId="reset-client", garbageLastId=garbage))
        page = browser.wait(lambda s: named(s["events"], "reset"), 10, "reset")
        self.assertEqual(page["opens"][0]["lastEventId"], garbage)
        self.assertEqual(json.loads(named(page["events"], "reset")[0]["data"]), {"reason": "unknown_last_event_id"})
        publish(to_user(user), "1")
        browser.wait(lambda s: named(s["events"], "tick"), 10, "an event after the reset")

        # The next stream resumes from a real id: no second reset, nothing replayed twice.
        api("POST", "/disconnect", {"target": to_user(user), "reconnect": True}, node=1)
        page = browser.wait(lambda s: len(named(s["events"], "connected")) == 2, 10, "back after a kick")
        self.assertNotEqual(page["opens"][1]["lastEventId"], garbage)
        publish(to_user(user), "2")
        page = browser.wait(lambda s: len(named(s["events"], "tick")) >= 2, 10, "event 2")
        self.assertEqual(len(named(page["events"], "reset")), 1, "reset once")
        self.expect_ticks(page["events"], [1, 2], "after the reset")
        browser.screenshot("reset-reaches-the-page")

    def test_a_refusal_reaches_every_tab_as_close_and_stops_them(self):
        user, channel = unique("refused"), unique("granted")
        # The token that lasts no longer grants the channel: the stream after the expiry is refused.
        config = self.page(tokens=[mint(user, ttl="4s", channels=[channel]), mint(user, ttl="10m")], query={"channel": channel})
        browser = self.browser
        leader = browser.open_connected(config)
        browser.open(config, new_tab=True)
        page = browser.wait(lambda s: s["state"] == "closed", 15, "the follower stops after the refusal")
        self.assertTrue(named(page["events"], "expired"), "the follower heard the expiry")
        closes = [json.loads(e["data"]) for e in named(page["events"], "close")]
        self.assertEqual(closes, [{"reason": "channel_not_allowed", "status": 403, "reconnect": False}],
                         "the follower heard why the stream ended")
        self.assertEqual(page["opens"], [], "the follower took nothing over")
        browser.screenshot("refusal-follower")
        browser.switch(leader)
        page = browser.snapshot()
        self.assertEqual(page["state"], "closed")
        self.assertEqual([json.loads(e["data"])["reason"] for e in named(page["events"], "close")], ["channel_not_allowed"])
        self.assertEqual(len(page["opens"]), 2)
        browser.screenshot("refusal-leader")
