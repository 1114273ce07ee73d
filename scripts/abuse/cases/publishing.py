"""Publishers that send the same publication id twice at once, and publish while RabbitMQ is away."""

import json
import threading
import time

import web
from case import case
from watch import wait_until


def _stored_ids(ctx, user):
    """The publication ids in the user's history stream, in order."""
    ids = []
    for _, fields in ctx.redis.call("XRANGE", f"sse:history:user:{user}", "-", "+"):
        values = dict(zip(fields[::2], fields[1::2]))
        ids.append(json.loads(values[b"b"]).get("id"))
    return ids


def _concurrently(count, action):
    results = [None] * count
    gate = threading.Barrier(count)

    def run(index):
        gate.wait()
        results[index] = action(index)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@case("idempotency-in-flight", "one id twice in an array, and six concurrent POSTs with one id")
def idempotency_in_flight(ctx):
    user = "atk-idem"
    watcher = ctx.stream({"user": user})
    ctx.require(watcher.wait_open(10), "the watching stream did not open")
    rounds = ctx.scale(20, 5)
    with ctx.attack():
        target = {"type": "user", "id": user}
        batch = [{"target": target, "id": "dup-array", "data": "FIRST"}]
        batch += [{"target": target, "data": f"filler-{i}"} for i in range(40)]
        batch += [{"target": target, "id": "dup-array", "data": "SECOND"}]
        in_array = web.publish(ctx.port, batch)
        statuses = {}
        for round in range(rounds):
            event_id = f"dup-{round}"
            answers = _concurrently(6, lambda i, e=event_id: web.publish_to_user(ctx.port, user, f"{e}-copy-{i}", event_id=e))
            for answer in answers:
                key = str(answer.status or answer.error) + (" duplicate" if (answer.json() or {}).get("duplicate") else "")
                statuses[key] = statuses.get(key, 0) + 1
        wanted = {"dup-array"} | {f"dup-{r}" for r in range(rounds)}
        wait_until(lambda: wanted <= {_publication_id(e) for e in watcher.events}, 5)
        time.sleep(0.5)  # a second copy would arrive right behind the first
    delivered = {}
    for event in watcher.events:
        if event.event == "message" and event.data and not event.data.startswith("filler-"):
            key = "dup-array" if event.data in ("FIRST", "SECOND") else event.data.rsplit("-copy-", 1)[0]
            delivered[key] = delivered.get(key, 0) + 1
    stored = {}
    for event_id in _stored_ids(ctx, user):
        if event_id in wanted:
            stored[event_id] = stored.get(event_id, 0) + 1
    watcher.close()
    answers = in_array.json() if isinstance(in_array.json(), list) else [{}]
    second = answers[-1] if isinstance(answers[-1], dict) else {}
    second = second.get("error") or ("duplicate" if second.get("duplicate") else "accepted")
    ctx.figure("attacker", f"array with the id twice: {in_array.status}, its second copy {second}; "
                           f"6 concurrent × {rounds}: " + ", ".join(f"{k}×{n}" for k, n in sorted(statuses.items())))
    ctx.figure("copies", f"delivered {sorted(set(delivered.values()))}, stored {sorted(set(stored.values()))} per id")
    ctx.check(all(delivered.get(i) == 1 for i in wanted), f"copies delivered per id: { {i: delivered.get(i, 0) for i in sorted(wanted)} }")
    ctx.check(all(stored.get(i) == 1 for i in wanted), f"copies stored per id: { {i: stored.get(i, 0) for i in sorted(wanted)} }")
    first = [e.data for e in watcher.events if e.data in ("FIRST", "SECOND")]
    ctx.check(first == ["FIRST"], f"the array's first item should be the copy delivered, got {first}")
    accepted = sum(n for k, n in statuses.items() if k == "202")
    ctx.check(accepted == rounds, f"{accepted} of the concurrent POSTs were accepted as new, one per id expected")
    ctx.check(set(statuses) <= {"202", "202 duplicate", "409"}, f"concurrent POSTs got {statuses}")


def _publication_id(event):
    """The publication id an event carries in its data (the suite's publishes name it there)."""
    if event.data in ("FIRST", "SECOND"):
        return "dup-array"
    return event.data.rsplit("-copy-", 1)[0] if event.data and "-copy-" in event.data else None


@case("publish-rabbitmq-down", "publishes while RabbitMQ is stopped: 503, and not kept in history",
      probes_readiness=False)
def publish_rabbitmq_down(ctx):
    user = "atk-down"
    # With a stream of the user open the publish needs the broker (to nobody it is only stored).
    watcher = ctx.stream({"user": user})
    ctx.require(watcher.wait_open(10), "the watching stream did not open")
    with ctx.attack():
        ctx.services.stop_rabbitmq()
        try:
            noticed = wait_until(lambda: not ctx.node.is_ready(), 30)
            answers = [web.publish_to_user(ctx.port, user, f"while-down-{i}", event_id=f"down-{i}") for i in range(5)]
            stored = [i for i in _stored_ids(ctx, user) if i and i.startswith("down-")]
            claimed = sum(ctx.redis.call("EXISTS", f"sse:idem:|down-{i}") for i in range(5))
        finally:
            ctx.services.start_rabbitmq()
        ready = wait_until(ctx.node.is_ready, 90, interval=0.5)
        retries = [web.publish_to_user(ctx.port, user, f"while-down-{i}", event_id=f"down-{i}") for i in range(5)]
        wait_until(lambda: sum(e.data.startswith("while-down-") for e in watcher.events if e.data) >= 5, 10)
        time.sleep(0.5)
        copies = sum(e.data.startswith("while-down-") for e in watcher.events if e.data)
        kept = [i for i in _stored_ids(ctx, user) if i and i.startswith("down-")]
        watcher.close()
    statuses = [a.status or a.error for a in answers]
    ctx.figure("attacker", f"while down: {statuses}, stored {len(stored)}, ids claimed {claimed}; "
                           f"retries after: {[a.status for a in retries]}, delivered {copies}, stored {len(kept)}")
    ctx.check(noticed, "the node did not notice RabbitMQ was gone")
    ctx.check(all(s == 503 for s in statuses), f"publishes to a connected user while RabbitMQ was down got {statuses}")
    ctx.check(not stored and not claimed, f"publishes answered 503 were kept: {stored}, {claimed} ids claimed")
    ctx.check(ready, "the node was not ready again after RabbitMQ came back")
    ctx.check(all(a.status == 202 and not (a.json() or {}).get("duplicate") for a in retries), "retries after the outage were not accepted as new")
    ctx.check(copies == 5, f"{copies} of 5 retried publications delivered")
    ctx.check(sorted(kept) == sorted(set(kept)) and len(kept) == 5, f"history holds {len(kept)} copies of the 5 publications")
