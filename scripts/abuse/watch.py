"""What the suite watches on the node while an attack runs: its memory and open files (sampled),
and whether it still answers its probes."""

import threading
import time

import web


class Repeating:
    """Runs `turn()` every `interval` seconds on a thread, from entering a `with` block until leaving it."""

    def __init__(self, interval):
        self.interval = interval
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stopping.set()
        self.thread.join()

    def turn(self):
        raise NotImplementedError

    def _run(self):
        while not self.stopping.is_set():
            started = time.monotonic()
            self.turn()
            self.stopping.wait(max(0.0, self.interval - (time.monotonic() - started)))


class ResourceSampler(Repeating):
    """Samples the node's resident memory and open files, keeping the peak."""

    def __init__(self, node, interval=0.25):
        super().__init__(interval)
        self.node = node
        self.peak_rss = node.rss_mb()
        self.peak_files = node.open_files()

    def __exit__(self, *_):
        super().__exit__()
        self.turn()

    def turn(self):
        self.peak_rss = max(self.peak_rss, self.node.rss_mb())
        self.peak_files = max(self.peak_files, self.node.open_files())


class ProbeWatch(Repeating):
    """Asks GET /healthz (and /readyz) every half second while an attack runs, as a liveness and a
    readiness probe would. Like Kubernetes' probes, one that gets no 200 within `timeout` has failed,
    and `threshold` failures in a row of one probe would restart the node (or take it out of service)."""

    def __init__(self, port, timeout=3.0, interval=0.5, readiness=True, threshold=3):
        super().__init__(interval)
        self.port = port
        self.timeout = timeout
        self.paths = ["/healthz", "/readyz"] if readiness else ["/healthz"]
        self.threshold = threshold
        self.latencies = []
        self.failures = []
        self.streaks = {}  # path -> failures in a row so far
        self.longest_streak = 0

    @property
    def slowest(self):
        return max(self.latencies, default=0.0)

    @property
    def would_restart(self):
        """A probe failed `threshold` times in a row."""
        return self.longest_streak >= self.threshold

    def turn(self):
        path = self.paths[len(self.latencies) % len(self.paths)]
        answer = web.get(self.port, path, timeout=self.timeout)
        self.latencies.append(answer.seconds)
        if answer.status == 200:
            self.streaks[path] = 0
        else:
            self.failures.append(f"{path}: {answer.status or answer.error} after {answer.seconds:.1f} s")
            self.streaks[path] = self.streaks.get(path, 0) + 1
            self.longest_streak = max(self.longest_streak, self.streaks[path])


def wait_until(condition, timeout, interval=0.25):
    """Polls `condition` until it returns something true or `timeout` passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
