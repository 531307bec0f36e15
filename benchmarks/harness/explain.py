import contextlib
import json
import os
import subprocess
import sys

from .common import (
    BENCH_BIN, BIN, ROOT, SERVER_CPU, WORK, dataset, free_port, keep_awake, peer, ratio, record, run, split_synthetic,
    summary, wait_for_port,
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
    """One-row EXPLAIN (top 5 reasons) through the server at 1,000 requests/s, open loop (latency from each request's
    due time), against one-row SCORE of the same model at the same rate in the same run; server on CPU 0, load
    generator on CPU 1. The issue's target is p99 under 1 ms at that rate; both the logistic example and the 500-tree
    model (whose single-row CPU cost is recorded beside it, from `propensity-bench explain --single-rows`) run it.
    Each case runs again with the vCPUs kept awake (`keep_awake`): idle vCPU wake-ups dominate open-loop p99 here."""
    seconds = 3 if args.quick else 10
    models = os.path.join(WORK, "explain-server-models")
    os.makedirs(models, exist_ok=True)
    trees_model = os.path.join(models, "trees.model")
    run([BIN, "import", "--from", "lightgbm", lightgbm_model, "--out", trees_model])
    run(["cp", os.path.join(ROOT, "models", "conversion.model"), os.path.join(models, "lr.model")])
    def single_rows(*extra):
        return json.loads(run([BENCH_BIN, "explain", "--model", trees_model, "--data", split_synthetic(
            100_000 if args.quick else 1_000_000) + "-test.csv", "--rows", "300", "--repeats", str(args.repeats),
            "--single-rows", *extra]).stdout)["rows_per_second"]
    single = single_rows()
    # The same rows each after 64 MB of other reads: the model's tables out of the caches, as after an idle gap.
    cold = single_rows("--evict-megabytes", "64")
    port = free_port()
    server = subprocess.Popen(SERVER_CPU + [BIN, "serve", "--models", models, "--port", str(port), "--watch-interval", "0"],
                              stderr=subprocess.DEVNULL)
    rate = 1000
    # Each model twice: as the VM gives it (idle vCPUs halt between requests) and with the vCPUs kept awake.
    cases = {"lr": "lr", "trees": "trees", "lr_awake": "lr", "trees_awake": "trees"}
    runs = {(case, kind): [] for case in cases for kind in ("explain", "score")}
    try:
        wait_for_port(port)
        for _ in range(args.repeats):
            for case, model in cases.items():
                with keep_awake() if case.endswith("_awake") else contextlib.nullcontext():
                    runs[(case, "explain")].append(loadtest(port, model, rate, 1, 16, seconds, explain=5))
                    runs[(case, "score")].append(loadtest(port, model, rate, 1, 16, seconds))
    finally:
        server.terminate()
        server.wait(timeout=10)
    for r in sum(runs.values(), []):
        if r["errors"]:
            raise RuntimeError(f"loadtest reported {r['errors']} errors")
    def microseconds_per_row(rate):
        return {"median": 1e6 / rate["median"], "min": 1e6 / rate["max"], "max": 1e6 / rate["min"], "runs": rate["runs"]}
    figures = {"trees_single_row_explain_us": microseconds_per_row(single),
               "trees_single_row_explain_cold_us": microseconds_per_row(cold)}
    ratios = {}
    for (case, kind), results in runs.items():
        for p in ("p50", "p99", "p99.9"):
            figures[f"{case}_{kind}_{p}_us"] = summary([r["latency_us"][p] for r in results])
        figures[f"{case}_{kind}_unsent"] = sum(r["unsent"] for r in results)
    figures["p99_target_us"] = 1000
    for case in cases:
        ratios[f"{case}_explain_p99_vs_target"] = ratio(figures[f"{case}_explain_p99_us"], summary([1000]), "lower",
                                                        "the issue's 1 ms p99 target")
        ratios[f"{case}_explain_p99_vs_score_p99"] = ratio(
            figures[f"{case}_explain_p99_us"], figures[f"{case}_score_p99_us"], "lower",
            f"one-row SCORE of the same model at {rate}/s")
    figures["method"] = ("propensity loadtest --rate 1000 --connections 1 --pipeline 16 [--explain 5], one row per "
                         "request, open loop (latency from the due time); serve pinned to CPU 0, loadtest to CPU 1; "
                         f"the logistic example and the {trees}-tree model; *_awake: again with SCHED_IDLE spinners on "
                         "every CPU so that no vCPU halts between requests (harness.common.keep_awake)")
    result = record("explain-server", {"trees": trees, "max_depth": 6, "features": 28, "rows_per_request": 1, "top": 5,
                                       "rate": rate, "threads": 1}, figures, ratios, "trees_explain_p99_vs_target")
    f = {k: v["median"] for k, v in figures.items() if isinstance(v, dict)}
    print(f"explain-server, 1 row, top 5, {rate}/s, p99 µs: lr {f['lr_explain_p99_us']:.0f} (score "
          f"{f['lr_score_p99_us']:.0f}; awake {f['lr_awake_explain_p99_us']:.0f} vs {f['lr_awake_score_p99_us']:.0f}); "
          f"{trees} trees {f['trees_explain_p99_us']:.0f} (score {f['trees_score_p99_us']:.0f}; awake "
          f"{f['trees_awake_explain_p99_us']:.0f} vs {f['trees_awake_score_p99_us']:.0f}); {trees}-tree single-row "
          f"explain {f['trees_single_row_explain_us']:.0f} µs of CPU ({f['trees_single_row_explain_cold_us']:.0f} from "
          "out of the caches)", file=sys.stderr)
    return result
