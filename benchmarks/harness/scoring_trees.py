import os
import sys

from .common import WORK, dataset, peer, propensity_scoring, ratio, record, split_synthetic, summary


def run_benchmark(args):
    """Batch throughput at 100 / 500 / 2,000 trees (depth 6), 1 thread: where does it leave the cache?"""
    counts = [50, 100] if args.quick else [100, 500, 2000]
    base = split_synthetic(100_000 if args.quick else 1_000_000)
    figures, ratios = {}, {}
    for trees in counts:
        peers = peer("scoring_peers.py", ["--data",
                                dataset(100_000 if args.quick else 1_000_000) + ".npz", "--trees", str(trees),
                                "--test-rows", "20000", "--train-rows", "50000" if args.quick else "200000",
                                "--repeats", "1", "--threads", "1", "--skip", "lleaves,tl2cgen"])
        runs = [propensity_scoring(peers["lightgbm_model"], base + "-test.csv", 1, 3, 1000) for _ in range(args.repeats)]
        rate = summary([r["rows_per_second"] for r in runs])
        figures[str(trees)] = {
            "rows_per_second": rate,
            "ns_per_tree_per_row": summary([r["ns_per_tree_per_row"] for r in runs]),
            "xgboost_rows_per_second": peers["peers"]["xgboost"]["1"],
            "lightgbm_rows_per_second": peers["peers"]["lightgbm"]["1"],
            "model_bytes": os.path.getsize(os.path.join(WORK, os.path.basename(peers["lightgbm_model"]) + ".model")),
        }
        ratios[f"throughput_vs_xgboost_{trees}"] = ratio(rate, peers["peers"]["xgboost"]["1"], "higher", "xgboost")
        print(f"scoring-trees {trees}: {figures[str(trees)]['ns_per_tree_per_row']['median']:.2f} ns/tree/row, "
              f"{rate['median']:.0f} rows/s (xgboost {peers['peers']['xgboost']['1']['median']:.0f})", file=sys.stderr)
    return [record("scoring-trees", {"threads": 1, "max_depth": 6, "trees": counts}, figures, ratios,
                   f"throughput_vs_xgboost_{counts[-1]}")]
