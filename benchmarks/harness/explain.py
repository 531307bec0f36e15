import json
import os
import subprocess
import sys

from .common import (
    BENCH_BIN, BIN, SERVER_CPU, WORK, dataset, free_port, peer, ratio, record, run, split_synthetic, summary,
    wait_for_port,
)
from .server import loadtest


def run_benchmark(args):
    """Batch explanation (exact TreeSHAP) of the scoring benchmark's 500-tree depth-6 models, one thread: Propensity
    on the imported LightGBM and XGBoost models against LightGBM pred_contrib and XGBoost pred_contribs, same rows."""
    trees = 100 if args.quick else 500
    rows = 200 if args.quick else 2000
    size = 100_000 if args.quick else 1_000_000
    peers = peer("explain_peers.py", ["--data", dataset(size) + ".npz", "--trees", str(trees), "--rows", str(rows),
                                      "--train-rows", "50000" if args.quick else "200000",
                                      "--repeats", str(args.repeats)])
    test_csv = split_synthetic(size) + "-test.csv"
    ours = {}
    for kind, path in [("lightgbm", peers["lightgbm_model"]), ("xgboost", peers["xgboost_model"])]:
        model = os.path.join(WORK, os.path.basename(path) + ".model")
        run([BIN, "import", "--from", kind, path, "--out", model])
        out = json.loads(run([BENCH_BIN, "explain", "--model", model, "--data", test_csv, "--rows", str(rows),
                              "--repeats", str(args.repeats)]).stdout)
        ours[kind] = out["rows_per_second"]
    best = max(peers["peers"], key=lambda k: peers["peers"][k]["median"])
    # Ours on the model of the faster peer's library (each library's own model shape) against that peer.
    ratios = {
        "throughput_vs_best_peer": ratio(ours[best], peers["peers"][best], "higher", f"{best} pred_contrib(s)"),
        "throughput_vs_lightgbm": ratio(ours["lightgbm"], peers["peers"]["lightgbm"], "higher", "lightgbm pred_contrib"),
        "throughput_vs_xgboost": ratio(ours["xgboost"], peers["peers"]["xgboost"], "higher", "xgboost pred_contribs"),
    }
    figures = {
        "propensity_lightgbm_model_rows_per_second": ours["lightgbm"],
        "propensity_xgboost_model_rows_per_second": ours["xgboost"],
        **{f"{name}_rows_per_second": rate for name, rate in peers["peers"].items()},
        "method": "exact path-dependent TreeSHAP on both sides, 1 thread, the same rows",
    }
    result = record("explain", {"trees": trees, "max_depth": 6, "features": 28, "rows": rows, "threads": 1},
                    figures, ratios, "throughput_vs_best_peer")
    print(f"explain {trees} trees, {rows} rows, 1 thread: propensity {ours['lightgbm']['median']:.0f} rows/s (LightGBM "
          f"model) / {ours['xgboost']['median']:.0f} (XGBoost model); lightgbm {peers['peers']['lightgbm']['median']:.0f}, "
          f"xgboost {peers['peers']['xgboost']['median']:.0f}; vs best ({best}) {result['ratio']:.2f}", file=sys.stderr)
    return [result, server_explain(args, peers["lightgbm_model"], trees)]


def server_explain(args, lightgbm_model, trees):
    """One-row EXPLAIN (top 5 reasons) through the server at 1,000 requests/s open loop (latency from each request's
    due time), against one-row SCORE of the same model at the same rate in the same run; server on CPU 0, load
    generator on CPU 1. The issue's target: EXPLAIN p99 under 1 ms."""
    seconds = 3 if args.quick else 10
    models = os.path.join(WORK, "explain-server-models")
    os.makedirs(models, exist_ok=True)
    run([BIN, "import", "--from", "lightgbm", lightgbm_model, "--out", os.path.join(models, "trees.model")])
    port = free_port()
    server = subprocess.Popen(SERVER_CPU + [BIN, "serve", "--models", models, "--port", str(port), "--watch-interval", "0"], stderr=subprocess.DEVNULL)
    explain, score = [], []
    try:
        wait_for_port(port)
        for _ in range(args.repeats):
            explain.append(loadtest(port, "trees", 1000, 1, 16, seconds, explain=5))
            score.append(loadtest(port, "trees", 1000, 1, 16, seconds))
    finally:
        server.terminate()
        server.wait(timeout=10)
    for r in explain + score:
        if r["errors"] or r["unsent"]:
            raise RuntimeError(f"loadtest reported {r['errors']} errors, {r['unsent']} unsent")
    p99 = summary([r["latency_us"]["p99"] for r in explain])
    score_p99 = summary([r["latency_us"]["p99"] for r in score])
    figures = {
        "explain_p50_us": summary([r["latency_us"]["p50"] for r in explain]),
        "explain_p99_us": p99,
        "explain_p99.9_us": summary([r["latency_us"]["p99.9"] for r in explain]),
        "score_p50_us": summary([r["latency_us"]["p50"] for r in score]),
        "score_p99_us": score_p99,
        "explain_achieved_rate": summary([r["achieved_rate"] for r in explain]),
        "p99_target_us": 1000,
        "method": "propensity loadtest --rate 1000 --connections 1 --pipeline 16 [--explain 5], one row per request, "
                  "open loop (latency from the due time); serve pinned to CPU 0, loadtest to CPU 1",
    }
    ratios = {"explain_p99_vs_score_p99": ratio(p99, score_p99, "lower", "one-row SCORE of the same model, same rate")}
    result = record("explain-server", {"trees": trees, "max_depth": 6, "features": 28, "rows_per_request": 1, "top": 5,
                                       "rate": 1000, "threads": 1}, figures, ratios, "explain_p99_vs_score_p99")
    print(f"explain-server {trees} trees, 1 row, top 5 at 1000/s: p99 {p99['median']:.0f} µs "
          f"(score p99 {score_p99['median']:.0f} µs; target < 1000 µs)", file=sys.stderr)
    return result
