import sys

from .common import peer_gbdt, propensity_gbdt, ratio, record, split_synthetic, summary


def run_benchmark(args):
    """GBDT fit time at 250k / 1M / 4M synthetic rows (80 % train), 2 threads, for Propensity, LightGBM and XGBoost:
    cost should grow linearly, and the lead should hold as data grows."""
    sizes = [50_000, 100_000] if args.quick else [250_000, 1_000_000, 4_000_000]
    points, peers, ratios = {}, {"lightgbm": {}, "xgboost": {}}, {}
    for rows in sizes:
        base = split_synthetic(rows)
        repeats = 1 if rows > 1_000_000 else args.repeats
        fits = [propensity_gbdt(base + "-train.csv", base + "-test.csv", "label", 2,
                                ["--trees", "100", "--max-depth", "6", "--num-leaves", "63", "--max-bin", "255"])
                for _ in range(repeats)]
        points[str(rows)] = summary([f[0] for f in fits])
        for library in peers:
            peers[library][str(rows)] = summary([peer_gbdt(library, base, 2)["seconds"] for _ in range(repeats)])
        fastest = min(peers, key=lambda k: peers[k][str(rows)]["median"])
        ratios[f"fit_time_vs_fastest_peer_{rows}"] = ratio(points[str(rows)], peers[fastest][str(rows)], "lower", fastest)
        print(f"gbdt-scaling rows={rows}: {points[str(rows)]['median']:.2f} s "
              f"({points[str(rows)]['median'] / (rows * 0.8) * 1e6:.2f} µs per training row); lightgbm "
              f"{peers['lightgbm'][str(rows)]['median']:.2f} s, xgboost {peers['xgboost'][str(rows)]['median']:.2f} s",
              file=sys.stderr)
    per_row = {k: v["median"] / (int(k) * 0.8) for k, v in points.items()}
    return [record("gbdt-scaling", {"threads": 2, "trees": 100, "max_depth": 6, "num_leaves": 63, "sizes": sizes},
                   {"propensity_fit_seconds_by_rows": points, "seconds_per_training_row": per_row,
                    "lightgbm_fit_seconds_by_rows": peers["lightgbm"], "xgboost_fit_seconds_by_rows": peers["xgboost"]},
                   ratios, f"fit_time_vs_fastest_peer_{sizes[-1]}")]
