import os
import subprocess
import sys
import urllib.request

import json

from .common import BENCH_BIN, BIN, ROOT, WORK, free_port, ratio, record, run, summary, wait_for_port
from .server import loadtest, process_cpu_seconds


def run_benchmark(args):
    """What drift tracking costs the server: the logistic example model (13 inputs, with its reference profile)
    at 50 connections × 16 pipelined single-row requests, served with drift tracking on and with `--no-drift`, the
    two servers alternating in each repeat under the same (unpinned) placement. Bar: throughput with tracking ≥ 0.95
    of without; the server's CPU per request is recorded beside it."""
    seconds = 2 if args.quick else 5
    models = os.path.join(WORK, "drift-models")
    os.makedirs(models, exist_ok=True)
    run(["cp", os.path.join(ROOT, "models", "conversion.model"), os.path.join(models, "lr.model")])
    if "drift reference: none" in run([BIN, "inspect", os.path.join(models, "lr.model")]).stdout:
        raise RuntimeError("models/conversion.model has no drift reference profile: retrain it (models/README.md)")

    processes = []

    def serve(extra):
        port, metrics_port = free_port(), free_port()
        server = subprocess.Popen([BIN, "serve", "--models", models, "--port", str(port), "--metrics-port",
                                   str(metrics_port), "--watch-interval", "0", "--drift-interval", "1"] + extra,
                                  stderr=subprocess.DEVNULL)
        processes.append(server)
        wait_for_port(port)
        return server, port, metrics_port

    def requests(metrics_port):
        text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics").read().decode()
        return sum(float(l.split()[-1]) for l in text.splitlines() if l.startswith("propensity_requests_total"))

    def drive(server, port, metrics_port):
        cpu, answered = process_cpu_seconds(server.pid), requests(metrics_port)
        result = loadtest(port, "lr", 0, 50, 16, seconds, pin=False, rounds=True)
        spent = process_cpu_seconds(server.pid) - cpu
        return result["achieved_rate"], 1e6 * spent / max(requests(metrics_port) - answered, 1)

    runs = {k: [] for k in ("on", "off", "on_cpu", "off_cpu")}
    counted = None
    try:
        tracked = serve([])
        untracked = serve(["--no-drift"])
        for _ in range(args.repeats):
            for key, server in (("on", tracked), ("off", untracked)):
                rate, cpu = drive(*server)
                runs[key].append(rate)
                runs[key + "_cpu"].append(cpu)
        # The tracked server counted what it scored (rows in its window), so the figure is not of a no-op.
        text = urllib.request.urlopen(f"http://127.0.0.1:{tracked[2]}/metrics").read().decode()
        counted = sum(float(l.split()[-1]) for l in text.splitlines() if l.startswith("propensity_drift_rows"))
    finally:
        for p in processes:
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=10)
    if not counted:
        raise RuntimeError("the tracked server counted no rows into its drift window")
    # In process, one thread: nanoseconds per row of counting beside those of scoring the same rows one per call.
    visitors = os.path.join(WORK, "drift-visitors.csv")
    if not os.path.exists(visitors):
        run([BIN, "generate", "--rows", "100000", "--seed", "42", "--out", visitors])
    in_process = json.loads(run([BENCH_BIN, "drift", "--model", os.path.join(models, "lr.model"), "--data", visitors,
                                 "--repeats", str(max(3, args.repeats))]).stdout)
    on, off = summary(runs["on"]), summary(runs["off"])
    on_cpu, off_cpu = summary(runs["on_cpu"]), summary(runs["off_cpu"])
    figures = {
        "placement": "unpinned: each server and the load generator share the cores, one server driven at a time",
        "logistic_50x16_requests_per_second_tracked": on, "logistic_50x16_requests_per_second_untracked": off,
        "server_cpu_us_per_request_tracked": on_cpu, "server_cpu_us_per_request_untracked": off_cpu,
        "rows_in_drift_window": counted,
        "in_process_record_ns_per_row": in_process["record_ns_per_row"],
        "in_process_score_ns_per_row": in_process["score_ns_per_row"],
    }
    ratios = {
        "throughput_tracked_vs_untracked": ratio(on, off, "higher", "the same server with --no-drift"),
        "cpu_tracked_vs_untracked": ratio(on_cpu, off_cpu, "lower", "the same server with --no-drift, CPU per request"),
        "in_process_record_vs_score": ratio(in_process["record_ns_per_row"], in_process["score_ns_per_row"], "lower",
                                            "scoring the same row, in process"),
    }
    print(f"drift: logistic 50x16 {on['median']:.0f}/s tracked vs {off['median']:.0f}/s untracked "
          f"({ratios['throughput_tracked_vs_untracked']['value']:.3f}); server CPU per request {on_cpu['median']:.2f} "
          f"vs {off_cpu['median']:.2f} µs; {counted:.0f} rows in the window; in process "
          f"{in_process['record_ns_per_row']['median']:.0f} ns per row counted vs {in_process['score_ns_per_row']['median']:.0f} "
          f"scored", file=sys.stderr)
    return [record("drift", {"seconds": seconds, "features": 13, "connections": 50, "pipeline": 16},
                   figures, ratios, "throughput_tracked_vs_untracked", threads=os.cpu_count())]
