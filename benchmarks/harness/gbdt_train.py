import statistics
import sys

from .common import figure, peer_gbdt, propensity_gbdt, ratio, record, split_synthetic, summary


def run_benchmark(args):
    """GBDT training time (binning included), peak memory and AUC vs LightGBM and XGBoost hist, 1M x 28 synthetic
    rows (800k train), 100 trees, depth 6 / 63 leaves, 255 bins. Propensity also trains with quantized gradients
    (`--gradient-bins 4`, LightGBM's default level count) in the same run; its time, AUC and ratio are recorded beside
    the exact run's."""
    rows = 100_000 if args.quick else 1_000_000
    base = split_synthetic(rows)
    records = []
    shape = ["--trees", "100", "--max-depth", "6", "--num-leaves", "63", "--max-bin", "255"]
    for threads in ([2] if args.quick else [1, 2]):
        ours, quantized = [], []
        for _ in range(args.repeats):
            ours.append(propensity_gbdt(base + "-train.csv", base + "-test.csv", "label", threads, shape))
            quantized.append(propensity_gbdt(base + "-train.csv", base + "-test.csv", "label", threads,
                                             shape + ["--gradient-bins", "4"]))
        peers = {library: [peer_gbdt(library, base, threads) for _ in range(args.repeats)]
                 for library in ["lightgbm", "xgboost"]}
        seconds = summary([o[0] for o in ours])
        fastest = min(peers, key=lambda k: statistics.median(r["seconds"] for r in peers[k]))
        peer_seconds = summary([r["seconds"] for r in peers[fastest]])
        quantized_seconds = summary([o[0] for o in quantized])
        memory = summary([o[1] for o in ours])
        lgb_memory = summary([r["peak_rss_kb"] for r in peers["lightgbm"]])
        auc = figure(ours[0][2])
        result = record(
            "gbdt-train",
            {"rows": rows, "train_rows": rows * 4 // 5, "features": 28, "threads": threads, "trees": 100,
             "max_depth": 6, "num_leaves": 63, "max_bin": 255},
            {
                "propensity_fit_seconds": seconds,
                "propensity_peak_rss_kb": memory,
                "propensity_auc": ours[0][2],
                "propensity_quantized_fit_seconds": quantized_seconds,
                "propensity_quantized_peak_rss_kb": summary([o[1] for o in quantized]),
                "propensity_quantized_auc": quantized[0][2],
                **{f"{k}_seconds": summary([r["seconds"] for r in v]) for k, v in peers.items()},
                **{f"{k}_peak_rss_kb": summary([r["peak_rss_kb"] for r in v]) for k, v in peers.items()},
                **{f"{k}_auc": v[0]["auc"] for k, v in peers.items()},
                **{f"{k}_version": v[0]["version"] for k, v in peers.items()},
            },
            {
                "fit_time_vs_fastest_peer": ratio(seconds, peer_seconds, "lower", f"{fastest} {peers[fastest][0]['version']}"),
                "peak_memory_vs_lightgbm": ratio(memory, lgb_memory, "lower", "lightgbm"),
                "auc_vs_lightgbm": ratio(auc, peers["lightgbm"][0]["auc"], "higher", "lightgbm"),
                "quantized_fit_time_vs_fastest_peer": ratio(
                    quantized_seconds, peer_seconds, "lower", f"{fastest} {peers[fastest][0]['version']}"),
                "quantized_auc_vs_lightgbm": ratio(figure(quantized[0][2]), peers["lightgbm"][0]["auc"], "higher", "lightgbm"),
            },
            "fit_time_vs_fastest_peer")
        records.append(result)
        print(f"gbdt-train threads={threads}: propensity {seconds['median']:.2f} s (AUC {ours[0][2]:.4f}, "
              f"{memory['median'] / 1024:.0f} MB), lightgbm {statistics.median(r['seconds'] for r in peers['lightgbm']):.2f} s "
              f"({lgb_memory['median'] / 1024:.0f} MB), xgboost {statistics.median(r['seconds'] for r in peers['xgboost']):.2f} s; "
              f"time ratio {result['ratio']:.2f}, memory ratio {result['ratios']['peak_memory_vs_lightgbm']['value']:.2f}; "
              f"quantized {quantized_seconds['median']:.2f} s (AUC {quantized[0][2]:.4f}), "
              f"ratio {result['ratios']['quantized_fit_time_vs_fastest_peer']['value']:.2f}",
              file=sys.stderr)
    return records
