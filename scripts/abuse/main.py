"""The abuse suite: attacks real sse-fanout nodes as a careless or hostile client or producer would,
and checks that each node stays up, serves everyone else, gives its resources back and leaves
nothing stale in Redis. Run through scripts/abuse.sh, which builds the node first."""

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cases  # noqa: F401  (registers every case)
import report
from services import Services
from cases.registry import PER_STREAM_WARNINGS
from case import CASES
from runner import Result, run_case

# What is skipped unless --skip says otherwise: cases of defects not fixed yet, and checks (not
# cases) that are only noted while skipped. Take a name out once its fix is in.
OPEN_DEFECTS: list[str] = []
PENDING_CHECKS: list[str] = []
DEFAULT_SKIP = OPEN_DEFECTS + PENDING_CHECKS
# Checks (not cases) that --skip may name.
CHECKS = [PER_STREAM_WARNINGS]


@dataclass
class Settings:
    repo: Path
    binary: str
    short: bool
    skip: set
    rss_bounds: dict
    run_dir: Path
    redis_port: int
    amqp_port: int
    node_ports: list
    services_dir: str
    rabbit_name: str
    request_timeout: float

    @property
    def redis_url(self):
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def amqp_url(self):
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/%2f"


def parse_ports(text):
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def parse_arguments():
    names = [spec.name for spec in CASES]
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", required=True, help="the sse-fanout executable")
    parser.add_argument("--short", action="store_true", help="smaller counts and timeouts, every case (CI)")
    parser.add_argument("--only", default="", help="comma-separated cases to run (default: all)")
    parser.add_argument("--skip", default=",".join(DEFAULT_SKIP),
                        help=f"comma-separated cases to skip, or checks to only note (default: {','.join(DEFAULT_SKIP)}); "
                             "'' runs and enforces everything")
    parser.add_argument("--rss-bound", action="append", default=[], metavar="CASE=MB",
                        help="resident memory a case may keep after its attack, over before it (CASE 'all' for every case)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    arguments = parser.parse_args()
    if arguments.list:
        for spec in CASES:
            pending = " (skipped by default)" if spec.name in DEFAULT_SKIP else ""
            print(f"{spec.name:24} {spec.what}{pending}")
        sys.exit(0)
    only = [n for n in arguments.only.split(",") if n]
    skip = {n for n in arguments.skip.split(",") if n}
    for name in only + list(skip):
        if name not in names and name not in CHECKS:
            parser.error(f"no case named {name!r} (--list lists them)")
    bounds = {}
    for entry in arguments.rss_bound:
        name, _, megabytes = entry.partition("=")
        bounds[name] = float(megabytes)
    return arguments, only, skip, bounds


def main():
    arguments, only, skip, bounds = parse_arguments()
    repo = Path(__file__).resolve().parents[2]
    run_dir = repo / ".run/abuse" / time.strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        repo=repo, binary=arguments.binary, short=arguments.short, skip=skip, rss_bounds=bounds, run_dir=run_dir,
        redis_port=int(os.environ.get("ABUSE_REDIS_PORT", "6394")),
        amqp_port=int(os.environ.get("ABUSE_AMQP_PORT", "5686")),
        node_ports=parse_ports(os.environ.get("ABUSE_NODE_PORTS", "18601-18610")),
        services_dir=os.environ.get("ABUSE_SERVICES_DIR", "/tmp/sse-abuse-services"),
        rabbit_name=os.environ.get("ABUSE_RABBIT_NAME", "ssefanout-abuse"),
        # The node's http.requestTimeout: its default, 10 s, or in the short run 3 s, so that
        # slowloris and stalled bodies are cut off sooner and the run stays short.
        request_timeout=3 if arguments.short else 10,
    )
    services = Services(settings)
    print(f"starting redis-server :{settings.redis_port} and rabbitmq-server :{settings.amqp_port} ({settings.services_dir})", flush=True)
    services.start()
    results = []
    try:
        for index, spec in enumerate(CASES):
            if only and spec.name not in only:
                continue
            if spec.name in skip:
                results.append(Result(spec.name, "SKIP", {}, [], [], 0.0))
                continue
            print(f"[{spec.name}] {spec.what}", flush=True)
            result = run_case(spec, settings, services, index)
            print(f"[{spec.name}] {result.verdict} in {result.seconds:.0f} s", flush=True)
            for failure in result.failures:
                print(f"    {failure}", flush=True)
            results.append(result)
    finally:
        services.stop()
    text = report.table(results, settings.short)
    print()
    print(text)
    (repo / ".run/abuse/last-table.txt").write_text(text + "\n")
    (repo / ".run/abuse/last-table.md").write_text(report.markdown(results) + "\n")
    print(f"\nnode logs: {run_dir}")
    return 1 if any(r.verdict == "FAIL" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
