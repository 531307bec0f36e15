import json
import os
import statistics
import sys

from .common import BIN, WORK, dataset, peer, ratio, record, run, summary


def run_benchmark(args):
    """Logistic-regression fit time vs scikit-learn (lbfgs and newton-cholesky), same data, same objective."""
    rows = 100_000 if args.quick else 1_000_000
    base = dataset(rows)
    records = []
    for threads in ([1] if args.quick else [1, 2]):
        ours, model_path, report_path = [], os.path.join(WORK, "lr.model"), os.path.join(WORK, "lr-report.json")
        for _ in range(args.repeats):
            run([BIN, "train", "--data", base + ".csv", "--label", "label", "--validation-fraction", "0",
                 "--l2", "1", "--threads", str(threads), "--tolerance", "1e-8", "--out", model_path,
                 "--report-json", report_path])
            with open(report_path) as f:
                report = json.load(f)
            ours.append(report["fit_seconds"])
        inspect = json.loads(run([BIN, "inspect", model_path, "--json"]).stdout)
        peers = {}
        for solver in ["lbfgs", "newton-cholesky"]:
            peers[solver] = peer("lr_sklearn.py", ["--data", base + ".npz", "--solver", solver,
                                                   "--threads", str(threads), "--repeats", str(args.repeats), "--l2", "1"])
        best = min(peers, key=lambda s: statistics.median(peers[s]["seconds"]))
        ref = peers["newton-cholesky"]
        diffs = [abs(inspect["coefficients"][k] - v) / max(abs(v), 1e-12) for k, v in ref["coefficients"].items()]
        diffs.append(abs(inspect["intercept"] - ref["intercept"]) / max(abs(ref["intercept"]), 1e-12))
        ours_s = summary(ours)
        peer_s = summary(peers[best]["seconds"])
        records.append(record(
            "lr-train", {"rows": rows, "features": 28, "threads": threads, "l2": 1.0},
            {
                "propensity_fit_seconds": ours_s,
                "sklearn_lbfgs_seconds": summary(peers["lbfgs"]["seconds"]),
                "sklearn_newton_cholesky_seconds": summary(peers["newton-cholesky"]["seconds"]),
                "propensity_iterations": report["iterations"],
                "max_relative_coefficient_difference_vs_sklearn": max(diffs),
                "sklearn_blas": peers[best]["blas"],
            },
            {"fit_time_vs_sklearn": ratio(ours_s, peer_s, "lower", f"scikit-learn {best}")}, "fit_time_vs_sklearn"))
        print(f"lr-train threads={threads}: propensity {ours_s['median']:.3f} s, sklearn {best} "
              f"{peer_s['median']:.3f} s, ratio {records[-1]['ratio']:.2f}, max coef rel diff {max(diffs):.1e}",
              file=sys.stderr)
    return records
