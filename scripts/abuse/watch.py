"""What the suite watches on the node while an attack runs: its memory and open files (sampled),
and whether it still answers its probes."""

import threading
import time

import web


class ResourceSampler:
    """Samples the node's resident memory and open files every `interval` on a thread, keeping the peak."""

    def __init__(self, node, interval=0.25):
        self.node = node
        self.interval = interval
        self.peak_rss = node.rss_mb()
        self.peak_files = node.open_files()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stopping.set()
        self.thread.join()
        self._sample()

    def _sample(self):
        self.peak_rss = max(self.peak_rss, self.node.rss_mb())
        self.peak_files = max(self.peak_files, self.node.open_files())

    def _run(self):
        while not self.stopping.wait(self.interval):
            self._sample()


class ProbeWatch:
    """Asks GET /healthz (and /readyz) every half second while an attack runs, as a liveness and a
    readiness probe would; every probe must be answered 200 within `timeout`."""

    def __init__(self, port, timeout=3.0, interval=0.5, readiness=True):
        self.port = port
        self.timeout = timeout
        self.interval = interval
        self.readiness = readiness
        self.latencies = []
        self.failures = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stopping.set()
        self.thread.join()

    @property
    def slowest(self):
        return max(self.latencies, default=0.0)

    def _run(self):
        paths = ["/healthz", "/readyz"] if self.readiness else ["/healthz"]
        turn = 0
        while not self.stopping.is_set():
            path = paths[turn % len(paths)]
            turn += 1
            answer = web.get(self.port, path, timeout=self.timeout)
            self.latencies.append(answer.seconds)
            if answer.status != 200:
                self.failures.append(f"{path}: {answer.status or answer.error} after {answer.seconds:.1f} s")
            self.stopping.wait(max(0.0, self.interval - answer.seconds))


def wait_until(condition, timeout, interval=0.25):
    """Polls `condition` until it returns something true or `timeout` passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
