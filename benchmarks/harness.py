#!/usr/bin/env python3
"""Runs named benchmarks, prints a table and appends one record per benchmark (and configuration) to
benchmarks/results/history.jsonl.

Each record: date, commit, machine (host, OS, CPU model, cores, memory), benchmark name, parameters, thread count,
figures (median / min / max / runs) for Propensity and for the peers measured in the same run, and every ratio
Propensity ÷ peer with its noise band and which direction is better; `headline` names the ratio repeated as `ratio`.
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
import urllib.request

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


def figure(x):
    """A summary as recorded (median/min/max/runs), from a summary or a single measured number."""
    if isinstance(x, dict):
        return x
    return {"median": x, "min": x, "max": x, "runs": 1}


def ratio(ours, peer, better, peer_name):
    """Propensity's figure over the peer's from the same run. The band spans the ratios the recorded extremes allow
    (ours min / peer max … ours max / peer min): what `--compare` treats as noise. `better`: "lower" or "higher"."""
    o, p = figure(ours), figure(peer)
    return {"value": o["median"] / p["median"], "band": [o["min"] / p["max"], o["max"] / p["min"]],
            "better": better, "peer": peer_name}


def record(benchmark, params, figures, ratios, headline, threads=None):
    """One history record: the figures, every ratio to a peer, and the headline ratio repeated at the top."""
    head = ratios[headline] if headline else None
    return {"benchmark": benchmark, "params": params, "threads": threads if threads is not None else params.get("threads"),
            "figures": figures, "ratios": ratios, "headline": headline,
            "ratio": head["value"] if head else None, "peer": {"name": head["peer"]} if head else None}


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


def peer_gbdt(library, base, threads):
    """One LightGBM or XGBoost fit (its own process) with the parameters of the training benchmarks."""
    return json.loads(run([PY, os.path.join(HERE, "peers", "gbdt_peers.py"), "--library", library,
                           "--train", base + "-train.npz", "--test", base + "-test.npz", "--threads", str(threads),
                           "--trees", "100", "--max-depth", "6", "--num-leaves", "63", "--max-bin", "255"]).stdout)


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
        peers = {library: [peer_gbdt(library, base, threads) for _ in range(args.repeats)]
                 for library in ["lightgbm", "xgboost"]}
        seconds = summary([o[0] for o in ours])
        fastest = min(peers, key=lambda k: statistics.median(r["seconds"] for r in peers[k]))
        peer_seconds = summary([r["seconds"] for r in peers[fastest]])
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
                **{f"{k}_seconds": summary([r["seconds"] for r in v]) for k, v in peers.items()},
                **{f"{k}_peak_rss_kb": summary([r["peak_rss_kb"] for r in v]) for k, v in peers.items()},
                **{f"{k}_auc": v[0]["auc"] for k, v in peers.items()},
                **{f"{k}_version": v[0]["version"] for k, v in peers.items()},
            },
            {
                "fit_time_vs_fastest_peer": ratio(seconds, peer_seconds, "lower", f"{fastest} {peers[fastest][0]['version']}"),
                "peak_memory_vs_lightgbm": ratio(memory, lgb_memory, "lower", "lightgbm"),
                "auc_vs_lightgbm": ratio(auc, peers["lightgbm"][0]["auc"], "higher", "lightgbm"),
            },
            "fit_time_vs_fastest_peer")
        records.append(result)
        print(f"gbdt-train threads={threads}: propensity {seconds['median']:.2f} s (AUC {ours[0][2]:.4f}, "
              f"{memory['median'] / 1024:.0f} MB), lightgbm {statistics.median(r['seconds'] for r in peers['lightgbm']):.2f} s "
              f"({lgb_memory['median'] / 1024:.0f} MB), xgboost {statistics.median(r['seconds'] for r in peers['xgboost']):.2f} s; "
              f"time ratio {result['ratio']:.2f}, memory ratio {result['ratios']['peak_memory_vs_lightgbm']['value']:.2f}",
              file=sys.stderr)
    return records


def bench_gbdt_scaling(args):
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


def bench_gbdt_accuracy(args):
    """Held-out AUC on the real datasets (test = every 5th row) vs LightGBM and XGBoost, matched parameters."""
    sys.path.insert(0, HERE)
    import prepare_datasets
    records = []
    datasets = [("online_shoppers", "Revenue", "True")] if args.quick else [
        ("online_shoppers", "Revenue", "True"), ("bank_marketing", "y", "yes"), ("flights", "late", "1")]
    for name, label, positive in datasets:
        train, test = prepare_datasets.prepare(name)
        ours = [propensity_gbdt(train, test, label, 2, ["--trees", "100", "--num-leaves", "31", "--max-depth", "8"])
                for _ in range(args.repeats)]
        runs = [json.loads(run([PY, os.path.join(HERE, "peers", "gbdt_accuracy.py"), "--train", train, "--test", test,
                                "--label", label, "--positive", positive]).stdout) for _ in range(args.repeats)]
        auc = ours[0][2]
        seconds = summary([o[0] for o in ours])
        peer_seconds = {k: summary([r[k]["seconds"] for r in runs]) for k in ("lightgbm", "xgboost")}
        lgb_auc, xgb_auc = runs[0]["lightgbm"]["auc"], runs[0]["xgboost"]["auc"]
        records.append(record(
            "gbdt-accuracy", {"dataset": name, "trees": 100, "num_leaves": 31, "max_depth": 8},
            {"propensity_auc": auc, "lightgbm_auc": lgb_auc, "xgboost_auc": xgb_auc,
             "auc_difference_vs_lightgbm": auc - lgb_auc, "propensity_fit_seconds": seconds,
             "propensity_peak_rss_kb": summary([o[1] for o in ours]),
             **{f"{k}_fit_seconds": v for k, v in peer_seconds.items()}},
            {"auc_vs_lightgbm": ratio(auc, lgb_auc, "higher", "lightgbm"),
             "fit_time_vs_lightgbm": ratio(seconds, peer_seconds["lightgbm"], "lower", "lightgbm")},
            "auc_vs_lightgbm", threads=2))
        print(f"gbdt-accuracy {name}: AUC propensity {auc:.4f}, lightgbm {lgb_auc:.4f}, xgboost {xgb_auc:.4f}; "
              f"fit {seconds['median']:.2f} s vs lightgbm {peer_seconds['lightgbm']['median']:.2f} s, "
              f"xgboost {peer_seconds['xgboost']['median']:.2f} s", file=sys.stderr)
    return records


def propensity_scoring(model_txt, test_csv, threads, repeats, single_rows=100_000, load_repeats=1):
    model = os.path.join(WORK, os.path.basename(model_txt) + ".model")
    run([BIN, "import", "--from", "lightgbm", model_txt, "--out", model])
    return json.loads(run([BIN, "benchmark-scorer", "--model", model, "--data", test_csv, "--threads", str(threads),
                           "--repeats", str(repeats), "--single-rows", str(single_rows),
                           "--load-repeats", str(load_repeats)]).stdout)


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
        best = max(peer_rates, key=lambda k: peer_rates[k]["median"])
        single = summary([r["single_row_us"]["median"] for r in runs])
        single_p99 = summary([r["single_row_us"]["p99"] for r in runs])
        ratios = {"throughput_vs_best_peer": ratio(ours, peer_rates[best], "higher", best)}
        if peers.get("lleaves_single_row_us"):
            ratios["single_row_latency_vs_lleaves"] = ratio(single, peers["lleaves_single_row_us"], "lower", "lleaves")
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
            },
            ratios, "throughput_vs_best_peer")
        records.append(result)
        print(f"scoring threads={threads}: propensity {ours['median']:.0f} rows/s "
              f"({result['figures']['propensity_ns_per_tree_per_row']['median']:.2f} ns/tree/row), best peer {best} "
              f"{peer_rates[best]['median']:.0f} rows/s, ratio {result['ratio']:.2f}; single row median {single['median']:.2f} µs, "
              f"p99 {single_p99['median']:.2f} µs (lleaves {peers.get('lleaves_single_row_us', {}).get('median', float('nan')):.2f} µs)",
              file=sys.stderr)
    return records


def bench_scoring_trees(args):
    """Batch throughput at 100 / 500 / 2,000 trees (depth 6), 1 thread: where does it leave the cache?"""
    counts = [50, 100] if args.quick else [100, 500, 2000]
    base = split_synthetic(100_000 if args.quick else 1_000_000)
    figures, ratios = {}, {}
    for trees in counts:
        peers = json.loads(run([PY, os.path.join(HERE, "peers", "scoring_peers.py"), "--data",
                                dataset(100_000 if args.quick else 1_000_000) + ".npz", "--trees", str(trees),
                                "--test-rows", "20000", "--train-rows", "50000" if args.quick else "200000",
                                "--repeats", "1", "--threads", "1", "--skip", "lleaves,tl2cgen"]).stdout)
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


def loadtest(port, model, rate, connections, pipeline, seconds, blocking=False, pin=True, rounds=False):
    return json.loads(run((CLIENT_CPU if pin else []) + [
        BIN, "loadtest", "--port", str(port), "--model", model, "--rate", str(rate), "--connections", str(connections),
        "--pipeline", str(pipeline), "--duration", str(seconds), "--warmup", "1", "--json"]
        + (["--blocking"] if blocking else []) + (["--rounds"] if rounds else [])).stdout)


def bench_server(args):
    """Round trip and throughput over loopback: the scorer (served as in production, with its metrics endpoint)
    against a blocking echo floor and redis-server, each configuration repeated `--repeats` times."""
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
    redis_bin = ensure_redis()

    def serve(pin):
        port, metrics_port = free_port(), free_port()
        server = subprocess.Popen((SERVER_CPU if pin else []) + [
            BIN, "serve", "--models", models, "--port", str(port), "--metrics-port", str(metrics_port),
            "--watch-interval", "0"], stderr=subprocess.DEVNULL)
        processes.append(server)
        wait_for_port(port)
        return server, port, metrics_port

    def scorer_requests(metrics_port):
        text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics").read().decode()
        return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith("propensity_requests_total"))

    def redis_requests(redis_port):
        info = run(["redis-cli", "-p", str(redis_port), "info", "stats"]).stdout
        return float(next(l.split(":")[1] for l in info.splitlines() if l.startswith("total_commands_processed")))

    def server_cpu_us(pid, count_requests, drive):
        """CPU (user + system) the server process spends per request answered while `drive()` runs: the server's
        own cost, whatever the load generator's, counted by the server itself."""
        before_cpu, before_requests = process_cpu_seconds(pid), count_requests()
        result = drive()
        spent, answered = process_cpu_seconds(pid) - before_cpu, count_requests() - before_requests
        return result, 1e6 * spent / max(answered, 1)

    runs = {k: [] for k in ("floor", "single", "single_nio", "open_loop", "lr", "saturation", "shallow", "redis",
                            "lr_cpu", "redis_cpu")}
    processes = []
    try:
        floor_port = free_port()
        processes.append(subprocess.Popen(SERVER_CPU + [floor_bin, "server", str(floor_port), "20"]))
        wait_for_port(floor_port)
        # Round trips: the floor and the scorer alternate, with the same placement (servers on CPU 0, clients on 1).
        server, port, _ = serve(pin=True)
        for _ in range(args.repeats):
            runs["floor"].append(json.loads(run(CLIENT_CPU + [floor_bin, "client", str(floor_port), "147", str(seconds)]).stdout))
            runs["single"].append(loadtest(port, "trees", 0, 1, 1, seconds, blocking=True))
            runs["single_nio"].append(loadtest(port, "trees", 0, 1, 1, seconds))
            runs["open_loop"].append(loadtest(port, "trees", 2000, 1, 16, seconds))
        server.terminate()
        server.wait(timeout=10)
        # Throughput: the scorer gets every core (unpinned), as does the load generator; redis alternates with it.
        server, port, metrics_port = serve(pin=False)
        redis_port = free_port()
        redis_server = subprocess.Popen([redis_bin, "--port", str(redis_port), "--save", "", "--appendonly", "no"],
                                        stdout=subprocess.DEVNULL)
        processes.append(redis_server)
        wait_for_port(redis_port)
        for _ in range(args.repeats):
            # In rounds of 16 per connection, as redis-benchmark -P 16 sends them.
            result, cpu = server_cpu_us(server.pid, lambda: scorer_requests(metrics_port),
                                        lambda: loadtest(port, "lr", 0, 50, 16, seconds, pin=False, rounds=True))
            runs["lr"].append(result)
            runs["lr_cpu"].append(cpu)
            out, cpu = server_cpu_us(redis_server.pid, lambda: redis_requests(redis_port), lambda: run([
                "redis-benchmark", "-p", str(redis_port), "-t", "get", "-c", "50", "-P", "16",
                "-n", str(200_000 if args.quick else 2_000_000), "--csv"]).stdout)
            runs["redis"].append(float(out.strip().splitlines()[-1].split(",")[1].strip('"')))
            runs["redis_cpu"].append(cpu)
            # Saturation: enough requests in flight to keep both event loops busy (a read then carries enough
            # single-row requests to be scored as one batch); the shallower 4x8 pipeline is recorded beside it.
            runs["saturation"].append(loadtest(port, "trees", 0, 4, 32, seconds, pin=False))
            runs["shallow"].append(loadtest(port, "trees", 0, 4, 8, seconds, pin=False))
        in_process = json.loads(run([BIN, "benchmark-scorer", "--model", os.path.join(models, "trees.model"),
                                     "--data", split_synthetic(100_000 if args.quick else 1_000_000) + "-test.csv",
                                     "--repeats", "1", "--single-rows", "50000", "--call-sizes", "1"]).stdout)
    finally:
        for p in processes:
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=10)
    cores = os.cpu_count()
    in_process_rate = cores * 1e6 / in_process["single_row_us"]["median"]
    floor_p50 = summary([r["p50"] for r in runs["floor"]])
    floor_p99 = summary([r["p99"] for r in runs["floor"]])
    p50 = summary([r["latency_us"]["p50"] for r in runs["single"]])
    p99 = summary([r["latency_us"]["p99"] for r in runs["single"]])
    lr = summary([r["achieved_rate"] for r in runs["lr"]])
    redis = summary(runs["redis"])
    saturation = summary([r["achieved_rate"] for r in runs["saturation"]])
    shallow = summary([r["achieved_rate"] for r in runs["shallow"]])
    median_run = lambda key: runs[key][len(runs[key]) // 2]
    figures = {
        "placement": "round trips: servers on CPU 0, clients on CPU 1 (taskset); throughput: unpinned",
        "floor_p50_us": floor_p50, "floor_p99_us": floor_p99,
        "single_row_p50_us": p50, "single_row_p99_us": p99,
        "single_row_p999_us": summary([r["latency_us"]["p99.9"] for r in runs["single"]]),
        # Percentile spectra (HdrHistogram style) of one run each, for the report's latency chart.
        "floor_percentiles_us": median_run("floor")["percentiles"],
        "single_row_percentiles_us": median_run("single")["percentiles"],
        "single_row_loadtest_client_p50_us": summary([r["latency_us"]["p50"] for r in runs["single_nio"]]),
        "single_row_open_loop_2000_per_s": median_run("open_loop"),
        "logistic_50x16_requests_per_second": lr,
        "redis_get_50x16_requests_per_second": redis,
        # Each server's own CPU per request in those runs (the load generators differ; this does not depend on them).
        "logistic_50x16_server_cpu_us_per_request": summary(runs["lr_cpu"]),
        "redis_get_50x16_server_cpu_us_per_request": summary(runs["redis_cpu"]),
        "trees_saturation_4x32_requests_per_second": saturation,
        "trees_4x8_requests_per_second": shallow,
        "in_process_single_row_rate_all_cores": in_process_rate,
    }
    ratios = {
        "p50_vs_floor": ratio(p50, floor_p50, "lower", "echo floor"),
        "p99_vs_floor": ratio(p99, floor_p99, "lower", "echo floor"),
        "logistic_throughput_vs_redis": ratio(lr, redis, "higher", "redis-server GET"),
        "logistic_server_cpu_vs_redis": ratio(summary(runs["lr_cpu"]), summary(runs["redis_cpu"]), "lower",
                                              "redis-server GET, CPU per request"),
        "saturation_vs_in_process": ratio(saturation, in_process_rate, "higher", "in-process scoring, all cores"),
        "shallow_pipeline_vs_in_process": ratio(shallow, in_process_rate, "higher", "in-process scoring, all cores"),
    }
    print(f"server: floor p50 {floor_p50['median']:.1f} µs p99 {floor_p99['median']:.1f}; scorer p50 {p50['median']:.1f} "
          f"p99 {p99['median']:.1f} (ratios {ratios['p50_vs_floor']['value']:.2f}, {ratios['p99_vs_floor']['value']:.2f}); "
          f"logistic 50x16 {lr['median']:.0f}/s vs redis {redis['median']:.0f}/s "
          f"({ratios['logistic_throughput_vs_redis']['value']:.2f}; server CPU per request "
          f"{summary(runs['lr_cpu'])['median']:.2f} vs {summary(runs['redis_cpu'])['median']:.2f} µs); trees 4x32 {saturation['median']:.0f}/s, "
          f"4x8 {shallow['median']:.0f}/s vs in-process {in_process_rate:.0f}/s "
          f"({ratios['saturation_vs_in_process']['value']:.2f}, {ratios['shallow_pipeline_vs_in_process']['value']:.2f})",
          file=sys.stderr)
    return [record("server", {"seconds": seconds, "trees": 500 if not args.quick else 100, "features": 28},
                   figures, ratios, "p50_vs_floor", threads=os.cpu_count())]


def process_cpu_seconds(pid):
    """User + system CPU of a process so far, from /proc (clock ticks)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ensure_redis():
    """redis-server and redis-benchmark from Debian's packages, installed when missing."""
    if subprocess.call(["sh", "-c", "command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null && command -v redis-cli >/dev/null"]) != 0:
        subprocess.call(["sh", "-c", "$(command -v sudo) apt-get install -y -qq redis-server redis-tools >/dev/null 2>&1 || "
                                     "($(command -v sudo) apt-get update -qq && $(command -v sudo) apt-get install -y -qq "
                                     "redis-server redis-tools >/dev/null 2>&1)"])
    path = subprocess.run(["sh", "-c", "command -v redis-server"], capture_output=True, text=True).stdout.strip()
    if not path:
        raise RuntimeError("redis-server is needed for the server benchmark (apt-get install redis-server redis-tools)")
    return path


def bench_model_load(args):
    """Model load time (read, verify, compile the scorer — what the server does on load) and file size, against
    the peers' own formats for the same 500-tree model: LightGBM text, XGBoost JSON and UBJSON, TL2cgen's library."""
    trees = 100 if args.quick else 500
    peers = json.loads(run([PY, os.path.join(HERE, "peers", "scoring_peers.py"), "--data",
                            dataset(100_000 if args.quick else 1_000_000) + ".npz", "--trees", str(trees),
                            "--test-rows", "2000", "--train-rows", "50000" if args.quick else "200000", "--repeats", "1",
                            "--threads", "1", "--skip", "lleaves" if not args.quick else "lleaves,tl2cgen",
                            "--single-calls", "10"]).stdout)
    repeats = max(5, args.repeats)
    ours = propensity_scoring(peers["lightgbm_model"], split_synthetic(100_000 if args.quick else 1_000_000) + "-test.csv",
                              1, 1, 10, load_repeats=repeats)
    lib = os.path.join(WORK, f"scoring-tl2cgen-{trees}.so")
    theirs = json.loads(run([PY, os.path.join(HERE, "peers", "load_peers.py"), "--lightgbm", peers["lightgbm_model"],
                             "--xgboost", peers["xgboost_model"], "--repeats", str(repeats)]
                            + (["--tl2cgen", lib] if os.path.exists(lib) else [])).stdout)
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


BENCHMARKS = {"lr-train": bench_lr_train, "gbdt-train": bench_gbdt_train, "gbdt-accuracy": bench_gbdt_accuracy,
              "gbdt-scaling": bench_gbdt_scaling, "scoring": bench_scoring, "scoring-trees": bench_scoring_trees,
              "model-load": bench_model_load, "server": bench_server}


def table(records):
    """One line per record: its headline ratio and band, then its other ratios."""
    lines = [f"{'benchmark':<14} {'params':<44} {'headline ratio':<28} {'value':>7}  band"]
    for r in records:
        params = ", ".join(f"{k}={v}" for k, v in r.get("params", {}).items() if k not in ("features",))[:44]
        for i, (name, q) in enumerate((r.get("ratios") or {}).items()):
            lines.append(f"{r['benchmark'] if i == 0 else '':<14} {params if i == 0 else '':<44} {name:<28} "
                         f"{q['value']:7.3f}  [{q['band'][0]:.3f}, {q['band'][1]:.3f}] ({q['better']} is better, vs {q['peer']})")
        if not r.get("ratios"):
            lines.append(f"{r['benchmark']:<14} {params:<44} (no peer)")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated: " + ", ".join(BENCHMARKS))
    p.add_argument("--quick", action="store_true", help="small inputs, one repeat (smoke test; not recorded)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--no-record", action="store_true", help="do not append to the history file")
    p.add_argument("--compare", metavar="REF", help="compare the latest records with REF (baseline, previous, a commit "
                   "or a date prefix) and exit non-zero on a regression; runs no benchmark")
    p.add_argument("--set-baseline", action="store_true", help="store the latest record of each benchmark as the baseline")
    args = p.parse_args()
    import compare
    if args.compare:
        sys.exit(compare.compare(args.compare))
    if args.set_baseline:
        compare.set_baseline()
        return
    if args.quick:
        args.repeats = min(args.repeats, 1)
    names = [n for n in args.only.split(",") if n]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(unknown)} (known: {', '.join(BENCHMARKS)})")
    stamp = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
             "commit": commit(), "machine": machine(), "quick": args.quick}
    done = []
    for name in names:
        for result in BENCHMARKS[name](args):
            line = json.dumps({**stamp, **result}, sort_keys=True)
            done.append(result)
            if not args.no_record and not args.quick:
                os.makedirs(os.path.dirname(HISTORY), exist_ok=True)
                with open(HISTORY, "a") as f:
                    f.write(line + "\n")
    print(table(done))
    if args.quick or args.no_record:
        print("(not recorded)")
    else:
        print(f"recorded in {os.path.relpath(HISTORY)}; compare with: benchmarks/run --compare previous")


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    main()
