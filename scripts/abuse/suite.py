"""How one abuse case runs, and what every case asserts besides its own checks.

Each case gets a fresh node (its own port) with a few bystander streams open, attacks it, and then:
- the node still runs and answers GET /healthz, and answered every probe during the attack;
- every bystander stream is still open and receives an event published after the attack;
- the node's open files come back to what they were before the attack;
- its resident memory comes back under the case's stated bound (growth over before the attack);
- Redis holds no registry or presence entry of a stream that is closed.
A case adds its own checks (what the attacker got, log lines, what Redis or RabbitMQ hold)."""

import time
import traceback
from dataclasses import dataclass, field

import web
from node import Node
from sse import Stream
from watch import ProbeWatch, ResourceSampler, wait_until

# Attacking streams name their users and channels with this prefix, bystanders with "by-": nothing
# of an attacker may stay in the registry once its streams are closed.
ATTACKER = "atk-"


# What a node's resident memory may exceed its level before an attack by, once the attack is over: the
# node gives freed heap back once 32 MiB of it gathered (node.memoryTrimThreshold), so up to that much
# may stay, and 16 MB more for what an attack leaves warm (pools, buffers, caches).
RSS_BOUND_MB = 48


@dataclass
class CaseSpec:
    name: str
    what: str
    run: object
    rss_bound_mb: float = RSS_BOUND_MB
    node_args: object = field(default_factory=list)  # a list, or settings -> list
    bystanders: int = 3
    fd_limit: int = 0
    probes_readiness: bool = True  # a case that takes Redis or RabbitMQ away expects /readyz to say so


CASES = []


def case(name, what, **options):
    """Registers a case: `run(ctx)` attacks the node in `ctx` and checks what the attacker got."""
    def register(run):
        CASES.append(CaseSpec(name, what, run, **options))
        return run
    return register


class CaseFailed(Exception):
    """Ends a case at once (its remaining steps make no sense)."""


class Context:
    def __init__(self, spec, settings, services, node):
        self.spec = spec
        self.settings = settings
        self.services = services
        self.node = node
        self.port = node.port
        self.redis = services.redis()
        self.figures = {}
        self.failures = []
        self.notes = []
        self.streams = []  # every stream opened here, closed at the end
        self.kept = []  # streams the case leaves open on purpose: the registry may hold them
        self.bystanders = []
        self.rss_before = 0.0
        self.rss_peak = 0.0
        self.files_before = 0
        self.files_peak = 0
        self.probes = None

    # Counts and timings for the short and the full run

    def scale(self, full, short):
        return short if self.settings.short else full

    # Checks and figures

    def check(self, condition, message, pending=None):
        """Records a failure unless `condition` holds. A check named `pending` (a fix not in this
        tree yet) only notes what it found while that name is skipped."""
        if not condition:
            if pending and pending in self.settings.skip:
                self.notes.append(f"{message} (not enforced while {pending} is skipped)")
            else:
                self.failures.append(message)
        return condition

    def require(self, condition, message):
        if not condition:
            raise CaseFailed(message)

    def figure(self, name, value):
        self.figures[name] = value

    # Streams

    def stream(self, query, headers=None, keep=False, extra=b"", host="127.0.0.1"):
        """Opens an event stream (read on its own thread); closed when the case ends."""
        stream = Stream(self.port, query, headers=headers, extra=extra, host=host).open()
        self.streams.append(stream)
        if keep:
            self.kept.append(stream)
        return stream

    def open_bystanders(self):
        for index in range(self.spec.bystanders):
            stream = self.stream({"user": f"by-{index}", "channel": "by-news", "clientId": f"by-{index}-tab"}, keep=True)
            self.bystanders.append(stream)
        for stream in self.bystanders:
            self.require(stream.wait_open(15), f"a bystander stream did not open ({stream.status})")

    def attack(self):
        """Watches the node while the attack inside runs: peak memory and files, and probes."""
        return _Attack(self)


class _Attack:
    def __init__(self, ctx):
        self.ctx = ctx

    def __enter__(self):
        ctx = self.ctx
        ctx.rss_before = ctx.node.rss_mb()
        ctx.files_before = ctx.node.open_files()
        self.sampler = ResourceSampler(ctx.node).__enter__()
        ctx.probes = ProbeWatch(ctx.port, readiness=ctx.spec.probes_readiness).__enter__()
        self.started = time.monotonic()
        return ctx

    def __exit__(self, *_):
        ctx = self.ctx
        ctx.probes.__exit__()
        self.sampler.__exit__()
        ctx.rss_peak = self.sampler.peak_rss
        ctx.files_peak = self.sampler.peak_files


def run_case(spec, settings, services, index):
    """Runs one case on a fresh node; returns a `Result`."""
    port = settings.node_ports[index % len(settings.node_ports)]
    services.reset()
    log_path = settings.run_dir / f"{spec.name}.log"
    arguments = spec.node_args(settings) if callable(spec.node_args) else spec.node_args
    node = Node(settings, port, arguments, log_path, fd_limit=spec.fd_limit)
    started = time.monotonic()
    ctx = None
    try:
        node.start()
        node.wait_ready()
        ctx = Context(spec, settings, services, node)
        ctx.open_bystanders()
        spec.run(ctx)
        _common_checks(ctx)
    except CaseFailed as failure:
        if ctx is None:
            return Result(spec.name, "FAIL", {}, [str(failure)], [], time.monotonic() - started)
        ctx.failures.append(str(failure))
    except Exception as error:  # a bug or an unexpected answer: the case fails, the suite goes on
        detail = f"{type(error).__name__}: {error}"
        (settings.run_dir / f"{spec.name}.traceback").write_text(traceback.format_exc())
        if ctx is None:
            return Result(spec.name, "FAIL", {}, [detail], [], time.monotonic() - started)
        ctx.failures.append(detail)
    finally:
        if ctx is not None:
            for stream in ctx.streams:
                stream.close()
            ctx.redis.close()
        node.stop()
        try:
            services.reset(node_queues=[f"sse.node.{node.node_id}"])
        except Exception as error:
            if ctx is not None:
                ctx.failures.append(f"could not clean up after the case: {error}")
    verdict = "FAIL" if ctx.failures else "PASS"
    return Result(spec.name, verdict, ctx.figures, ctx.failures, ctx.notes, time.monotonic() - started)


@dataclass
class Result:
    name: str
    verdict: str  # PASS, FAIL, SKIP
    figures: dict
    failures: list
    notes: list
    seconds: float


def _common_checks(ctx):
    node = ctx.node
    ctx.require(node.running, f"the node exited ({node.process.returncode}); see {node.log_path}")
    if ctx.probes is not None:
        ctx.figure("probes", f"{len(ctx.probes.latencies)} answered, slowest {ctx.probes.slowest:.2f} s")
        ctx.check(not ctx.probes.failures, f"probes during the attack: {'; '.join(ctx.probes.failures[:3])}")
    health = web.get(ctx.port, "/healthz", timeout=3)
    ctx.check(health.status == 200, f"GET /healthz after the attack: {health}")
    _check_bystanders(ctx)
    _check_files(ctx)
    _check_memory(ctx)
    _check_registry(ctx)


def _check_bystanders(ctx):
    late = []
    for index, stream in enumerate(ctx.bystanders):
        marker = f"after-{ctx.spec.name}-{index}-{time.monotonic_ns()}"
        answer = web.publish_to_user(ctx.port, f"by-{index}", marker)
        got = answer.status == 202 and stream.wait_for(lambda e, m=marker: e.data == m, 5) is not None
        if not got:
            late.append(f"by-{index} ({'closed' if stream.closed else 'open'}, publish {answer.status or answer.error})")
    ctx.check(not late, f"bystanders without the event published after the attack: {', '.join(late)}")


def _check_files(ctx):
    if ctx.probes is None:
        return
    slack = 8  # connections to Redis and RabbitMQ may be made again meanwhile, probes come and go
    wait_until(lambda: ctx.node.open_files() <= ctx.files_before + slack, 20)
    after = ctx.node.open_files()
    ctx.figure("fds", f"{ctx.files_before}/{ctx.files_peak:,}/{after}")
    ctx.check(after <= ctx.files_before + slack, f"open files {after} after the attack, {ctx.files_before} before")


def _check_memory(ctx):
    if ctx.probes is None:
        return
    bound = ctx.settings.rss_bounds.get(ctx.spec.name, ctx.settings.rss_bounds.get("all", ctx.spec.rss_bound_mb))
    limit = ctx.rss_before + bound
    wait_until(lambda: ctx.node.rss_mb() <= limit, ctx.scale(20, 8), interval=0.5)
    after = ctx.node.rss_mb()
    ctx.figure("RSS MB", f"{ctx.rss_before:.0f}/{max(ctx.rss_peak, after):.0f}/{after:.0f} (≤+{bound:g})")
    ctx.check(after <= limit, f"resident memory {after:.0f} MB after the attack, over {ctx.rss_before:.0f} + {bound:g} MB")


def _check_registry(ctx):
    """Nothing in Redis for a stream that is closed: connection hashes, the node's set, addresses and
    presence name open streams only (README, "Redis key schema"). Unregistration is asynchronous,
    so this waits a little for it."""
    live = {stream.connection_id for stream in ctx.kept if not stream.closed and stream.connection_id}
    stale = wait_until(lambda: not stale_registry(ctx.redis, ctx.node.node_id, live), 20, interval=0.5)
    problems = stale_registry(ctx.redis, ctx.node.node_id, live)
    ctx.figure("redis", "clean" if not problems else "stale: " + ", ".join(problems))
    ctx.check(not problems, "Redis holds entries of closed streams: " + ", ".join(problems))


def stale_registry(redis, node_id, live):
    """What Redis holds beyond the `live` connection ids (empty when clean)."""
    problems = []
    conns = {key.split(":", 2)[2] for key in redis.scan("sse:conn:*")}
    if conns - live:
        problems.append(f"{len(conns - live)} sse:conn:* of closed streams")
    held = set(m.decode() for m in redis.call("SMEMBERS", f"sse:node:{node_id}:connections"))
    if held - live:
        problems.append(f"{len(held - live)} in sse:node:{node_id}:connections")
    if problems:
        return problems
    attacker = 0
    for key in redis.scan("sse:addr:*") + redis.scan("sse:node:*:addresses"):
        names = [key] + (redis.members(key) if key.endswith(":addresses") else [])
        attacker += sum(ATTACKER in name for name in names)
    for key in redis.scan("sse:presence:*"):
        if key.startswith("sse:presence:seq"):
            continue
        members = redis.members(key)
        attacker += (ATTACKER in key) + sum(ATTACKER in m for m in members)
        if key.startswith("sse:presence:conns:"):
            attacker += len(set(members) - live)
    if attacker:
        problems.append(f"{attacker} address or presence entries of closed streams")
    return problems
