"""What an abuse case is: a name, what it does, how its node is started, and the function that attacks
it (`@case`); and the `Context` that function gets: its node, bystander streams, Redis, checks and
figures. `runner` runs a case, `aftermath` checks what every case must leave behind."""

from dataclasses import dataclass, field

import tokens
from sse import Stream
from watch import ProbeWatch, ResourceSampler

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
    auth: bool = False  # the node checks tokens (tokens.SECRET) and takes tokens.API_KEY; bystanders get tokens


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
    """What a case's function works with: its node, Redis, the servers, streams it opens (closed when the
    case ends), and the checks and figures that make its row of the table."""

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

    def stream(self, query, headers=None, keep=False, extra=b"", source="127.0.0.1"):
        """Opens an event stream (read on its own thread); closed when the case ends."""
        stream = Stream(self.port, query, headers=headers, extra=extra, source=source).open()
        self.streams.append(stream)
        if keep:
            self.kept.append(stream)
        return stream

    def publisher_headers(self):
        """What a publish needs on this case's node: the API key with authentication on, nothing without."""
        return {"X-API-Key": tokens.API_KEY} if self.spec.auth else {}

    def open_bystanders(self):
        for index in range(self.spec.bystanders):
            if self.spec.auth:
                token = tokens.mint(f"by-{index}", channels=["by-news"])
                stream = self.stream({"channel": "by-news", "clientId": f"by-{index}-tab"}, headers=tokens.bearer(token), keep=True)
            else:
                stream = self.stream({"user": f"by-{index}", "channel": "by-news", "clientId": f"by-{index}-tab"}, keep=True)
            self.bystanders.append(stream)
        for stream in self.bystanders:
            self.require(stream.wait_open(15), f"a bystander stream did not open ({stream.status})")

    def attack(self):
        """Watches the node while the attack inside runs: peak memory and files, and probes."""
        return _Attack(self)


class _Attack:
    """`with ctx.attack():` — memory and open files before, their peak during, probes throughout."""

    def __init__(self, ctx):
        self.ctx = ctx

    def __enter__(self):
        ctx = self.ctx
        ctx.rss_before = ctx.node.rss_mb()
        ctx.files_before = ctx.node.open_files()
        self.sampler = ResourceSampler(ctx.node).__enter__()
        ctx.probes = ProbeWatch(ctx.port, readiness=ctx.spec.probes_readiness).__enter__()
        return ctx

    def __exit__(self, *_):
        ctx = self.ctx
        ctx.probes.__exit__()
        self.sampler.__exit__()
        ctx.rss_peak = self.sampler.peak_rss
        ctx.files_peak = self.sampler.peak_files
