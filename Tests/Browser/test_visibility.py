"""`onlyWhenVisible`: once no tab of the origin has been visible for that many seconds the stream is let
go, so the user goes offline; it comes back, resuming, when a tab is shown. Chromium hides a tab when
another tab is brought to the front or the window is minimized, as it does for a person."""

import time

from harness import BrowserTestCase, mint, named, presence, publish, to_user, unique, wait_until

HIDDEN_SECONDS = 1


class VisibilityTests(BrowserTestCase):
    def online(self, user):
        return presence(user)["online"]

    def test_the_stream_is_let_go_while_no_tab_is_visible_and_resumes_when_one_is_shown(self):
        user = unique("visible")
        config = self.page(token=mint(user), onlyWhenVisible=HIDDEN_SECONDS)
        browser = self.browser
        browser.open(config)
        browser.wait(lambda s: s["leader"] and named(s["events"], "connected"), 10, "connected")

        # A second tab in front hides the leader's, but one tab is still looked at: the stream stays.
        browser.open(config, new_tab=True)
        follower = browser.snapshot()
        self.assertEqual((follower["visibility"], follower["leader"]), ("visible", False))
        end = time.monotonic() + 3 * HIDDEN_SECONDS
        while time.monotonic() < end:
            self.assertTrue(self.online(user), "the stream stays while a tab is visible")
            time.sleep(0.2)

        # The window minimized: no tab visible. The user goes offline within the grace period (and
        # the one-second timer granularity of hidden tabs).
        hidden_at = time.monotonic()
        browser.driver.minimize_window()
        wait_until(lambda: not self.online(user), 10, "offline while no tab is visible")
        released = time.monotonic() - hidden_at
        self.assertGreaterEqual(released, HIDDEN_SECONDS * 0.9, "not before the grace period")
        for n in range(1, 4):  # kept in history for when a tab is shown again
            publish(to_user(user), str(n))

        shown_at = time.monotonic()
        browser.driver.maximize_window()
        wait_until(lambda: self.online(user), 10, "online again once a tab is shown")
        back = time.monotonic() - shown_at
        publish(to_user(user), "4")
        page = browser.wait_for_tick(4)
        self.expect_ticks(page["events"], [1, 2, 3, 4], "events published while hidden, then one live")
        self.figures = f"offline {released * 1000:.0f} ms after hiding, online {back * 1000:.0f} ms after showing"
        browser.screenshot("only-when-visible")
