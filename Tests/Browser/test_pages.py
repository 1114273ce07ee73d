"""The demo page (/demo, the nodes run with --demo) and the admin page (/admin), each served by a node and
used as a person would: typing, clicking, and reading what the page shows."""

import os
import tempfile
import urllib.parse

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from harness import API_KEY, NODES, Browser, BrowserTestCase, unique, wait_until


def demo_url(node, user, tenant):
    return NODES[node] + "/demo?" + urllib.parse.urlencode({"user": user, "tenant": tenant, "connect": "1"})


def text(browser, element_id):
    return browser.driver.find_element(By.ID, element_id).text


def wait_text(browser, element_id, wanted, timeout, what):
    """Waits until the element's text contains `wanted`; returns the text."""
    return wait_until(lambda: wanted in text(browser, element_id) and text(browser, element_id), timeout, what)


class PageTests(BrowserTestCase):
    def other_browser(self):
        browser = Browser()
        self.addCleanup(browser.quit)
        return browser

    def open_demo(self, browser, node, user, tenant):
        browser.driver.get(demo_url(node, user, tenant))
        wait_text(browser, "status", "online", 15, f"{user}'s demo page connects")

    def test_the_demo_connects_shows_presence_chats_and_uploads(self):
        tenant = unique("demo")
        alice, bob = unique("alice"), unique("bob")
        self.open_demo(self.browser, 0, alice, tenant)
        other = self.other_browser()
        self.open_demo(other, 1, bob, tenant)  # the other node: chat crosses RabbitMQ

        wait_text(self.browser, "online", bob, 10, "alice sees bob online")
        wait_text(other, "online", alice, 10, "bob sees alice online")

        field = self.browser.driver.find_element(By.ID, "chat-text")
        field.send_keys("hello from alice")
        self.browser.driver.find_element(By.ID, "chat-send").click()
        wait_text(other, "messages", f"{alice}: hello from alice", 10, "bob gets alice's chat message")
        wait_text(self.browser, "messages", f"{alice}: hello from alice", 10, "alice sees her own message")

        Select(other.driver.find_element(By.ID, "dm-to")).select_by_value(alice)
        other.driver.find_element(By.ID, "dm-text").send_keys("just for you")
        other.driver.find_element(By.ID, "dm-send").click()
        wait_text(self.browser, "messages", f"(to you) {bob}: just for you", 10, "alice gets bob's message to her")

        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as file:
            file.write("an uploaded file\n")
        self.addCleanup(os.unlink, file.name)
        self.browser.driver.find_element(By.ID, "upload-file").send_keys(file.name)
        self.browser.driver.find_element(By.ID, "upload-send").click()
        result = wait_text(self.browser, "upload-result", '"id"', 15, "the upload is answered")
        self.assertTrue(result.startswith("202 "), result)
        name = os.path.basename(file.name)
        wait_text(other, "messages", f"uploaded {name}", 10, "bob hears of the upload")
        wait_text(self.browser, "log", "connected", 5, "the event log shows the connection")
        self.browser.screenshot("demo")
        other.screenshot("demo-other-user")

    def test_the_admin_page_lists_nodes_and_users_kicks_and_charts(self):
        tenant = unique("demo-admin")  # demo tokens are minted in demo tenants only
        victim = unique("victim")
        user_browser = self.other_browser()
        self.open_demo(user_browser, 1, victim, tenant)

        driver = self.browser.driver
        driver.get(NODES[0] + "/admin?" + urllib.parse.urlencode({"tenant": tenant}))
        driver.find_element(By.ID, "api-key").send_keys(API_KEY)
        driver.find_element(By.ID, "key-form").submit()

        for node in NODES:
            wait_text(self.browser, "nodes", "browser-" + node.rsplit(":", 1)[1], 10, f"node {node} is listed")
        wait_text(self.browser, "users", victim, 10, "the connected user is listed")
        wait_text(self.browser, "channels", "demo-room", 10, "the demo channel is listed")
        queues = wait_text(self.browser, "queues", "sse.ingress", 15, "queue depths are shown")
        self.assertIn("sse.demo.uploads", queues)
        # Two readings of the nodes' totals (written at each lease renewal) make the first point of each chart.
        wait_until(lambda: driver.find_element(By.CSS_SELECTOR, "#chart-delivered .value").text not in ("", "–"), 15,
                   "the delivery chart has a value")
        self.assertTrue(driver.find_elements(By.CSS_SELECTOR, "#chart-published svg polyline"))

        driver.find_element(By.CSS_SELECTOR, f'#users button[data-user="{victim}"]').click()
        wait_text(self.browser, "users", "kicked", 10, "the kick is answered")
        wait_text(user_browser, "log", "disconnect", 10, "the user's stream gets disconnect")
        wait_text(user_browser, "status", "stopped", 10, "the user's page stops for good")
        self.browser.screenshot("admin")
