import os
import random
import subprocess
import sys
import time

from .common import BIN, ROOT, WORK, free_port, ratio, record, run, summary, wait_for_port
from .experiments import shadow_model
from .server import ensure_redis

sys.path.insert(0, os.path.join(ROOT, "scripts"))
from streamtools import Redis, event_fields  # noqa: E402


def run_benchmark(args):
    """`propensity stream` end to end on a local redis-server: events/s for one consumer with the logistic example
    and a 500-tree depth-6 ensemble (events produced beforehand, timed from the consumer's start to the last
    acknowledgement), against the ceiling the issue names: `redis-benchmark` XADD + XREADGROUP on the same server —
    event-sized entries added 16 pipelined, then read back in a consumer group 100 per call (as the consumer reads
    them), the two costs added per event: what a consumer that scores nothing and writes one entry per event could
    reach. Bar (issue 15): ≥ 0.5 of that ceiling for the logistic model. The stricter ratio to XADD alone (a consumer
    writes at least one XADD per event) is recorded too. Then event-to-score latency at 10,000 events/s (the difference of the Redis entry ids of an event
    and of its score, milliseconds; the audience write goes in the same pipeline as the score): bar p99 < 5 ms."""
    events = 50_000 if args.quick else 200_000
    redis_bin = ensure_redis()
    port = free_port()
    redis = subprocess.Popen([redis_bin, "--port", str(port), "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    models = {"logistic": os.path.join(ROOT, "models", "conversion.model"), "trees": shadow_model(args.quick)}
    runs = {"xadd": [], "xreadgroup": [], "ceiling": [], "logistic": [], "trees": []}
    latency = []
    try:
        wait_for_port(port)
        r = Redis(port)
        rng = random.Random(7)
        sample = event_fields(0, rng)
        for rep in range(args.repeats):
            xadd = redis_benchmark(port, events, 16, ["XADD", f"ceiling{rep}", "*"] + [str(x) for x in sample])
            r.command("XGROUP", "CREATE", f"ceiling{rep}", "ceiling", "0")
            reads = redis_benchmark(port, events // 100, 1, ["XREADGROUP", "GROUP", "ceiling", "c", "COUNT", "100",
                                                             "STREAMS", f"ceiling{rep}", ">"])
            runs["xadd"].append(xadd)
            runs["xreadgroup"].append(reads * 100)
            runs["ceiling"].append(1 / (1 / xadd + 1 / (reads * 100)))
            r.command("DEL", f"ceiling{rep}")
            for name, model in models.items():
                stream = f"bench-{name}-{rep}"
                produce(r, stream, events, rng)
                runs[name].append(consume(port, stream, model, events))
        # Latency at a fixed rate: the consumer runs while events arrive at 10,000/s.
        rate, seconds = 10_000, 3 if args.quick else 10
        stream = "bench-latency"
        r.command("XGROUP", "CREATE", stream, "propensity", "$", "MKSTREAM")
        consumer = subprocess.Popen([BIN, "stream", "--redis", f"127.0.0.1:{port}", "--stream", stream, "--model",
                                     models["logistic"], "--audience", "hot:0.3", "--batch", "100"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        sent, start = 0, time.perf_counter()
        while sent < rate * seconds:
            due = int((time.perf_counter() - start) * rate)
            if due > sent:
                n = min(due - sent, 50)
                r.pipeline([["XADD", stream, "*"] + event_fields(sent + k, rng) for k in range(n)])
                sent += n
            else:
                time.sleep(0.0002)
        wait_drained(r, stream, sent)
        consumer.terminate()
        consumer.wait(timeout=10)
        ins = {e[0]: e[0] for e in r.command("XRANGE", stream, "-", "+")}
        for entry in r.command("XRANGE", stream + ":scores", "-", "+"):
            fields = dict(zip(entry[1][::2], entry[1][1::2]))
            event = fields[b"event"]
            if event in ins:
                latency.append(int(entry[0].split(b"-")[0]) - int(event.split(b"-")[0]))
    finally:
        redis.terminate()
        redis.wait(timeout=10)
    latency.sort()
    p = lambda q: latency[min(len(latency) - 1, int(q * len(latency)))]
    ceiling, logistic, trees = summary(runs["ceiling"]), summary(runs["logistic"]), summary(runs["trees"])
    xadd = summary(runs["xadd"])
    figures = {
        "placement": "unpinned: redis-server, the consumer and the producer share the cores",
        "events": events,
        "redis_benchmark_xadd_per_second": xadd,
        "redis_benchmark_xreadgroup_entries_per_second": summary(runs["xreadgroup"]),
        "xadd_xreadgroup_ceiling_per_second": ceiling, "logistic_events_per_second": logistic,
        "trees_events_per_second": trees,
        "latency_rate_per_second": 10_000, "latency_events": len(latency),
        "event_to_score_ms": {"p50": p(0.5), "p99": p(0.99), "p99.9": p(0.999), "max": latency[-1]},
    }
    ratios = {
        "logistic_vs_ceiling": ratio(logistic, ceiling, "higher", CEILING),
        "trees_vs_ceiling": ratio(trees, ceiling, "higher", CEILING),
        "logistic_vs_xadd_ceiling": ratio(logistic, xadd, "higher", "redis-benchmark XADD, 16 pipelined"),
        "trees_vs_xadd_ceiling": ratio(trees, xadd, "higher", "redis-benchmark XADD, 16 pipelined"),
    }
    print(f"stream: logistic {logistic['median']:.0f} events/s, {100 if args.quick else 500} trees {trees['median']:.0f}/s, "
          f"XADD+XREADGROUP ceiling {ceiling['median']:.0f}/s ({ratios['logistic_vs_ceiling']['value']:.2f}, "
          f"{ratios['trees_vs_ceiling']['value']:.2f}); XADD alone {xadd['median']:.0f}/s "
          f"({ratios['logistic_vs_xadd_ceiling']['value']:.2f}, {ratios['trees_vs_xadd_ceiling']['value']:.2f}); at 10,000 events/s event-to-score p50 {p(0.5)} ms, "
          f"p99 {p(0.99)} ms", file=sys.stderr)
    return [record("stream", {"events": events, "batch": 100, "trees": 100 if args.quick else 500}, figures, ratios,
                   "logistic_vs_ceiling",
                   threads=os.cpu_count())]


CEILING = "redis-benchmark XADD (16 pipelined) + XREADGROUP (100 per call), per event"


def redis_benchmark(port, requests, pipeline, command):
    """Requests/s of one redis-benchmark client sending `command`."""
    out = run(["redis-benchmark", "-p", str(port), "-n", str(requests), "-P", str(pipeline), "-c", "1", "--csv"]
              + command).stdout
    return float(out.strip().splitlines()[-1].split(",")[1].strip('"'))


def produce(r, stream, n, rng):
    r.command("DEL", stream, stream + ":scores", stream + ":dead")
    for start in range(0, n, 5000):
        r.pipeline([["XADD", stream, "*"] + event_fields(i, rng) for i in range(start, min(n, start + 5000))])


def consume(port, stream, model, n):
    """Events/s of one consumer from its start to the last acknowledgement of `n` events."""
    start = time.perf_counter()
    consumer = subprocess.Popen([BIN, "stream", "--redis", f"127.0.0.1:{port}", "--stream", stream, "--model", model,
                                 "--audience", "hot:0.3", "--batch", "100"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_drained(Redis(port), stream, n)
        return n / (time.perf_counter() - start)
    finally:
        consumer.terminate()
        consumer.wait(timeout=10)


def wait_drained(r, stream, n, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline:
        groups = r.command("XINFO", "GROUPS", stream)
        if groups and not isinstance(groups, Exception):
            info = dict(zip(groups[0][::2], groups[0][1::2]))
            if info.get(b"pending") == 0 and r.command("XLEN", stream + ":scores") >= n:
                return
        time.sleep(0.01)
    raise RuntimeError(f"{stream}: the consumer did not finish {n} events")
