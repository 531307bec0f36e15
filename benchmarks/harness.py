#!/usr/bin/env python3
"""Runs named benchmarks and appends their records to benchmarks/results/history.jsonl.

Each record: date, commit, machine, benchmark name, parameters, figures (median / min / max / runs) for propensity
and for the peer measured in the same run, and their ratio (propensity ÷ peer, so < 1 means propensity is faster).
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORK = os.path.join(HERE, "work")
HISTORY = os.path.join(HERE, "results", "history.jsonl")
PY = sys.executable
BIN = os.environ.get("PROPENSITY_BIN", os.path.join(ROOT, ".build", "release", "propensity"))


def machine():
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f.readline().split(":", 1)[1].strip()
    except OSError:
        pass
    return {"host": platform.node(), "os": platform.platform(), "cpu": cpu, "cores": os.cpu_count(), "memory": mem}


def commit():
    try:
        rev = subprocess.check_output(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], text=True).strip()
        dirty = subprocess.call(["git", "-C", ROOT, "diff", "--quiet", "HEAD"]) != 0
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": len(values),
            "values": values}


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def dataset(rows, features=28, seed=1):
    os.makedirs(WORK, exist_ok=True)
    base = os.path.join(WORK, f"synthetic-{rows}-{features}-s{seed}")
    if not (os.path.exists(base + ".csv") and os.path.exists(base + ".npz")):
        print(f"generating {base}", file=sys.stderr)
        run([PY, os.path.join(HERE, "make_synthetic.py"), "--rows", str(rows), "--features", str(features),
             "--seed", str(seed), "--out", base])
    return base


def bench_lr_train(args):
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
            out = run([PY, os.path.join(HERE, "peers", "lr_sklearn.py"), "--data", base + ".npz", "--solver", solver,
                       "--threads", str(threads), "--repeats", str(args.repeats), "--l2", "1"])
            peers[solver] = json.loads(out.stdout)
        best = min(peers, key=lambda s: statistics.median(peers[s]["seconds"]))
        ref = peers["newton-cholesky"]
        diffs = [abs(inspect["coefficients"][k] - v) / max(abs(v), 1e-12) for k, v in ref["coefficients"].items()]
        diffs.append(abs(inspect["intercept"] - ref["intercept"]) / max(abs(ref["intercept"]), 1e-12))
        ours_s = summary(ours)
        peer_s = summary(peers[best]["seconds"])
        records.append({
            "benchmark": "lr-train", "params": {"rows": rows, "features": 28, "threads": threads, "l2": 1.0},
            "figures": {
                "propensity_fit_seconds": ours_s,
                "sklearn_lbfgs_seconds": summary(peers["lbfgs"]["seconds"]),
                "sklearn_newton_cholesky_seconds": summary(peers["newton-cholesky"]["seconds"]),
                "propensity_iterations": report["iterations"],
                "max_relative_coefficient_difference_vs_sklearn": max(diffs),
            },
            "peer": {"name": f"scikit-learn {best}", "figure": peer_s, "blas": peers[best]["blas"]},
            "ratio": ours_s["median"] / peer_s["median"],
        })
        print(f"lr-train threads={threads}: propensity {ours_s['median']:.3f} s, sklearn {best} "
              f"{peer_s['median']:.3f} s, ratio {records[-1]['ratio']:.2f}, max coef rel diff {max(diffs):.1e}",
              file=sys.stderr)
    return records


BENCHMARKS = {"lr-train": bench_lr_train}


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated: " + ", ".join(BENCHMARKS))
    p.add_argument("--quick", action="store_true", help="small inputs, one configuration (smoke test)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--no-record", action="store_true", help="do not append to the history file")
    args = p.parse_args()
    if args.quick:
        args.repeats = min(args.repeats, 1)
    names = [n for n in args.only.split(",") if n]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(unknown)} (known: {', '.join(BENCHMARKS)})")
    stamp = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
             "commit": commit(), "machine": machine(), "quick": args.quick}
    for name in names:
        for record in BENCHMARKS[name](args):
            line = json.dumps({**stamp, **record}, sort_keys=True)
            print(line)
            if not args.no_record and not args.quick:
                os.makedirs(os.path.dirname(HISTORY), exist_ok=True)
                with open(HISTORY, "a") as f:
                    f.write(line + "\n")


if __name__ == "__main__":
    main()
