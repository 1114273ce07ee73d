"""One sse-fanout node under attack: started as a child process on its own port, with what the
suite reads from the outside (/proc: resident memory, open files, CPU time; its log)."""

import os
import signal
import subprocess
import time

import tokens
import web


class Node:
    def __init__(self, settings, port, arguments, log_path, fd_limit=None, auth=False):
        self.settings = settings
        self.port = port
        self.arguments = arguments
        self.log_path = log_path
        self.fd_limit = fd_limit
        # With `auth`, tokens signed with tokens.SECRET and the API key tokens.API_KEY; else none at all.
        self.auth = auth
        self.process = None
        self.log = None

    @property
    def node_id(self):
        return str(self.port)

    @property
    def pid(self):
        return self.process.pid

    def start(self):
        command = [
            self.settings.binary, "serve", "--port", str(self.port),
            "--amqp-url", self.settings.amqp_url, "--redis-url", self.settings.redis_url,
            "--log-level", "info", "--drain-window", "1",
        ]
        # Most attacks name their users in the query; who they are does not matter there.
        command += ["--jwt-secret", tokens.SECRET, "--api-key", tokens.API_KEY] if self.auth else ["--no-auth"]
        if self.settings.short:
            # The full run keeps the node's default (http.requestTimeout 10 s).
            command += ["--request-timeout", str(self.settings.request_timeout)]
        command += self.arguments
        if self.fd_limit:
            command = ["prlimit", f"--nofile={self.fd_limit}:{self.fd_limit}", "--"] + command
        # Settings from the caller's environment (SSE_FANOUT_*) must not change what the suite attacks.
        environment = {k: v for k, v in os.environ.items() if not k.startswith("SSE_FANOUT_")}
        self.log = open(self.log_path, "ab")
        self.log.write(f"--- {time.strftime('%H:%M:%S')} {' '.join(command)}\n".encode())
        self.log.flush()
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, env=environment)

    def wait_ready(self, timeout=60):
        """Waits until GET /readyz answers 200 (RabbitMQ and Redis reachable from the node)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"node {self.port} exited with {self.process.returncode}; see {self.log_path}")
            if web.get(self.port, "/readyz", timeout=2).status == 200:
                return
            time.sleep(0.2)
        raise RuntimeError(f"node {self.port} not ready within {timeout} s; see {self.log_path}")

    def is_ready(self):
        return web.get(self.port, "/readyz", timeout=3).status == 200

    def stop(self):
        """SIGTERM (a drain of one second), SIGKILL if it has not exited 20 s later."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    # What /proc says about the node

    def rss_mb(self):
        try:
            with open(f"/proc/{self.pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def open_files(self):
        try:
            return len(os.listdir(f"/proc/{self.pid}/fd"))
        except OSError:
            return 0

    def cpu_seconds(self):
        """User and system CPU time the node used so far."""
        try:
            with open(f"/proc/{self.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            return 0.0

    def log_offset(self):
        """Where the log ends now: `log_since` reads what came after."""
        self.log.flush()
        return os.path.getsize(self.log_path)

    def log_since(self, offset):
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace").splitlines()
