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


def split_synthetic(rows, features=28):
    """The synthetic set cut 80/20 (first rows train), as CSV for propensity and .npz for the peers."""
    base = dataset(rows, features)
    train_rows = rows * 4 // 5
    out = os.path.join(WORK, f"gbdt-{rows}")
    if not all(os.path.exists(out + s) for s in ("-train.csv", "-test.csv", "-train.npz", "-test.npz")):
        import numpy as np
        d = np.load(base + ".npz")
        np.savez(out + "-train.npz", X=d["X"][:train_rows], y=d["y"][:train_rows])
        np.savez(out + "-test.npz", X=d["X"][train_rows:], y=d["y"][train_rows:])
        with open(base + ".csv") as src, open(out + "-train.csv", "w") as tr, open(out + "-test.csv", "w") as te:
            header = src.readline()
            tr.write(header)
            te.write(header)
            for i, line in enumerate(src):
                (tr if i < train_rows else te).write(line)
    return out


def propensity_gbdt(train_csv, test_csv, label, threads, extra):
    """Trains with propensity; returns (fit seconds, peak RSS in KB of the whole CLI process, held-out AUC)."""
    model, report = os.path.join(WORK, "gbdt.model"), os.path.join(WORK, "gbdt-report.json")
    out = run(["/usr/bin/time", "-f", "%M", BIN, "train", "--data", train_csv, "--label", label, "--algorithm", "gbdt",
               "--validation-fraction", "0", "--log-every", "0", "--threads", str(threads), "--out", model,
               "--report-json", report] + extra)
    peak = int(out.stderr.strip().splitlines()[-1])
    with open(report) as f:
        seconds = json.load(f)["fit_seconds"]
    auc = json.loads(run([BIN, "evaluate", "--model", model, "--data", test_csv, "--json"]).stdout)["auc"]
    return seconds, peak, auc


def bench_gbdt_train(args):
    """GBDT training time (binning included), peak memory and AUC vs LightGBM and XGBoost hist, 1M x 28 synthetic
    rows (800k train), 100 trees, depth 6 / 63 leaves, 255 bins."""
    rows = 100_000 if args.quick else 1_000_000
    base = split_synthetic(rows)
    records = []
    for threads in ([2] if args.quick else [1, 2]):
        ours = [propensity_gbdt(base + "-train.csv", base + "-test.csv", "label", threads,
                                ["--trees", "100", "--max-depth", "6", "--num-leaves", "63", "--max-bin", "255"])
                for _ in range(args.repeats)]
        peers = {}
        for library in ["lightgbm", "xgboost"]:
            results = [json.loads(run([PY, os.path.join(HERE, "peers", "gbdt_peers.py"), "--library", library,
                                       "--train", base + "-train.npz", "--test", base + "-test.npz",
                                       "--threads", str(threads), "--trees", "100", "--max-depth", "6",
                                       "--num-leaves", "63", "--max-bin", "255"]).stdout)
                       for _ in range(args.repeats)]
            peers[library] = results
        seconds = summary([o[0] for o in ours])
        fastest = min(peers, key=lambda k: statistics.median(r["seconds"] for r in peers[k]))
        peer_seconds = summary([r["seconds"] for r in peers[fastest]])
        memory = summary([o[1] for o in ours])
        lgb_memory = summary([r["peak_rss_kb"] for r in peers["lightgbm"]])
        record = {
            "benchmark": "gbdt-train",
            "params": {"rows": rows, "train_rows": rows * 4 // 5, "features": 28, "threads": threads, "trees": 100,
                       "max_depth": 6, "num_leaves": 63, "max_bin": 255},
            "figures": {
                "propensity_fit_seconds": seconds,
                "propensity_peak_rss_kb": memory,
                "propensity_auc": ours[0][2],
                **{f"{k}_seconds": summary([r["seconds"] for r in v]) for k, v in peers.items()},
                **{f"{k}_peak_rss_kb": summary([r["peak_rss_kb"] for r in v]) for k, v in peers.items()},
                **{f"{k}_auc": v[0]["auc"] for k, v in peers.items()},
                "memory_ratio_vs_lightgbm": memory["median"] / lgb_memory["median"],
            },
            "peer": {"name": f"{fastest} {peers[fastest][0]['version']}", "figure": peer_seconds},
            "ratio": seconds["median"] / peer_seconds["median"],
        }
        records.append(record)
        print(f"gbdt-train threads={threads}: propensity {seconds['median']:.2f} s (AUC {ours[0][2]:.4f}, "
              f"{memory['median'] / 1024:.0f} MB), lightgbm {statistics.median(r['seconds'] for r in peers['lightgbm']):.2f} s "
              f"({lgb_memory['median'] / 1024:.0f} MB), xgboost {statistics.median(r['seconds'] for r in peers['xgboost']):.2f} s; "
              f"time ratio {record['ratio']:.2f}, memory ratio {record['figures']['memory_ratio_vs_lightgbm']:.2f}",
              file=sys.stderr)
    return records


def bench_gbdt_scaling(args):
    """Propensity GBDT fit time at 250k / 1M / 4M synthetic rows (80 % train), 2 threads: cost should grow linearly."""
    sizes = [50_000, 100_000] if args.quick else [250_000, 1_000_000, 4_000_000]
    points = {}
    for rows in sizes:
        base = split_synthetic(rows)
        fits = [propensity_gbdt(base + "-train.csv", base + "-test.csv", "label", 2,
                                ["--trees", "100", "--max-depth", "6", "--num-leaves", "63"])
                for _ in range(1 if rows > 1_000_000 else args.repeats)]
        points[str(rows)] = summary([f[0] for f in fits])
        print(f"gbdt-scaling rows={rows}: {points[str(rows)]['median']:.2f} s "
              f"({points[str(rows)]['median'] / (rows * 0.8) * 1e6:.2f} µs per training row)", file=sys.stderr)
    per_row = {k: v["median"] / (int(k) * 0.8) for k, v in points.items()}
    return [{"benchmark": "gbdt-scaling", "params": {"threads": 2, "trees": 100, "max_depth": 6, "num_leaves": 63},
             "figures": {"propensity_fit_seconds_by_rows": points, "seconds_per_training_row": per_row},
             "peer": None, "ratio": None}]


def bench_gbdt_accuracy(args):
    """Held-out AUC on the real datasets (test = every 5th row) vs LightGBM and XGBoost, matched parameters."""
    sys.path.insert(0, HERE)
    import prepare_datasets
    records = []
    datasets = [("online_shoppers", "Revenue", "True")] if args.quick else [
        ("online_shoppers", "Revenue", "True"), ("bank_marketing", "y", "yes"), ("flights", "late", "1")]
    for name, label, positive in datasets:
        train, test = prepare_datasets.prepare(name)
        _, _, auc = propensity_gbdt(train, test, label, 2, ["--trees", "100", "--num-leaves", "31", "--max-depth", "8"])
        peers = json.loads(run([PY, os.path.join(HERE, "peers", "gbdt_accuracy.py"), "--train", train, "--test", test,
                                "--label", label, "--positive", positive]).stdout)
        records.append({
            "benchmark": "gbdt-accuracy", "params": {"dataset": name, "trees": 100, "num_leaves": 31, "max_depth": 8},
            "figures": {"propensity_auc": auc, "lightgbm_auc": peers["lightgbm"]["auc"],
                        "xgboost_auc": peers["xgboost"]["auc"],
                        "auc_difference_vs_lightgbm": auc - peers["lightgbm"]["auc"]},
            "peer": {"name": "lightgbm", "figure": peers["lightgbm"]["auc"]},
            "ratio": auc / peers["lightgbm"]["auc"],
        })
        print(f"gbdt-accuracy {name}: propensity {auc:.4f}, lightgbm {peers['lightgbm']['auc']:.4f}, "
              f"xgboost {peers['xgboost']['auc']:.4f}", file=sys.stderr)
    return records


def propensity_scoring(model_txt, test_csv, threads, repeats, single_rows=100_000):
    model = os.path.join(WORK, os.path.basename(model_txt) + ".model")
    run([BIN, "import", "--from", "lightgbm", model_txt, "--out", model])
    return json.loads(run([BIN, "benchmark-scorer", "--model", model, "--data", test_csv, "--threads", str(threads),
                           "--repeats", str(repeats), "--single-rows", str(single_rows)]).stdout)


def bench_scoring(args):
    """Batch throughput and single-row latency of a 500-tree depth-6 model on 200,000 rows, against LightGBM
    predict, XGBoost inplace_predict, lleaves and TL2cgen (gcc -O3), measured in the same run."""
    trees = 100 if args.quick else 500
    base = split_synthetic(100_000 if args.quick else 1_000_000)
    peers = json.loads(run([PY, os.path.join(HERE, "peers", "scoring_peers.py"), "--data", dataset(100_000 if args.quick else 1_000_000) + ".npz",
                            "--trees", str(trees), "--test-rows", "20000" if args.quick else "200000",
                            "--train-rows", "50000" if args.quick else "200000", "--repeats", str(args.repeats),
                            "--single-calls", "10000" if args.quick else "100000"]
                           + (["--skip", "lleaves,tl2cgen"] if args.quick else [])).stdout)
    records = []
    for threads in ([1] if args.quick else [1, 2]):
        runs = [propensity_scoring(peers["lightgbm_model"], base + "-test.csv", threads, 3,
                                   10_000 if args.quick else 100_000) for _ in range(args.repeats)]
        ours = summary([r["rows_per_second"] for r in runs])
        peer_rates = {name: rates[str(threads)] for name, rates in peers["peers"].items()}
        best = max(peer_rates, key=peer_rates.get)
        single = summary([r["single_row_us"]["median"] for r in runs])
        single_p99 = summary([r["single_row_us"]["p99"] for r in runs])
        record = {
            "benchmark": "scoring",
            "params": {"trees": trees, "max_depth": 6, "features": 28, "rows": peers["rows"], "threads": threads},
            "figures": {
                "propensity_rows_per_second": ours,
                "propensity_ns_per_tree_per_row": summary([r["ns_per_tree_per_row"] for r in runs]),
                "propensity_single_row_median_us": single,
                "propensity_single_row_p99_us": single_p99,
                **{f"{name}_rows_per_second": rate for name, rate in peer_rates.items()},
                "lleaves_single_row_us": peers.get("lleaves_single_row_us"),
                "plan": runs[0]["plan"],
            },
            "peer": {"name": best, "figure": peer_rates[best]},
            # Throughput: higher is better, so the ratio is Propensity ÷ peer (the bar is ≥ 1.5).
            "ratio": ours["median"] / peer_rates[best],
        }
        if peers.get("lleaves_single_row_us"):
            record["figures"]["single_row_median_ratio_vs_lleaves"] = single["median"] / peers["lleaves_single_row_us"]["median"]
        records.append(record)
        print(f"scoring threads={threads}: propensity {ours['median']:.0f} rows/s "
              f"({record['figures']['propensity_ns_per_tree_per_row']['median']:.2f} ns/tree/row), best peer {best} "
              f"{peer_rates[best]:.0f} rows/s, ratio {record['ratio']:.2f}; single row median {single['median']:.2f} µs, "
              f"p99 {single_p99['median']:.2f} µs (lleaves {peers.get('lleaves_single_row_us', {}).get('median', float('nan')):.2f} µs)",
              file=sys.stderr)
    return records


def bench_scoring_trees(args):
    """Batch throughput at 100 / 500 / 2,000 trees (depth 6), 1 thread: where does it leave the cache?"""
    counts = [50, 100] if args.quick else [100, 500, 2000]
    base = split_synthetic(100_000 if args.quick else 1_000_000)
    figures = {}
    for trees in counts:
        peers = json.loads(run([PY, os.path.join(HERE, "peers", "scoring_peers.py"), "--data",
                                dataset(100_000 if args.quick else 1_000_000) + ".npz", "--trees", str(trees),
                                "--test-rows", "20000", "--train-rows", "50000" if args.quick else "200000",
                                "--repeats", "1", "--threads", "1", "--skip", "lleaves,tl2cgen"]).stdout)
        runs = [propensity_scoring(peers["lightgbm_model"], base + "-test.csv", 1, 3, 1000) for _ in range(args.repeats)]
        figures[str(trees)] = {
            "rows_per_second": summary([r["rows_per_second"] for r in runs]),
            "ns_per_tree_per_row": summary([r["ns_per_tree_per_row"] for r in runs]),
            "xgboost_rows_per_second": peers["peers"]["xgboost"]["1"],
            "model_bytes": os.path.getsize(os.path.join(WORK, os.path.basename(peers["lightgbm_model"]) + ".model")),
        }
        print(f"scoring-trees {trees}: {figures[str(trees)]['ns_per_tree_per_row']['median']:.2f} ns/tree/row, "
              f"{figures[str(trees)]['rows_per_second']['median']:.0f} rows/s", file=sys.stderr)
    return [{"benchmark": "scoring-trees", "params": {"threads": 1, "max_depth": 6}, "figures": figures,
             "peer": None, "ratio": None}]


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, seconds=30):
    import socket
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


# Same placement for the scorer and its floor: servers on CPU 0, clients on CPU 1 (a loopback round trip that
# crosses vCPUs costs several times one that does not, so both must cross).
SERVER_CPU = ["taskset", "-c", "0"] if (os.cpu_count() or 1) > 1 else []
CLIENT_CPU = ["taskset", "-c", "1"] if (os.cpu_count() or 1) > 1 else []


def loadtest(port, model, rate, connections, pipeline, seconds, blocking=False, pin=True):
    return json.loads(run((CLIENT_CPU if pin else []) + [
        BIN, "loadtest", "--port", str(port), "--model", model, "--rate", str(rate), "--connections", str(connections),
        "--pipeline", str(pipeline), "--duration", str(seconds), "--warmup", "1", "--json"]
        + (["--blocking"] if blocking else [])).stdout)


def bench_server(args):
    """Round trip and throughput over loopback: the scorer against a blocking echo floor and redis-server."""
    seconds = 2 if args.quick else 5
    # Models: the 500-tree scoring model and the logistic example.
    peers = json.loads(run([PY, os.path.join(HERE, "peers", "scoring_peers.py"), "--data",
                            dataset(100_000 if args.quick else 1_000_000) + ".npz", "--trees", "100" if args.quick else "500",
                            "--test-rows", "2000", "--train-rows", "50000" if args.quick else "200000", "--repeats", "1",
                            "--threads", "1", "--skip", "lleaves,tl2cgen", "--single-calls", "10"]).stdout)
    models = os.path.join(WORK, "server-models")
    os.makedirs(models, exist_ok=True)
    run([BIN, "import", "--from", "lightgbm", peers["lightgbm_model"], "--out", os.path.join(models, "trees.model")])
    run(["cp", os.path.join(ROOT, "models", "conversion.model"), os.path.join(models, "lr.model")])
    # The floor: frames of the same sizes as a single-row SCORE for 28 features and its answer.
    floor_bin = os.path.join(WORK, "echo_floor")
    run(["gcc", "-O2", os.path.join(HERE, "floor", "echo_floor.c"), "-o", floor_bin])
    floor_port = free_port()
    floor_server = subprocess.Popen(SERVER_CPU + [floor_bin, "server", str(floor_port), "20"])
    processes = [floor_server]
    try:
        wait_for_port(floor_port)
        floor = json.loads(run(CLIENT_CPU + [floor_bin, "client", str(floor_port), "147", str(seconds)]).stdout)
        port = free_port()
        server = subprocess.Popen(SERVER_CPU + [BIN, "serve", "--models", models, "--port", str(port),
                                                "--watch-interval", "0"], stderr=subprocess.DEVNULL)
        processes.append(server)
        wait_for_port(port)
        # Round trip against the floor: the same blocking one-request-at-a-time client, the same placement.
        single = loadtest(port, "trees", 0, 1, 1, seconds, blocking=True)
        single_nio = loadtest(port, "trees", 0, 1, 1, seconds)
        open_loop = loadtest(port, "trees", 2000, 1, 16, seconds)
        # Throughput: the scorer gets every core (unpinned), as does the load generator.
        server.terminate()
        server.wait(timeout=10)
        port = free_port()
        server = subprocess.Popen([BIN, "serve", "--models", models, "--port", str(port), "--watch-interval", "0"],
                                  stderr=subprocess.DEVNULL)
        processes.append(server)
        wait_for_port(port)
        lr = loadtest(port, "lr", 0, 50, 16, seconds, pin=False)
        saturation = loadtest(port, "trees", 0, 4, 8, seconds, pin=False)
        in_process = json.loads(run([BIN, "benchmark-scorer", "--model", os.path.join(models, "trees.model"),
                                     "--data", split_synthetic(100_000 if args.quick else 1_000_000) + "-test.csv",
                                     "--repeats", "1", "--single-rows", "50000"]).stdout)
        redis = None
        if subprocess.call(["sh", "-c", "command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null"]) != 0:
            subprocess.call(["sh", "-c", "apt-get install -y -qq redis-server redis-tools >/dev/null 2>&1 || "
                                         "(apt-get update -qq && apt-get install -y -qq redis-server redis-tools >/dev/null 2>&1)"])
        if subprocess.call(["sh", "-c", "command -v redis-server >/dev/null"]) == 0:
            redis_port = free_port()
            redis_server = subprocess.Popen(["redis-server", "--port", str(redis_port), "--save", "", "--appendonly", "no"],
                                            stdout=subprocess.DEVNULL)
            processes.append(redis_server)
            wait_for_port(redis_port)
            out = run(["redis-benchmark", "-p", str(redis_port), "-t", "get", "-c", "50", "-P", "16",
                       "-n", str(200_000 if args.quick else 2_000_000), "--csv"]).stdout
            redis = float(out.strip().splitlines()[-1].split(",")[1].strip('"'))
    finally:
        for p in processes:
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=10)
    cores = os.cpu_count()
    in_process_rate = cores * 1e6 / in_process["single_row_us"]["median"]
    figures = {
        "floor_round_trip_us": floor,
        "single_row_blocking_client": single,
        "single_row_loadtest_client": single_nio,
        "placement": "round trips: servers on CPU 0, clients on CPU 1 (taskset); throughput: unpinned",
        "single_row_open_loop_2000_per_s": open_loop,
        "logistic_50x16": lr,
        "trees_saturation_4x8": saturation,
        "redis_get_50x16_requests_per_second": redis,
        "in_process_single_row_rate_all_cores": in_process_rate,
        "p50_ratio_vs_floor": single["latency_us"]["p50"] / floor["p50"],
        "p99_ratio_vs_floor": single["latency_us"]["p99"] / floor["p99"],
        "throughput_ratio_vs_redis": lr["achieved_rate"] / redis if redis else None,
        "saturation_ratio_vs_in_process": saturation["achieved_rate"] / in_process_rate,
    }
    print(f"server: floor p50 {floor['p50']:.1f} µs p99 {floor['p99']:.1f}; scorer p50 {single['latency_us']['p50']:.1f} "
          f"p99 {single['latency_us']['p99']:.1f} (ratios {figures['p50_ratio_vs_floor']:.2f}, {figures['p99_ratio_vs_floor']:.2f}); "
          f"logistic 50x16 {lr['achieved_rate']:.0f}/s vs redis {redis or float('nan'):.0f}/s; "
          f"trees saturation {saturation['achieved_rate']:.0f}/s vs in-process {in_process_rate:.0f}/s "
          f"({figures['saturation_ratio_vs_in_process']:.2f})", file=sys.stderr)
    return [{"benchmark": "server", "params": {"seconds": seconds, "trees": 500, "features": 28},
             "figures": figures, "peer": {"name": "echo floor p50", "figure": floor["p50"]},
             "ratio": figures["p50_ratio_vs_floor"]}]


BENCHMARKS = {"lr-train": bench_lr_train, "server": bench_server, "scoring": bench_scoring, "scoring-trees": bench_scoring_trees, "gbdt-train": bench_gbdt_train, "gbdt-accuracy": bench_gbdt_accuracy,
              "gbdt-scaling": bench_gbdt_scaling}


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
