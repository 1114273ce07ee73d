"""What the browser tests share: the nodes they run against (scripts/browser-tests.sh starts them and
says where in the environment), tokens and publishes, a headless Chromium per test, and waits that poll
for what they wait for, with a deadline, instead of sleeping."""

import json
import os
import shlex
import signal
import struct
import subprocess
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

NODES = os.environ["BROWSER_NODES"].split(",")  # base URLs of the nodes, e.g. http://127.0.0.1:18620
PAGES = os.environ["BROWSER_PAGES"]  # the origin serving Tests/Browser/pages (not a node's)
API_KEY = os.environ["SSE_FANOUT_AUTH_API_KEYS"].split(",")[0]
SSE_FANOUT = os.environ["BROWSER_SSE_FANOUT"]  # the binary, for `sse-fanout token`
ARTIFACTS = os.environ["BROWSER_ARTIFACTS"]  # screenshots go here
SPARE_PORT = int(os.environ["BROWSER_SPARE_PORT"])  # for a node a test starts and stops itself
NODE_ARGS = shlex.split(os.environ["BROWSER_NODE_ARGS"])  # the other nodes' settings
CHROMIUM = os.environ.get("BROWSER_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("BROWSER_CHROMEDRIVER", "/usr/bin/chromedriver")

def unique(name):
    """A user, channel or session no other test or run has used: a kick bar or a history outlives them."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def wait_until(probe, timeout, what):
    """Calls `probe` until it returns something truthy, and returns that; fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s (last seen: {last!r})")
        time.sleep(0.05)


# ---- the cluster ----------------------------------------------------------------------------------


def mint(user, ttl="10m", channels=(), sid=None, tenant=None):
    """A subscriber token signed with the nodes' secret, by `sse-fanout token`."""
    args = [SSE_FANOUT, "token", "--user", user, "--ttl", ttl]
    if tenant:
        args += ["--tenant", tenant]
    for channel in channels:
        args += ["--channel", channel]
    if sid:
        args += ["--sid", sid]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def api(method, path, body=None, node=0):
    """A backend request with the API key; returns (status, JSON answer)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(NODES[node] + path, data=data, method=method)
    request.add_header("X-API-Key", API_KEY)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def publish(target, data, event="tick", node=1):
    """Publishes through a node other than the one the page streams from (by default), so the event
    crosses RabbitMQ; returns the answer once RabbitMQ confirmed it."""
    status, answer = api("POST", "/publish", {"target": target, "event": event, "data": data}, node)
    if status != 202:
        raise AssertionError(f"publish to {target} answered {status} {answer}")
    return answer


def to_user(user):
    return {"type": "user", "id": user}


class SpareNode:
    """A node on SPARE_PORT, set up like the others (plus `args`), that a test starts, stops (SIGTERM:
    it drains) and starts again."""

    def __init__(self, *args):
        self.port = SPARE_PORT
        self.url = f"http://127.0.0.1:{SPARE_PORT}"
        self.args = list(args)
        self.process = None
        self.log = open(os.path.join(ARTIFACTS, f"node-{SPARE_PORT}.log"), "ab")

    def start(self):
        self.process = subprocess.Popen(
            [SSE_FANOUT, "serve", "--port", str(SPARE_PORT), "--node-id", f"browser-{SPARE_PORT}", *NODE_ARGS, *self.args],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(self.ready, 30, f"the node on {SPARE_PORT} is ready")

    def ready(self):
        try:
            with urllib.request.urlopen(self.url + "/readyz", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def close(self):
        self.stop()
        self.log.close()


def presence(user):
    status, answer = api("GET", "/presence/users/" + urllib.parse.quote(user))
    if status != 200:
        raise AssertionError(f"presence of {user} answered {status} {answer}")
    return answer


# ---- the browser ----------------------------------------------------------------------------------


class Browser:
    """One headless Chromium (a fresh profile: empty storage) driven through chromedriver."""

    WIDTH, HEIGHT = 1000, 760
    live = set()  # every browser not yet quit, so a run stopped midway still ends them

    def __init__(self):
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         f"--window-size={self.WIDTH},{self.HEIGHT}", "--no-first-run"):
            options.add_argument(argument)
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        Browser.live.add(self)
        self.driver.set_script_timeout(10)
        # What an empty page's screenshot weighs: a page's must weigh more to count as non-empty.
        self.driver.get("about:blank")
        self.blank_size = len(self.driver.get_screenshot_as_png())

    def open(self, config, new_tab=False):
        """Opens the test page with `config` (see pages/client.js) and waits until the module is loaded;
        returns the tab's window handle."""
        if new_tab:
            self.driver.switch_to.new_window("tab")
        self.driver.get(page_url(config))
        self.wait(lambda s: s["loaded"] or s["error"], 10, "the client module loads")
        error = self.snapshot()["error"]
        if error:
            raise AssertionError(f"the page could not load the client: {error}")
        return self.driver.current_window_handle

    def open_connected(self, config, new_tab=False):
        """Opens the test page, as `open`, and waits until its stream said `connected`."""
        handle = self.open(config, new_tab)
        self.wait(lambda s: named(s["events"], "connected"), 10, "connected")
        return handle

    def wait_for_tick(self, n, record="events", timeout=10):
        """Waits until tick `n` is among the page's events (or, with record="kept", the tab's)."""
        return self.wait(lambda s: n in ticks(s[record]), timeout, f"event {n}")

    def switch(self, handle):
        self.driver.switch_to.window(handle)

    def snapshot(self):
        """The page's record (pages/client.js, harness.snapshot()); None before the page set it up."""
        return self.driver.execute_script("return window.harness ? window.harness.snapshot() : null")

    def wait(self, condition, timeout, what):
        """Polls this tab's snapshot until `condition(snapshot)` holds; returns that snapshot."""
        def probe():
            snapshot = self.snapshot()
            return snapshot if snapshot is not None and condition(snapshot) else None
        try:
            return wait_until(probe, timeout, what)
        except AssertionError:
            raise AssertionError(f"{what}: not within {timeout} s; the page had {self.snapshot()!r}") from None

    def run(self, script, *args):
        return self.driver.execute_script(script, *args)

    def screenshot(self, name):
        """Saves this tab's screenshot to ARTIFACTS/<name>.png and checks it shows something: a PNG of
        the window's size, heavier than an empty page's."""
        path = os.path.join(ARTIFACTS, name + ".png")
        png = self.driver.get_screenshot_as_png()
        with open(path, "wb") as file:
            file.write(png)
        if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
            raise AssertionError(f"{path} is not a PNG")
        width, height = struct.unpack(">II", png[16:24])
        if width == 0 or height == 0 or len(png) <= self.blank_size:
            raise AssertionError(f"{path} is empty ({width}x{height}, {len(png)} bytes; an empty page: {self.blank_size})")
        return path

    def quit(self):
        Browser.live.discard(self)
        self.driver.quit()


def page_url(config):
    return PAGES + "/client.html#" + urllib.parse.quote(json.dumps(config))


def ticks(events):
    """The numbers of the `tick` events among a page's recorded events, in the order they came."""
    return [int(e["data"]) for e in events if e["name"] == "tick"]


def named(events, name):
    return [e for e in events if e["name"] == name]


class BrowserTestCase(unittest.TestCase):
    """A test with its own Chromium; a test that fails leaves a screenshot of where it stood."""

    figures = None  # set by a test to show a measurement in the table

    def setUp(self):
        self.browser = Browser()
        self.addCleanup(self.browser.quit)

    def tearDown(self):
        # The result already holds this test's failure or error when tearDown runs.
        result = getattr(getattr(self, "_outcome", None), "result", None)
        failed = result is not None and any(test is self for test, _ in result.failures + result.errors)
        if failed:
            try:
                self.browser.screenshot(self.id().split(".")[-1] + "-failed")
            except Exception:  # noqa: BLE001 - the failure itself is what the run reports
                pass

    def page(self, **config):
        """The test page's configuration: the module from node 0, and whatever the test adds."""
        return {"module": NODES[0], **config}

    def new_user_page(self, name, **config):
        """A user no test has used, and the test page's configuration with a token for them."""
        user = unique(name)
        return user, self.page(token=mint(user), **config)

    def expect_ticks(self, snapshot_events, expected, what):
        got = ticks(snapshot_events)
        self.assertEqual(got, expected, f"{what}: lost {sorted(set(expected) - set(got))}, "
                                        f"twice {sorted({n for n in got if got.count(n) > 1})}")
