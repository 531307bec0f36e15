import os
import sys

from .common import WORK, dataset, peer, propensity_scoring, ratio, record, split_synthetic


def run_benchmark(args):
    """Model load time (read, verify, compile the scorer — what the server does on load) and file size, against
    the peers' own formats for the same 500-tree model: LightGBM text, XGBoost JSON and UBJSON, TL2cgen's library."""
    trees = 100 if args.quick else 500
    peers = peer("scoring_peers.py", ["--data",
                            dataset(100_000 if args.quick else 1_000_000) + ".npz", "--trees", str(trees),
                            "--test-rows", "2000", "--train-rows", "50000" if args.quick else "200000", "--repeats", "1",
                            "--threads", "1", "--skip", "lleaves" if not args.quick else "lleaves,tl2cgen",
                            "--single-calls", "10"])
    repeats = max(5, args.repeats)
    ours = propensity_scoring(peers["lightgbm_model"], split_synthetic(100_000 if args.quick else 1_000_000) + "-test.csv",
                              1, 1, 10, load_repeats=repeats)
    lib = os.path.join(WORK, f"scoring-tl2cgen-{trees}.so")
    theirs = peer("load_peers.py", ["--lightgbm", peers["lightgbm_model"],
                             "--xgboost", peers["xgboost_model"], "--repeats", str(repeats)]
                            + (["--tl2cgen", lib] if os.path.exists(lib) else []))
    figures = {"propensity_load_seconds": ours["load_seconds"], "propensity_model_bytes": ours["model_bytes"],
               **{f"{k}_load_seconds": v["seconds"] for k, v in theirs.items()},
               **{f"{k}_bytes": v["bytes"] for k, v in theirs.items()}}
    ratios = {"load_time_vs_lightgbm_text": ratio(ours["load_seconds"], theirs["lightgbm_text"]["seconds"], "lower", "lightgbm text"),
              "load_time_vs_xgboost_ubj": ratio(ours["load_seconds"], theirs["xgboost_ubj"]["seconds"], "lower", "xgboost ubj"),
              "file_size_vs_lightgbm_text": ratio(ours["model_bytes"], theirs["lightgbm_text"]["bytes"], "lower", "lightgbm text"),
              "file_size_vs_xgboost_ubj": ratio(ours["model_bytes"], theirs["xgboost_ubj"]["bytes"], "lower", "xgboost ubj")}
    print(f"model-load {trees} trees: propensity {ours['load_seconds']['median'] * 1e3:.2f} ms, "
          f"{ours['model_bytes'] / 1024:.0f} KB; " + ", ".join(
              f"{k} {v['seconds']['median'] * 1e3:.2f} ms, {v['bytes'] / 1024:.0f} KB" for k, v in theirs.items()),
          file=sys.stderr)
    return [record("model-load", {"trees": trees, "max_depth": 6, "features": 28, "threads": 1}, figures, ratios,
                   "load_time_vs_lightgbm_text")]
