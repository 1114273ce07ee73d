#!/usr/bin/env python3
"""Medians and ratios of the benchmark scripts' results.jsonl, as Markdown tables.

Each line of results.jsonl is one sse-bench RESULT, tagged with `server` (fanout-1, fanout-n, nchan for
fanout-compare.sh; cross-node, churn for the cluster scripts), `run`, `tag` and `attempt`. Every figure is
the median over the runs, taken per figure; ratios are sse-fanout over nchan (for memory and latency lower
is better, for deliveries per CPU-second higher is better). A measurement during which other processes
used more than --max-other CPU-seconds is left out, and so is one the load tool marked invalid (it used
more than its stated share of a core, or fell behind its publishing schedule: `valid` false). Unicast (S3) and churn (S4) results are listed one per
line, each checked against the performance targets below.

    summarize.py [--max-other SECONDS] results.jsonl
"""
import argparse
import json
import math
import statistics
import sys
from collections import defaultdict

NAMES = {"fanout-1": "sse-fanout, 1 loop", "fanout-n": "sse-fanout, 1 loop/core", "nchan": "nginx+nchan, 1 worker",
         "fanout-1-nopacing": "sse-fanout, 1 loop, --no-pacing", "fanout-1-nometrics": "sse-fanout, 1 loop, --no-metrics",
         "floor": "floor (C, one write per delivery)", "fanout-1-baseline": "sse-fanout, 1 loop, baseline build"}
ORDER = ["fanout-1", "fanout-1-baseline", "fanout-1-nopacing", "fanout-1-nometrics", "fanout-n", "nchan", "floor"]
# fanout-compare.sh runs an sse-fanout server once per AUTH mode: fanout-1+hs256 is fanout-1 checking HS256
# tokens (scripts/bench/auth.sh).
AUTH_NAMES = {"users": "a user per stream, no token", "hs256": "HS256 tokens", "es256": "ES256 tokens"}
AUTH_ORDER = ["", "users", "hs256", "es256"]
# The performance targets the cluster scenarios are checked against.
UNICAST_MESSAGES_PER_SECOND = 20_000    # per node, at the most it takes
UNICAST_P99_MS = 5.0                    # at 1,000 messages/s
UNICAST_P99_RATE = 1_000
CHURN_CONNECTS_PER_SECOND = 5_000       # new streams per node, registered in Redis


def server_name(server):
    base, _, auth = server.partition("+")
    return NAMES.get(base, base) + (f", {AUTH_NAMES.get(auth, auth)}" if auth else "")


def server_order(server):
    base, _, auth = server.partition("+")
    return (ORDER.index(base) if base in ORDER else len(ORDER), AUTH_ORDER.index(auth) if auth in AUTH_ORDER else len(AUTH_ORDER), server)


def median(values):
    return statistics.median(values) if values else float("nan")


def ratio(a, b):
    return f"{a / b:.2f}" if b else "n/a"


def main(path, max_other):
    # Per tag, server and run: the last attempt that other processes did not disturb.
    chosen = {}
    disturbed = 0
    invalid = []
    with open(path) as lines:
        for line in lines:
            if not line.strip():
                continue
            result = json.loads(line)
            if result.get("otherCPUSeconds", 0) > max_other:
                disturbed += 1
                continue
            if result.get("valid") is False:
                invalid.append(result)
                continue
            chosen[(result["tag"], result["server"], result["run"])] = result
    groups = defaultdict(lambda: defaultdict(list))
    for (tag, server, _), result in sorted(chosen.items(), key=lambda item: (item[0][0], item[0][1], item[0][2])):
        groups[tag][server].append(result)
    if disturbed:
        print(f"({disturbed} broadcast measurements left out: other processes used more than {max_other} CPU-s during them)\n")
    for r in invalid:
        print(f"(left out as invalid: {r['tag']} {r['server']} run {r['run']}: {'; '.join(r.get('invalidReasons', []))})\n")

    idle = sorted((tag for tag in groups if tag.startswith("idle-")), key=lambda t: int(t.split("-")[1]))
    if idle:
        print("## Idle streams: server RSS per stream (KiB, median)\n")
        servers = sorted({s for t in idle for s in groups[t]}, key=server_order)
        variants = [s for s in servers if "+" in s and s.split("+")[0] in servers]
        compared = [s for s in servers if s != "nchan"] if "nchan" in servers else []
        headers = (["streams"] + [server_name(s) for s in servers] + [f"{s} / nchan" for s in compared] +
                   [f"{s} − {s.split('+')[0]}" for s in variants])
        print("| " + " | ".join(headers) + " |")
        print("|---" * (1 + len(servers) + len(compared) + len(variants)) + "|")
        for tag in idle:
            cells, medians = [], {}
            for server in servers:
                runs = groups[tag].get(server, [])
                if not runs:
                    cells.append("–")
                    continue
                medians[server] = median([r["rssPerConnectionKiB"] for r in runs])
                opened = min(r["opened"] for r in runs)
                wanted = runs[0]["connections"]
                note = "" if opened == wanted else f" (only {opened} opened)"
                each = "" if len(runs) == 1 else " (" + " ".join(f"{r['rssPerConnectionKiB']:.2f}" for r in sorted(runs, key=lambda r: r["run"])) + ")"
                cells.append(f"{medians[server]:.2f}{each}{note}")
            ratios = [ratio(medians.get(s, 0), medians.get("nchan", 0)) for s in compared]
            differences = [f"{medians[s] - medians[s.split('+')[0]]:+.2f}" if s in medians and s.split("+")[0] in medians else "–"
                           for s in variants]
            print(f"| {tag.split('-')[1]} | " + " | ".join(cells + ratios + differences) + " |")
        print()

    def broadcast_order(tag):
        sample = next(iter(groups[tag].values()))[0]
        return (-sample["rate"], sample["payloadBytes"])

    broadcast = sorted((tag for tag in groups if tag.startswith("broadcast-")), key=broadcast_order)
    for tag in broadcast:
        sample = next(iter(groups[tag].values()))[0]
        print(f"## Broadcast: {sample['connections']} streams, {sample['rate']:g}/s for {sample['durationSeconds']:g} s, "
              f"{sample['payloadBytes']}-byte payload (medians)\n")
        print("| server | runs | deliveries per server CPU-s (each run) | server CPU s (user+sys) | p50 ms | p99 ms | max ms "
              "| lost | closed by server | out of order | client CPU s | client µs/delivery | client core share | ½ serial write ms | other CPU s | server RSS MiB |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        medians = {}
        for server in ORDER + sorted(s for s in groups[tag] if s not in ORDER):
            runs = groups[tag].get(server)
            if not runs:
                continue
            m = {
                "rate": median([r["deliveriesPerServerCPUSecond"] for r in runs]),
                "cpu": median([r["serverCPU"]["user"] + r["serverCPU"]["system"] for r in runs]),
                "user": median([r["serverCPU"]["user"] for r in runs]),
                "system": median([r["serverCPU"]["system"] for r in runs]),
                "p50": median([r["latencyMilliseconds"]["p50"] for r in runs]),
                "p99": median([r["latencyMilliseconds"]["p99"] for r in runs]),
                "max": median([r["latencyMilliseconds"]["max"] for r in runs]),
                "lost": median([r["lost"] for r in runs]),
                "closed": median([r["streamsClosed"] for r in runs]),
                "order": median([r["outOfOrder"] for r in runs]),
                "client": median([r["clientCPU"]["user"] + r["clientCPU"]["system"] for r in runs]),
                "clientPer": median([r["client"]["microsecondsPerDelivery"] for r in runs if "client" in r]),
                "clientShare": median([r["client"]["coreShare"] for r in runs if "client" in r]),
                "halfSerial": median([r["halfSerialWriteMilliseconds"] for r in runs if "halfSerialWriteMilliseconds" in r]),
                # Results from before sse-bench measured it have no otherCPUSeconds.
                "other": median([r["otherCPUSeconds"] for r in runs if "otherCPUSeconds" in r]),
                "rss": median([r["serverRSSKiB"] for r in runs]) / 1024,
            }
            medians[server] = m
            each = " ".join(f"{r['deliveriesPerServerCPUSecond'] / 1000:.0f}k" for r in sorted(runs, key=lambda r: r["run"]))
            print(f"| {NAMES.get(server, server)} | {len(runs)} | **{m['rate'] / 1000:.0f}k** ({each}) | {m['cpu']:.2f} ({m['user']:.2f}+{m['system']:.2f}) "
                  f"| {m['p50']:.1f} | {m['p99']:.1f} | {m['max']:.1f} | {m['lost']:.0f} | {m['closed']:.0f} | {m['order']:.0f} "
                  f"| {m['client']:.2f} | {m['clientPer']:.2f} | {m['clientShare']:.2f} | {m['halfSerial']:.1f} "
                  f"| {'–' if math.isnan(m['other']) else format(m['other'], '.2f')} | {m['rss']:.0f} |")
        # Every other server against nchan (all figures), then against the floor (deliveries per CPU-second).
        for reference, full in (("nchan", True), ("floor", False)):
            if reference not in medians:
                continue
            r = medians[reference]
            for server, m in medians.items():
                if server == reference:
                    continue
                cells = [ratio(m["rate"], r["rate"])]
                if full:
                    cells += [ratio(m[k], r[k]) for k in ("cpu", "p50", "p99", "max")] + ["", "", "", ratio(m["client"], r["client"]),
                                                                                      "", "", "", "", ratio(m["rss"], r["rss"])]
                else:
                    cells += [""] * 13
                print(f"| *{server} / {reference}* | | " + " | ".join(f"*{c}*" if c else "" for c in cells) + " |")
        print()

    # In the order they were measured.
    unicast_and_churn([r for r in chosen.values() if r["scenario"] in ("unicast", "churn")])


def service_cpu(result, name):
    """CPU-seconds of the reported service processes whose name starts with `name`."""
    return sum(p["cpu"]["user"] + p["cpu"]["system"] for p in result.get("processes", [])
               if p["role"] == "service" and p["name"].startswith(name))


def check(ok):
    return "yes" if ok else "**no**"


def unicast_and_churn(results):
    unicast = [r for r in results if r["scenario"] == "unicast"]
    if unicast:
        print("## Unicast: each message to one stream (S3)\n")
        print(f"Targets: p99 < {UNICAST_P99_MS:g} ms at {UNICAST_P99_RATE:,} messages/s; "
              f"at least {UNICAST_MESSAGES_PER_SECOND:,} messages/s per node.\n")
        print("| measurement | published via | asked /s | delivered msg/s | p50 ms | p99 ms | p99.9 ms | max ms | lost "
              "| failed / skipped | nodes CPU s | redis CPU s | rabbitmq CPU s | other CPU s | target met |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        runs = defaultdict(list)
        for r in unicast:
            runs[r["tag"]].append(r)
        for r in unicast:
            lat = r["latencyMilliseconds"]
            if r["rate"] <= UNICAST_P99_RATE:
                target = f"p99 < {UNICAST_P99_MS:g} ms: {check(lat['p99'] < UNICAST_P99_MS)}"
            else:
                target = f"≥ {UNICAST_MESSAGES_PER_SECOND // 1000}k/s: {check(r['deliveriesPerSecond'] >= UNICAST_MESSAGES_PER_SECOND)}"
            name = r["tag"] if len(runs[r["tag"]]) == 1 else f"{r['tag']} (run {r['run']})"
            print(f"| {name} | {r['publishVia']} | {r['rate']:,.0f} | **{r['deliveriesPerSecond']:,.0f}** "
                  f"| {lat['p50']:.2f} | {lat['p99']:.2f} | {lat.get('p999', float('nan')):.2f} | {lat['max']:.1f} | {r['lost']} "
                  f"| {r['publishFailed']} / {r['publishSkipped']} | {r['serverCPU']['user'] + r['serverCPU']['system']:.2f} "
                  f"| {service_cpu(r, 'redis'):.2f} | {service_cpu(r, 'beam'):.2f} | {r['otherCPUSeconds']:.2f} | {target} |")
        print()
        repeated = {tag: rs for tag, rs in runs.items() if len(rs) > 1}
        if repeated:
            print("Medians of the repeated measurements (the target is checked on the median p99):\n")
            print("| measurement | runs | delivered msg/s | p50 ms | p99 ms | p99 ms, each run | p99.9 ms | max ms | lost "
                  "| nodes CPU s | redis CPU s | rabbitmq CPU s | target met |")
            print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
            for tag, rs in repeated.items():
                p99 = median([r["latencyMilliseconds"]["p99"] for r in rs])
                each = ", ".join(f"{r['latencyMilliseconds']['p99']:.2f}" for r in rs)
                target = (f"p99 < {UNICAST_P99_MS:g} ms: {check(p99 < UNICAST_P99_MS)}" if rs[0]["rate"] <= UNICAST_P99_RATE
                          else f"≥ {UNICAST_MESSAGES_PER_SECOND // 1000}k/s: "
                               f"{check(median([r['deliveriesPerSecond'] for r in rs]) >= UNICAST_MESSAGES_PER_SECOND)}")
                print(f"| {tag} | {len(rs)} | **{median([r['deliveriesPerSecond'] for r in rs]):,.0f}** "
                      f"| {median([r['latencyMilliseconds']['p50'] for r in rs]):.2f} | **{p99:.2f}** | {each} "
                      f"| {median([r['latencyMilliseconds'].get('p999', float('nan')) for r in rs]):.2f} "
                      f"| {median([r['latencyMilliseconds']['max'] for r in rs]):.1f} | {sum(r['lost'] for r in rs)} "
                      f"| {median([r['serverCPU']['user'] + r['serverCPU']['system'] for r in rs]):.2f} "
                      f"| {median([service_cpu(r, 'redis') for r in rs]):.2f} | {median([service_cpu(r, 'beam') for r in rs]):.2f} "
                      f"| {target} |")
            print()
    churn = [r for r in results if r["scenario"] == "churn"]
    if churn:
        print("## Churn: new streams, each registered, closed at `connected` (S4)\n")
        print(f"Target: at least {CHURN_CONNECTS_PER_SECOND:,} new streams/s per node (checked for runs that ask for that many; "
              "an open loop meets it when every connection it asked for connected, none skipped or failed).\n")
        print("| measurement | mode | tokens | connects/s | p50 ms | p99 ms | p99.9 ms | max ms | failed / skipped "
              "| node CPU s | redis CPU s | connects per node CPU-s | client CPU s | other CPU s | target met |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        runs = defaultdict(list)
        for r in churn:
            runs[r["tag"]].append(r)
        for r in churn:
            lat = r["latencyMilliseconds"]
            name = r["tag"] if len(runs[r["tag"]]) == 1 else f"{r['tag']} (run {r['run']})"
            print(f"| {name} | {churn_mode(r)} | {tokens(r)} | **{r['connectsPerSecond']:,.0f}** | {lat['p50']:.2f} | {lat['p99']:.2f} "
                  f"| {lat.get('p999', float('nan')):.2f} | {lat['max']:.1f} | {r['failed']} / {r['skipped']} "
                  f"| {r['serverCPU']['user'] + r['serverCPU']['system']:.2f} | {service_cpu(r, 'redis'):.2f} "
                  f"| {r['connectsPerServerCPUSecond']:,.0f} | {r['clientCPU']['user'] + r['clientCPU']['system']:.2f} "
                  f"| {r['otherCPUSeconds']:.2f} | {churn_target([r])} |")
        print()
        repeated = {tag: rs for tag, rs in runs.items() if len(rs) > 1}
        if repeated:
            print("Medians of the repeated measurements (node CPU per stream = node CPU-seconds / connected; "
                  "the target is checked on the medians):\n")
            print("| measurement | mode | tokens | runs | connects/s (each run) | p50 ms | p99 ms | node CPU µs per stream (each run) "
                  "| client CPU µs per stream | other CPU s | target met |")
            print("|---|---|---|---|---|---|---|---|---|---|---|")
            for tag, rs in repeated.items():
                ordered = sorted(rs, key=lambda r: r["run"])
                per_stream = [cpu_per_stream(r, r["serverCPU"]) for r in ordered]
                each_rate = " ".join(f"{r['connectsPerSecond']:,.0f}" for r in ordered)
                each_cpu = " ".join(f"{v:.0f}" for v in per_stream)
                print(f"| {tag} | {churn_mode(rs[0])} | {tokens(rs[0])} | {len(rs)} "
                      f"| **{median([r['connectsPerSecond'] for r in rs]):,.0f}** ({each_rate}) "
                      f"| {median([r['latencyMilliseconds']['p50'] for r in rs]):.2f} "
                      f"| {median([r['latencyMilliseconds']['p99'] for r in rs]):.2f} "
                      f"| **{median(per_stream):.0f}** ({each_cpu}) "
                      f"| {median([cpu_per_stream(r, r['clientCPU']) for r in rs]):.0f} "
                      f"| {median([r['otherCPUSeconds'] for r in rs]):.2f} | {churn_target(rs)} |")
            print()


def churn_mode(r):
    return f"{r['rate']:,.0f}/s open loop" if r.get("rate") else f"closed loop, {r['concurrency']} at once"


def tokens(r):
    """The algorithm of the tokens a result's streams sent, or none."""
    t = r.get("tokens")
    return f"{t['algorithm']} ({t['placement']})" if t else "none"


def cpu_per_stream(r, cpu):
    """Microseconds of `cpu` (a CPUTime) per connected stream."""
    return (cpu["user"] + cpu["system"]) * 1e6 / r["connected"] if r["connected"] else float("nan")


def churn_target(rs):
    """Whether churn results (repetitions of one measurement: their medians) meet the S4 target."""
    if rs[0].get("rate") is not None and rs[0]["rate"] < CHURN_CONNECTS_PER_SECOND:
        return "–"
    # An open loop at the target rate that connected everything it asked, in time, kept up with it.
    kept_up = rs[0].get("rate") is not None and median(
        [1 if r["failed"] == 0 and r["skipped"] == 0 and r["connected"] == r["attempted"] else 0 for r in rs]) >= 0.5
    return check(kept_up or median([r["connectsPerSecond"] for r in rs]) >= CHURN_CONNECTS_PER_SECOND)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Medians and ratios of fanout-compare.sh results")
    parser.add_argument("--max-other", type=float, default=float("inf"),
                        help="leave out broadcasts during which other processes used more CPU-seconds than this")
    parser.add_argument("results")
    arguments = parser.parse_args()
    main(arguments.results, arguments.max_other)
