import json
import os
import random
import struct
import subprocess
import sys
import urllib.request

from .common import (
    BENCH_BIN, BENCHMARKS_DIR, BIN, CLIENT_CPU, ROOT, SERVER_CPU, WORK, dataset, free_port, peer, ratio, record, run,
    split_synthetic, summary, wait_for_port,
)


def loadtest(port, model, rate, connections, pipeline, seconds, blocking=False, pin=True, rounds=False, explain=None):
    return json.loads(run((CLIENT_CPU if pin else []) + [
        BIN, "loadtest", "--port", str(port), "--model", model, "--rate", str(rate), "--connections", str(connections),
        "--pipeline", str(pipeline), "--duration", str(seconds), "--warmup", "1", "--json"]
        + (["--blocking"] if blocking else []) + (["--rounds"] if rounds else [])
        + (["--explain", str(explain)] if explain else [])).stdout)



def run_benchmark(args):
    """Round trip and throughput over loopback: the scorer (served as in production, with its metrics endpoint)
    against a blocking echo floor and redis-server, each configuration repeated `--repeats` times."""
    seconds = 2 if args.quick else 5
    # Models: the 500-tree scoring model and the logistic example.
    peers = peer("scoring_peers.py", ["--data",
                            dataset(100_000 if args.quick else 1_000_000) + ".npz", "--trees", "100" if args.quick else "500",
                            "--test-rows", "2000", "--train-rows", "50000" if args.quick else "200000", "--repeats", "1",
                            "--threads", "1", "--skip", "lleaves,tl2cgen", "--single-calls", "10"])
    models = os.path.join(WORK, "server-models")
    os.makedirs(models, exist_ok=True)
    run([BIN, "import", "--from", "lightgbm", peers["lightgbm_model"], "--out", os.path.join(models, "trees.model")])
    run(["cp", os.path.join(ROOT, "models", "conversion.model"), os.path.join(models, "lr.model")])
    # The floor: frames of the same sizes as a single-row SCORE for 28 features and its answer.
    floor_bin = os.path.join(WORK, "echo_floor")
    run(["gcc", "-O2", os.path.join(BENCHMARKS_DIR, "floor", "echo_floor.c"), "-o", floor_bin])
    redis_bin = ensure_redis()

    def serve(pin):
        port, metrics_port = free_port(), free_port()
        server = subprocess.Popen((SERVER_CPU if pin else []) + [
            BIN, "serve", "--models", models, "--port", str(port), "--metrics-port", str(metrics_port),
            "--watch-interval", "0"], stderr=subprocess.DEVNULL)
        processes.append(server)
        wait_for_port(port)
        return server, port, metrics_port

    def scorer_requests(metrics_port):
        text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics").read().decode()
        return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith("propensity_requests_total"))

    def redis_requests(redis_port):
        info = run(["redis-cli", "-p", str(redis_port), "info", "stats"]).stdout
        return float(next(l.split(":")[1] for l in info.splitlines() if l.startswith("total_commands_processed")))

    def server_cpu_us(pid, count_requests, drive):
        """CPU (user + system) the server process spends per request answered while `drive()` runs: the server's
        own cost, whatever the load generator's, counted by the server itself."""
        before_cpu, before_requests = process_cpu_seconds(pid), count_requests()
        result = drive()
        spent, answered = process_cpu_seconds(pid) - before_cpu, count_requests() - before_requests
        return result, 1e6 * spent / max(answered, 1)

    runs = {k: [] for k in ("floor", "single", "single_nio", "open_loop", "lr", "saturation", "shallow", "redis",
                            "lr_cpu", "redis_cpu", "in_process")}
    # Both placements, both models, each timed by the floor's own C client sending a real SCORE frame, so that the
    # client's cost is the same on both sides of each ratio (on one vCPU the client's CPU is part of the round trip).
    placements = {"cross": CLIENT_CPU, "same": SERVER_CPU}
    frames = {m: write_score_frame(os.path.join(models, f"{m}.model"), m) for m in ("trees", "lr")}
    # The same floor's server on SwiftNIO (`propensity-bench nio-echo`): what the framework's path costs by itself,
    # so that the scorer's own share of a round trip shows apart from it.
    server_keys = ("floor", "nio", "trees", "lr")
    for placement in placements:
        for key in server_keys:
            runs[f"{placement}_{key}"] = []
    processes = []
    try:
        floor_port, nio_port = free_port(), free_port()
        processes.append(subprocess.Popen(SERVER_CPU + [floor_bin, "server", str(floor_port), "20"]))
        processes.append(subprocess.Popen(SERVER_CPU + [BENCH_BIN, "nio-echo", "--port", str(nio_port),
                                                        "--response-bytes", "20"]))
        wait_for_port(floor_port)
        wait_for_port(nio_port)
        # Round trips: the floor and the scorer alternate, with the same placement (servers on CPU 0, clients on 1).
        server, port, _ = serve(pin=True)
        for _ in range(args.repeats):
            runs["floor"].append(json.loads(run(CLIENT_CPU + [floor_bin, "client", str(floor_port), "147", str(seconds)]).stdout))
            for placement, cpu in placements.items():
                runs[f"{placement}_floor"].append(json.loads(run(
                    cpu + [floor_bin, "client", str(floor_port), "147", str(seconds)]).stdout))
                runs[f"{placement}_nio"].append(json.loads(run(
                    cpu + [floor_bin, "client", str(nio_port), "147", str(seconds)]).stdout))
                for m, frame in frames.items():
                    runs[f"{placement}_{m}"].append(json.loads(run(
                        cpu + [floor_bin, "client", str(port), "@" + frame, str(seconds)]).stdout))
            runs["single"].append(loadtest(port, "trees", 0, 1, 1, seconds, blocking=True))
            runs["single_nio"].append(loadtest(port, "trees", 0, 1, 1, seconds))
            runs["open_loop"].append(loadtest(port, "trees", 2000, 1, 16, seconds))
        server.terminate()
        server.wait(timeout=10)
        # Throughput: the scorer gets every core (unpinned), as does the load generator; redis alternates with it.
        server, port, metrics_port = serve(pin=False)
        redis_port = free_port()
        redis_server = subprocess.Popen([redis_bin, "--port", str(redis_port), "--save", "", "--appendonly", "no"],
                                        stdout=subprocess.DEVNULL)
        processes.append(redis_server)
        wait_for_port(redis_port)
        for _ in range(args.repeats):
            # In rounds of 16 per connection, as redis-benchmark -P 16 sends them.
            result, cpu = server_cpu_us(server.pid, lambda: scorer_requests(metrics_port),
                                        lambda: loadtest(port, "lr", 0, 50, 16, seconds, pin=False, rounds=True))
            runs["lr"].append(result)
            runs["lr_cpu"].append(cpu)
            out, cpu = server_cpu_us(redis_server.pid, lambda: redis_requests(redis_port), lambda: run([
                "redis-benchmark", "-p", str(redis_port), "-t", "get", "-c", "50", "-P", "16",
                "-n", str(200_000 if args.quick else 2_000_000), "--csv"]).stdout)
            runs["redis"].append(float(out.strip().splitlines()[-1].split(",")[1].strip('"')))
            runs["redis_cpu"].append(cpu)
            # Saturation: enough requests in flight to keep both event loops busy (a read then carries enough
            # single-row requests to be scored as one batch); the shallower 4x8 pipeline is recorded beside it.
            runs["saturation"].append(loadtest(port, "trees", 0, 4, 32, seconds, pin=False))
            runs["shallow"].append(loadtest(port, "trees", 0, 4, 8, seconds, pin=False))
            # The in-process reference in the same round, so that its noise enters the ratio's band (measured once,
            # it moved 298k…480k rows/s between runs of the same commit and showed up as regressions).
            in_process = json.loads(run([BENCH_BIN, "scorer", "--model", os.path.join(models, "trees.model"),
                                         "--data", split_synthetic(100_000 if args.quick else 1_000_000) + "-test.csv",
                                         "--repeats", "1", "--single-rows", "50000", "--call-sizes", "1"]).stdout)
            runs["in_process"].append(os.cpu_count() * 1e6 / in_process["single_row_us"]["median"])
    finally:
        for p in processes:
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=10)
    in_process_rate = summary(runs["in_process"])
    floor_p50 = summary([r["p50"] for r in runs["floor"]])
    floor_p99 = summary([r["p99"] for r in runs["floor"]])
    p50 = summary([r["latency_us"]["p50"] for r in runs["single"]])
    p99 = summary([r["latency_us"]["p99"] for r in runs["single"]])
    lr = summary([r["achieved_rate"] for r in runs["lr"]])
    redis = summary(runs["redis"])
    saturation = summary([r["achieved_rate"] for r in runs["saturation"]])
    shallow = summary([r["achieved_rate"] for r in runs["shallow"]])
    median_run = lambda key: runs[key][len(runs[key]) // 2]
    figures = {
        "placement": "round trips: servers on CPU 0, clients on CPU 1 (taskset); throughput: unpinned",
        "floor_p50_us": floor_p50, "floor_p99_us": floor_p99,
        "single_row_p50_us": p50, "single_row_p99_us": p99,
        "single_row_p999_us": summary([r["latency_us"]["p99.9"] for r in runs["single"]]),
        # Percentile spectra (HdrHistogram style) of one run each, for the report's latency chart.
        "floor_percentiles_us": median_run("floor")["percentiles"],
        "single_row_percentiles_us": median_run("single")["percentiles"],
        "single_row_loadtest_client_p50_us": summary([r["latency_us"]["p50"] for r in runs["single_nio"]]),
        "single_row_open_loop_2000_per_s": median_run("open_loop"),
        "logistic_50x16_requests_per_second": lr,
        "redis_get_50x16_requests_per_second": redis,
        # Each server's own CPU per request in those runs (the load generators differ; this does not depend on them).
        "logistic_50x16_server_cpu_us_per_request": summary(runs["lr_cpu"]),
        "redis_get_50x16_server_cpu_us_per_request": summary(runs["redis_cpu"]),
        "trees_saturation_4x32_requests_per_second": saturation,
        "trees_4x8_requests_per_second": shallow,
        "in_process_single_row_rate_all_cores": in_process_rate,
    }
    for placement in placements:
        for key in server_keys:
            for q in ("p50", "p99"):
                figures[f"{placement}_{key}_{q}_us"] = summary([r[q] for r in runs[f"{placement}_{key}"]])
    figures["placement_method"] = ("cross_*/same_*: the echo floor's C client (benchmarks/floor/echo_floor.c) on CPU 1 "
                                   "(cross) or on CPU 0 with the servers (same), sending the 147-byte floor frame (to "
                                   "the C server and to the SwiftNIO one, `nio`) or a real one-row SCORE frame of each "
                                   "model, one at a time")
    ratios = {
        "p50_vs_floor": ratio(p50, floor_p50, "lower", "echo floor"),
        "p99_vs_floor": ratio(p99, floor_p99, "lower", "echo floor"),
        "logistic_throughput_vs_redis": ratio(lr, redis, "higher", "redis-server GET"),
        "logistic_server_cpu_vs_redis": ratio(summary(runs["lr_cpu"]), summary(runs["redis_cpu"]), "lower",
                                              "redis-server GET, CPU per request"),
        "saturation_vs_in_process": ratio(saturation, in_process_rate, "higher", "in-process scoring, all cores"),
        "shallow_pipeline_vs_in_process": ratio(shallow, in_process_rate, "higher", "in-process scoring, all cores"),
    }
    for placement in placements:
        for m in ("trees", "lr"):
            for q in ("p50", "p99"):
                ratios[f"{m}_{placement}_{q}_vs_floor"] = ratio(
                    figures[f"{placement}_{m}_{q}_us"], figures[f"{placement}_floor_{q}_us"], "lower",
                    f"echo floor, {placement} placement, same client")
                ratios[f"{m}_{placement}_{q}_vs_nio_floor"] = ratio(
                    figures[f"{placement}_{m}_{q}_us"], figures[f"{placement}_nio_{q}_us"], "lower",
                    f"echo floor's server on SwiftNIO, {placement} placement, same client")
        for q in ("p50", "p99"):
            ratios[f"nio_{placement}_{q}_vs_floor"] = ratio(
                figures[f"{placement}_nio_{q}_us"], figures[f"{placement}_floor_{q}_us"], "lower",
                f"echo floor, {placement} placement, same client")
    print(f"server: floor p50 {floor_p50['median']:.1f} µs p99 {floor_p99['median']:.1f}; scorer p50 {p50['median']:.1f} "
          f"p99 {p99['median']:.1f} (ratios {ratios['p50_vs_floor']['value']:.2f}, {ratios['p99_vs_floor']['value']:.2f}); "
          f"logistic 50x16 {lr['median']:.0f}/s vs redis {redis['median']:.0f}/s "
          f"({ratios['logistic_throughput_vs_redis']['value']:.2f}; server CPU per request "
          f"{summary(runs['lr_cpu'])['median']:.2f} vs {summary(runs['redis_cpu'])['median']:.2f} µs); trees 4x32 {saturation['median']:.0f}/s, "
          f"4x8 {shallow['median']:.0f}/s vs in-process {in_process_rate['median']:.0f}/s "
          f"({ratios['saturation_vs_in_process']['value']:.2f}, {ratios['shallow_pipeline_vs_in_process']['value']:.2f})",
          file=sys.stderr)
    for placement in placements:
        print(f"server, {placement} placement: floor p50 {figures[f'{placement}_floor_p50_us']['median']:.1f} p99 "
              f"{figures[f'{placement}_floor_p99_us']['median']:.1f} µs; SwiftNIO floor p50 "
              f"{figures[f'{placement}_nio_p50_us']['median']:.1f} ({ratios[f'nio_{placement}_p50_vs_floor']['value']:.2f}) "
              f"p99 {figures[f'{placement}_nio_p99_us']['median']:.1f} "
              f"({ratios[f'nio_{placement}_p99_vs_floor']['value']:.2f}); " + "; ".join(
                  f"{m} p50 {figures[f'{placement}_{m}_p50_us']['median']:.1f} "
                  f"({ratios[f'{m}_{placement}_p50_vs_floor']['value']:.2f}) p99 {figures[f'{placement}_{m}_p99_us']['median']:.1f} "
                  f"({ratios[f'{m}_{placement}_p99_vs_floor']['value']:.2f})" for m in ("trees", "lr")), file=sys.stderr)
    return [record("server", {"seconds": seconds, "trees": 500 if not args.quick else 100, "features": 28},
                   figures, ratios, "p50_vs_floor", threads=os.cpu_count())]



def write_score_frame(model_path, name):
    """A one-row SCORE frame (docs/protocol.md) for the model loaded as `name`, written to a file for echo_floor:
    numeric features uniform in [0, 10), categorical ones their first category. Returns the file's path."""
    info = json.loads(run([BIN, "inspect", model_path, "--json"]).stdout)
    rng = random.Random(1)
    row = [rng.uniform(0, 10) if f["kind"] == "numeric" else 0.0 for f in info["features"]]
    encoded = name.encode()
    payload = (struct.pack("<H", len(encoded)) + encoded + int(info["schema_fingerprint"], 16).to_bytes(8, "little")
               + struct.pack("<II", 1, len(row)) + struct.pack(f"<{len(row)}f", *row))
    path = os.path.join(WORK, f"score-{name}.frame")
    with open(path, "wb") as f:
        f.write(struct.pack("<IBBHI", 8 + len(payload), 1, 0x04, 0, 1) + payload)
    return path


def process_cpu_seconds(pid):
    """User + system CPU of a process so far, from /proc (clock ticks)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")



def ensure_redis():
    """redis-server and redis-benchmark from Debian's packages, installed when missing."""
    if subprocess.call(["sh", "-c", "command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null && command -v redis-cli >/dev/null"]) != 0:
        subprocess.call(["sh", "-c", "$(command -v sudo) apt-get install -y -qq redis-server redis-tools >/dev/null 2>&1 || "
                                     "($(command -v sudo) apt-get update -qq && $(command -v sudo) apt-get install -y -qq "
                                     "redis-server redis-tools >/dev/null 2>&1)"])
    path = subprocess.run(["sh", "-c", "command -v redis-server"], capture_output=True, text=True).stdout.strip()
    if not path:
        raise RuntimeError("redis-server is needed for the server benchmark (apt-get install redis-server redis-tools)")
    return path
