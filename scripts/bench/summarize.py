#!/usr/bin/env python3
"""Medians and ratios of fanout-compare.sh's results.jsonl, as Markdown tables.

Each line of results.jsonl is one sse-bench RESULT, tagged with `server` (fanout-1, fanout-n, nchan),
`run`, `tag` and `attempt`. Every figure is the median over the runs, taken per figure; ratios are sse-fanout
over nchan (for memory and latency lower is better, for deliveries per CPU-second higher is better).
A broadcast during which other processes used more than --max-other CPU-seconds is left out.

    summarize.py [--max-other SECONDS] results.jsonl
"""
import argparse
import json
import math
import statistics
import sys
from collections import defaultdict

NAMES = {"fanout-1": "sse-fanout, 1 loop", "fanout-n": "sse-fanout, 1 loop/core", "nchan": "nginx+nchan, 1 worker"}
ORDER = ["fanout-1", "fanout-n", "nchan"]


def median(values):
    return statistics.median(values) if values else float("nan")


def ratio(a, b):
    return f"{a / b:.2f}" if b else "n/a"


def main(path, max_other):
    # Per tag, server and run: the last attempt that other processes did not disturb.
    chosen = {}
    disturbed = 0
    with open(path) as lines:
        for line in lines:
            if not line.strip():
                continue
            result = json.loads(line)
            if result.get("otherCPUSeconds", 0) > max_other:
                disturbed += 1
                continue
            chosen[(result["tag"], result["server"], result["run"])] = result
    groups = defaultdict(lambda: defaultdict(list))
    for (tag, server, _), result in sorted(chosen.items(), key=lambda item: (item[0][0], item[0][1], item[0][2])):
        groups[tag][server].append(result)
    if disturbed:
        print(f"({disturbed} broadcast measurements left out: other processes used more than {max_other} CPU-s during them)\n")

    idle = sorted((tag for tag in groups if tag.startswith("idle-")), key=lambda t: int(t.split("-")[1]))
    if idle:
        print("## Idle streams: server RSS per stream (KiB, median)\n")
        servers = [s for s in ORDER if any(s in groups[t] for t in idle)]
        print("| streams | " + " | ".join(NAMES[s] for s in servers) + " | " +
              " | ".join(f"{s} / nchan" for s in servers if s != "nchan") + " |")
        print("|---" * (1 + len(servers) + len([s for s in servers if s != "nchan"])) + "|")
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
                cells.append(f"{medians[server]:.2f}{note}")
            ratios = [ratio(medians.get(s, 0), medians.get("nchan", 0)) for s in servers if s != "nchan"]
            print(f"| {tag.split('-')[1]} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
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
              "| lost | closed by server | out of order | client CPU s | other CPU s | server RSS MiB |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        medians = {}
        for server in ORDER:
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
                # Results from before sse-bench measured it have no otherCPUSeconds.
                "other": median([r["otherCPUSeconds"] for r in runs if "otherCPUSeconds" in r]),
                "rss": median([r["serverRSSKiB"] for r in runs]) / 1024,
            }
            medians[server] = m
            each = " ".join(f"{r['deliveriesPerServerCPUSecond'] / 1000:.0f}k" for r in sorted(runs, key=lambda r: r["run"]))
            print(f"| {NAMES[server]} | {len(runs)} | **{m['rate'] / 1000:.0f}k** ({each}) | {m['cpu']:.2f} ({m['user']:.2f}+{m['system']:.2f}) "
                  f"| {m['p50']:.1f} | {m['p99']:.1f} | {m['max']:.1f} | {m['lost']:.0f} | {m['closed']:.0f} | {m['order']:.0f} "
                  f"| {m['client']:.2f} | {'–' if math.isnan(m['other']) else format(m['other'], '.2f')} | {m['rss']:.0f} |")
        if "nchan" in medians:
            n = medians["nchan"]
            for server in ORDER:
                if server == "nchan" or server not in medians:
                    continue
                m = medians[server]
                print(f"| *{server} / nchan* | | *{ratio(m['rate'], n['rate'])}* | *{ratio(m['cpu'], n['cpu'])}* "
                      f"| *{ratio(m['p50'], n['p50'])}* | *{ratio(m['p99'], n['p99'])}* | *{ratio(m['max'], n['max'])}* "
                      f"| | | | *{ratio(m['client'], n['client'])}* | | *{ratio(m['rss'], n['rss'])}* |")
        print()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Medians and ratios of fanout-compare.sh results")
    parser.add_argument("--max-other", type=float, default=float("inf"),
                        help="leave out broadcasts during which other processes used more CPU-seconds than this")
    parser.add_argument("results")
    arguments = parser.parse_args()
    main(arguments.results, arguments.max_other)
