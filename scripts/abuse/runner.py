"""Runs one case: a fresh node with bystanders, the attack, the checks every case shares, cleanup.

Each case gets a fresh node (its own port) with a few bystander streams open, attacks it, and then
`aftermath.check_aftermath` checks what it left behind. A case that raises fails with what it raised;
the suite goes on with the next."""

import signal
import time
import traceback
from dataclasses import dataclass

from aftermath import check_aftermath
from case import CaseFailed, Context
from node import Node


# No case may run longer than this (seconds): every step has its own timeout, this catches the sum.
TIME_LIMIT = {"short": 180, "full": 600}


def _overran(limit):
    def handler(signum, frame):
        raise CaseFailed(f"the case ran longer than {limit} s and was stopped")
    return handler


def run_case(spec, settings, services, index):
    """Runs one case on a fresh node; returns a `Result`."""
    port = settings.node_ports[index % len(settings.node_ports)]
    services.reset()
    log_path = settings.run_dir / f"{spec.name}.log"
    arguments = spec.node_args(settings) if callable(spec.node_args) else spec.node_args
    node = Node(settings, port, arguments, log_path, fd_limit=spec.fd_limit, auth=spec.auth)
    started = time.monotonic()
    ctx = None
    limit = TIME_LIMIT["short" if settings.short else "full"]
    signal.signal(signal.SIGALRM, _overran(limit))
    signal.alarm(limit)
    try:
        node.start()
        node.wait_ready()
        ctx = Context(spec, settings, services, node)
        ctx.open_bystanders()
        spec.run(ctx)
        check_aftermath(ctx)
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
        signal.alarm(0)
        if ctx is not None:
            for stream in ctx.streams:
                stream.close()
            ctx.redis.close()
        node.stop()
        try:
            services.ensure_running()  # a case that stopped one and failed may have left it down
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
