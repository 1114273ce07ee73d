"""A reload, or a new page, resumes from the last id the client kept: nothing lost, nothing twice."""

import threading
import time

from harness import BrowserTestCase, api, named, publish, to_user


class ReloadTests(BrowserTestCase):
    def test_reload_resumes_with_nothing_lost_or_twice(self):
        user, config = self.new_user_page("reloader")
        browser = self.browser
        browser.open_connected(config)
        for n in range(1, 6):
            publish(to_user(user), str(n))
        browser.wait(lambda s: len(named(s["kept"], "tick")) >= 5, 10, "events 1-5")

        # Events 6-10 race the reload: each lands in the old page, in history while no page streams,
        # or in the new page; whichever, the tab gets it once.
        racing = threading.Thread(target=lambda: [publish(to_user(user), str(n)) for n in range(6, 11)])
        before = browser.snapshot()["page"]
        browser.run("location.reload()")
        racing.start()
        racing.join()
        browser.wait(lambda s: s["page"] != before and named(s["events"], "connected"), 10, "connected after the reload")

        # Events 11-15 are published while no page of the tab is open at all.
        browser.driver.get("about:blank")
        for n in range(11, 16):
            publish(to_user(user), str(n))
        browser.open(config)
        page = browser.wait(lambda s: named(s["events"], "connected"), 10, "connected after coming back")
        self.assertTrue(page["opens"][0]["lastEventId"], "the new page resumes from the stored id")
        for n in range(16, 21):
            publish(to_user(user), str(n))
        # Events to one user arrive in order: once 20 is here, a copy of an earlier one would be too.
        page = browser.wait_for_tick(20, record="kept")
        self.expect_ticks(page["kept"], list(range(1, 21)), "events across a reload and a new page")
        self.figures = f"{len(named(page['kept'], 'connected'))} streams, 20 events once each"
        browser.screenshot("reload-resumes")

    def test_a_long_backlog_replays_once_and_in_order(self):
        user, config = self.new_user_page("backlog")
        browser = self.browser
        browser.open_connected(config)
        browser.driver.get("about:blank")
        count = 900  # history keeps 1,000 per stream
        for first in range(1, count + 1, 300):
            batch = [{"target": to_user(user), "event": "tick", "data": str(n)} for n in range(first, first + 300)]
            status, answer = api("POST", "/publish", batch, node=1)
            self.assertEqual(status, 202, answer)
        started = time.monotonic()
        browser.open(config)
        page = browser.wait(lambda s: len(named(s["events"], "tick")) >= count, 20, f"{count} events replayed")
        replayed = time.monotonic() - started
        self.expect_ticks(page["events"], list(range(1, count + 1)), "the replayed backlog")
        self.figures = f"{count} events replayed in {replayed * 1000:.0f} ms (page load included)"
        browser.screenshot("long-backlog")
