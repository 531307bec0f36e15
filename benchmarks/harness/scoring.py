import sys

from .common import dataset, peer, propensity_scoring, ratio, record, split_synthetic, summary


def run_benchmark(args):
    """Batch throughput and single-row latency of a 500-tree depth-6 model on 200,000 rows, against LightGBM
    predict, XGBoost inplace_predict, lleaves and TL2cgen (gcc -O3), measured in the same run."""
    trees = 100 if args.quick else 500
    base = split_synthetic(100_000 if args.quick else 1_000_000)
    peers = peer("scoring_peers.py", ["--data", dataset(100_000 if args.quick else 1_000_000) + ".npz",
                            "--trees", str(trees), "--test-rows", "20000" if args.quick else "200000",
                            "--train-rows", "50000" if args.quick else "200000", "--repeats", str(args.repeats),
                            "--single-calls", "10000" if args.quick else "100000"]
                           + (["--skip", "lleaves,tl2cgen"] if args.quick else []))
    records = []
    for threads in ([1] if args.quick else [1, 2]):
        runs, scalar_runs, avx2_runs = [], [], []
        for _ in range(args.repeats):
            runs.append(propensity_scoring(peers["lightgbm_model"], base + "-test.csv", threads, 3,
                                           10_000 if args.quick else 100_000))
            # The scalar walk (the reference and fallback) in the same run, batches only, when the CPU has another.
            if runs[-1]["tree_walk"] != "scalar":
                scalar_runs.append(propensity_scoring(peers["lightgbm_model"], base + "-test.csv", threads, 3, 1,
                                                      tree_walk="scalar", call_sizes="64"))
            # On an AVX-512 CPU, single rows as a CPU with AVX2 only scores them too (its binning by compares).
            if runs[-1]["tree_walk"] == "avx512":
                avx2_runs.append(propensity_scoring(peers["lightgbm_model"], base + "-test.csv", threads, 1,
                                                    10_000 if args.quick else 100_000, tree_walk="avx2",
                                                    call_sizes="1"))
        ours = summary([r["rows_per_second"] for r in runs])
        peer_rates = {name: rates[str(threads)] for name, rates in peers["peers"].items()}
        best = max(peer_rates, key=lambda k: peer_rates[k]["median"])
        single = summary([r["single_row_us"]["median"] for r in runs])
        single_p99 = summary([r["single_row_us"]["p99"] for r in runs])
        ratios = {"throughput_vs_best_peer": ratio(ours, peer_rates[best], "higher", best)}
        single_avx2 = summary([r["single_row_us"]["median"] for r in avx2_runs]) if avx2_runs else None
        if peers.get("lleaves_single_row_us"):
            ratios["single_row_latency_vs_lleaves"] = ratio(single, peers["lleaves_single_row_us"], "lower", "lleaves")
            if single_avx2:
                ratios["single_row_latency_avx2_vs_lleaves"] = ratio(
                    single_avx2, peers["lleaves_single_row_us"], "lower", "lleaves (ours with the AVX2 walk)")
        result = record(
            "scoring", {"trees": trees, "max_depth": 6, "features": 28, "rows": peers["rows"], "threads": threads},
            {
                "propensity_rows_per_second": ours,
                "propensity_ns_per_tree_per_row": summary([r["ns_per_tree_per_row"] for r in runs]),
                "propensity_single_row_median_us": single,
                "propensity_single_row_p99_us": single_p99,
                "propensity_rows_per_second_by_call_size": runs[0]["rows_per_second_by_call_size"],
                **{f"{name}_rows_per_second": rate for name, rate in peer_rates.items()},
                "lleaves_single_row_us": peers.get("lleaves_single_row_us"),
                "plan": runs[0]["plan"],
                "tree_walk": runs[0]["tree_walk"],
                **({"propensity_scalar_walk_rows_per_second": summary([r["rows_per_second"] for r in scalar_runs])}
                   if scalar_runs else {}),
                **({"propensity_single_row_avx2_median_us": single_avx2} if single_avx2 else {}),
            },
            ratios, "throughput_vs_best_peer")
        records.append(result)
        print(f"scoring threads={threads}: propensity {ours['median']:.0f} rows/s "
              f"({result['figures']['propensity_ns_per_tree_per_row']['median']:.2f} ns/tree/row), best peer {best} "
              f"{peer_rates[best]['median']:.0f} rows/s, ratio {result['ratio']:.2f}; single row median {single['median']:.2f} µs, "
              f"p99 {single_p99['median']:.2f} µs (lleaves {peers.get('lleaves_single_row_us', {}).get('median', float('nan')):.2f} µs); "
              f"tree walk {runs[0]['tree_walk']}"
              + (f", scalar walk {result['figures']['propensity_scalar_walk_rows_per_second']['median']:.0f} rows/s"
                 if scalar_runs else "")
              + (f"; single row with the AVX2 walk {single_avx2['median']:.2f} µs" if single_avx2 else ""),
              file=sys.stderr)
    return records
