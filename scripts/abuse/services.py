"""The suite's own redis-server and rabbitmq-server, through scripts/services.sh, and putting them back
to empty between cases."""

import os
import shutil
import subprocess

from amqp import AMQPClient, AMQPError
from resp import Redis, RedisError

# Queues the nodes declare that outlive a node, emptied before each case.
SHARED_QUEUES = ["sse.ingress", "sse.poison", "sse.dead-letter"]


class Services:
    def __init__(self, settings):
        self.settings = settings
        self.started_here = False
        self.environment = dict(
            os.environ, SERVICES_DIR=settings.services_dir, REDIS_PORT=str(settings.redis_port),
            AMQP_PORT=str(settings.amqp_port), RABBIT_NAME=settings.rabbit_name)

    def _run(self, command):
        result = subprocess.run(
            ["bash", str(self.settings.repo / "scripts/services.sh"), command], env=self.environment,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=240)
        if result.returncode != 0:
            raise RuntimeError(f"services.sh {command} failed: {result.stdout.decode(errors='replace')[-500:]}")
        return result.stdout.decode(errors="replace")

    def redis_up(self):
        try:
            redis = self.redis()
            try:
                return redis.call("PING") == b"PONG"
            finally:
                redis.close()
        except (OSError, RedisError):
            return False

    def rabbitmq_up(self):
        try:
            self.amqp().close()
            return True
        except (OSError, AMQPError):
            return False

    def start(self):
        """Starts both servers with empty data, unless they are up already (then they are reused)."""
        if self.redis_up() and self.rabbitmq_up():
            return
        for data in ("redis", "rabbitmq"):
            shutil.rmtree(os.path.join(self.settings.services_dir, data), ignore_errors=True)
        os.makedirs(self.settings.services_dir, exist_ok=True)
        self._run("start")
        self.started_here = True

    def ensure_running(self):
        """Starts again whichever server is down, with its data."""
        if not self.redis_up():
            self.start_redis()
        if not self.rabbitmq_up():
            self.start_rabbitmq()

    def stop(self):
        """Stops what `start` started."""
        if self.started_here:
            self._run("stop")

    def stop_redis(self):
        self._run("stop-redis")  # redis-cli shutdown nosave

    def start_redis(self):
        self._run("start-redis")

    def stop_rabbitmq(self):
        self._run("stop-rabbitmq")

    def start_rabbitmq(self):
        self._run("start-rabbitmq")

    def redis(self):
        return Redis(self.settings.redis_port)

    def amqp(self):
        return AMQPClient(self.settings.amqp_port)

    def reset(self, node_queues=()):
        """Empties Redis and the shared queues, and deletes the queues of nodes that are gone."""
        redis = self.redis()
        redis.call("FLUSHALL")
        redis.close()
        client = self.amqp()
        try:
            for queue in SHARED_QUEUES:
                client.purge(queue)
            for queue in node_queues:
                client.delete_queue(queue)
        finally:
            client.close()
