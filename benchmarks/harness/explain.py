import json
import os
import sys

from .common import BENCH_BIN, BIN, WORK, dataset, peer, ratio, record, run, split_synthetic, summary


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
    return [result]
