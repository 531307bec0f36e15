import json
import os
import subprocess
import sys
import urllib.request

from .common import BIN, CLIENT_CPU, SERVER_CPU, WORK, free_port, ratio, record, run, summary, wait_for_port


def loadtest_route(port, route, rate, seconds):
    return json.loads(run(CLIENT_CPU + [
        BIN, "loadtest", "--port", str(port), "--model", route, "--route", "--rate", str(rate), "--connections", "1",
        "--pipeline", "16", "--duration", str(seconds), "--warmup", "1", "--json"]).stdout)


def generated_visitors():
    """100,000 generated visitors (seed 42), made once per work folder."""
    visitors = os.path.join(WORK, "experiment-visitors.csv")
    if not os.path.exists(visitors):
        os.makedirs(WORK, exist_ok=True)
        run([BIN, "generate", "--rows", "100000", "--seed", "42", "--out", visitors])
    return visitors


def shadow_model(quick):
    """A depth-6 ensemble on the generated visitors, 500 trees (100 with --quick), made once per work folder: the
    slow model of the experiments and stream benchmarks."""
    path = os.path.join(WORK, "experiment-models", "shadow@1.model")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        run([BIN, "train", "--data", generated_visitors(), "--label", "converted", "--drop", "true_propensity",
             "--algorithm", "gbdt", "--trees", "100" if quick else "500", "--max-depth", "6", "--num-leaves", "63",
             "--learning-rate", "0.05", "--validation-fraction", "0", "--out", path])
    return path


def run_benchmark(args):
    """Does a slow shadow move the champion's latency? One server (CPU 0) with two routes to the same logistic
    champion, one of them with a 500-tree depth-6 ensemble as its shadow; open-loop ROUTE_SCORE at 2,000 requests/s
    from CPU 1, the two routes alternating in each repeat. Bar (issue 14): p99 with the shadow ≤ 1.1 × without. The
    shadow's rows scored (from its disagreement histogram) and dropped are recorded, so the figure is not of a shadow
    that never ran."""
    seconds = 3 if args.quick else 10
    rate = 2000
    models = os.path.join(WORK, "experiment-models")
    os.makedirs(models, exist_ok=True)
    visitors = generated_visitors()
    # Both trained on one file, so they share a schema (a route's models must).
    run([BIN, "train", "--data", visitors, "--label", "converted", "--drop", "true_propensity",
         "--out", os.path.join(models, "champion@1.model")])
    shadow_model(args.quick)
    with open(os.path.join(models, "experiments.json"), "w") as f:
        json.dump({"routes": [
            {"name": "plain", "salt": "bench", "variants": [{"model": "champion@1", "percent": 100}]},
            {"name": "shadowed", "salt": "bench", "variants": [{"model": "champion@1", "percent": 100}],
             "shadows": ["shadow@1"]},
        ]}, f)

    port, metrics_port = free_port(), free_port()
    server = subprocess.Popen(SERVER_CPU + [BIN, "serve", "--models", models, "--port", str(port), "--metrics-port",
                                            str(metrics_port), "--watch-interval", "0"], stderr=subprocess.DEVNULL)
    runs = {"plain": [], "shadowed": []}
    try:
        wait_for_port(port)
        for _ in range(args.repeats):
            for route in ("plain", "shadowed"):
                runs[route].append(loadtest_route(port, route, rate, seconds))
        text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics").read().decode()
    finally:
        server.terminate()
        server.wait(timeout=10)

    def metric(prefix):
        return sum(float(l.split()[-1]) for l in text.splitlines() if l.startswith(prefix) and 'route="shadowed"' in l)

    shadow_rows, dropped = metric("propensity_shadow_disagreement_count"), metric("propensity_shadow_dropped_rows_total")
    if shadow_rows == 0:
        raise RuntimeError("the shadow scored no rows")
    errors = sum(r["errors"] for rs in runs.values() for r in rs)
    if errors:
        raise RuntimeError(f"{errors} ROUTE_SCORE requests failed")
    p99 = {k: summary([r["latency_us"]["p99"] for r in v]) for k, v in runs.items()}
    p50 = {k: summary([r["latency_us"]["p50"] for r in v]) for k, v in runs.items()}
    figures = {
        "placement": "server on CPU 0 (its shadow thread too, SCHED_IDLE), load generator on CPU 1",
        "rate_per_second": rate,
        "p50_us_without_shadow": p50["plain"], "p50_us_with_shadow": p50["shadowed"],
        "p99_us_without_shadow": p99["plain"], "p99_us_with_shadow": p99["shadowed"],
        "shadow_rows_scored": shadow_rows, "shadow_rows_dropped": dropped,
    }
    ratios = {
        "p99_with_vs_without_shadow": ratio(p99["shadowed"], p99["plain"], "lower", "the same route without a shadow"),
        "p50_with_vs_without_shadow": ratio(p50["shadowed"], p50["plain"], "lower", "the same route without a shadow"),
    }
    print(f"experiments: ROUTE_SCORE at {rate}/s p99 {p99['shadowed']['median']:.1f} µs with a "
          f"{100 if args.quick else 500}-tree shadow vs "
          f"{p99['plain']['median']:.1f} without ({ratios['p99_with_vs_without_shadow']['value']:.3f}); "
          f"shadow scored {shadow_rows:.0f} rows, dropped {dropped:.0f}", file=sys.stderr)
    return [record("experiments", {"seconds": seconds, "rate": rate, "shadow_trees": 100 if args.quick else 500,
                                   "features": 13},
                   figures, ratios, "p99_with_vs_without_shadow", threads=os.cpu_count())]
