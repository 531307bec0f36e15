"""What every benchmark shares: paths, running commands and peers, data sets, summaries, ratios and records."""
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

PACKAGE = os.path.dirname(os.path.abspath(__file__))
BENCHMARKS_DIR = os.path.dirname(PACKAGE)
ROOT = os.path.dirname(BENCHMARKS_DIR)
PEERS = os.path.join(BENCHMARKS_DIR, "peers")
# Generated data, peer models and scratch files; a cold run starts from an empty folder (the smoke run uses its own).
WORK = os.environ.get("PROPENSITY_BENCH_WORK", os.path.join(BENCHMARKS_DIR, "work"))
HISTORY = os.path.join(BENCHMARKS_DIR, "results", "history.jsonl")
PY = sys.executable
BIN = os.environ.get("PROPENSITY_BIN", os.path.join(ROOT, ".build", "release", "propensity"))
# In-process measurements (`propensity-bench scorer`), built beside the CLI but not shipped in it.
BENCH_BIN = os.environ.get("PROPENSITY_BENCH_BIN", os.path.join(os.path.dirname(BIN), "propensity-bench"))
SHARED_DATASETS = os.environ.get("PROPENSITY_DATASETS", os.path.join(ROOT, "..", "shared", "datasets"))

# Same placement for the scorer and its floor: servers on CPU 0, clients on CPU 1 (a loopback round trip that
# crosses vCPUs costs several times one that does not, so both must cross).
SERVER_CPU = ["taskset", "-c", "0"] if (os.cpu_count() or 1) > 1 else []
CLIENT_CPU = ["taskset", "-c", "1"] if (os.cpu_count() or 1) > 1 else []


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
    """The short commit, with `-dirty` when the code differs from it. The results folder does not count: every
    recorded run changes the history file, which would mark the next run dirty."""
    try:
        rev = subprocess.check_output(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], text=True).strip()
        dirty = subprocess.call(
            ["git", "-C", ROOT, "diff", "--quiet", "HEAD", "--", ".", ":(exclude)benchmarks/results"]) != 0
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
    """Runs a command to completion; a failure raises with the command's own stderr attached."""
    try:
        return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)
    except subprocess.CalledProcessError as e:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited with {e.returncode}:\n{e.stderr.strip()[-2000:]}") from None


def peer(script, args):
    """Runs a peer script from peers/ in the virtualenv and returns the JSON it wrote. Results travel in a file, not on
    stdout: peer libraries print there (XGBoost's and LightGBM's warnings on a first fit), and a log line in front of
    the JSON would break it."""
    os.makedirs(WORK, exist_ok=True)
    fd, path = tempfile.mkstemp(prefix="peer-", suffix=".json", dir=WORK)
    os.close(fd)
    try:
        run([PY, os.path.join(PEERS, script), *args, "--out", path], env={**os.environ, "PROPENSITY_BENCH_WORK": WORK})
        with open(path) as f:
            return json.load(f)
    finally:
        os.unlink(path)



def dataset(rows, features=28, seed=1):
    os.makedirs(WORK, exist_ok=True)
    base = os.path.join(WORK, f"synthetic-{rows}-{features}-s{seed}")
    if not (os.path.exists(base + ".csv") and os.path.exists(base + ".npz")):
        print(f"generating {base}", file=sys.stderr)
        run([PY, os.path.join(BENCHMARKS_DIR, "make_synthetic.py"), "--rows", str(rows), "--features", str(features),
             "--seed", str(seed), "--out", base])
    return base



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
    return peer("gbdt_peers.py", ["--library", library,
                           "--train", base + "-train.npz", "--test", base + "-test.npz", "--threads", str(threads),
                           "--trees", "100", "--max-depth", "6", "--num-leaves", "63", "--max-bin", "255"])



def propensity_scoring(model_txt, test_csv, threads, repeats, single_rows=100_000, load_repeats=1, tree_walk=None,
                       call_sizes=None):
    """`propensity-bench scorer` on a LightGBM model imported; `tree_walk` None: the fastest walk the CPU runs."""
    model = os.path.join(WORK, os.path.basename(model_txt) + ".model")
    run([BIN, "import", "--from", "lightgbm", model_txt, "--out", model])
    return json.loads(run([BENCH_BIN, "scorer", "--model", model, "--data", test_csv, "--threads", str(threads),
                           "--repeats", str(repeats), "--single-rows", str(single_rows),
                           "--load-repeats", str(load_repeats)]
                          + (["--tree-walk", tree_walk] if tree_walk else [])
                          + (["--call-sizes", call_sizes] if call_sizes else [])).stdout)



class keep_awake:
    """Pinned SCHED_IDLE busy loops on every CPU, so that no vCPU halts while idle: on these VMs waking a halted vCPU
    costs hundreds of µs (the open-loop p50 of a 1 µs request at 1,000/s is ~450 µs halted, ~120 µs awake), and a
    core coming out of a deep idle state has lost its private caches (a one-row 500-tree EXPLAIN costs ~1,100 µs of
    CPU at 500/s halted, ~630 µs awake). A SCHED_IDLE task runs only when nothing else is runnable and is preempted
    at once when something wakes (nice-19 spinners, used before, still held CFS slices of up to milliseconds and
    delayed the server behind them), so this measures the server as on a host whose cores run with idle=poll."""

    def __enter__(self):
        self.spinners = [subprocess.Popen(["taskset", "-c", str(cpu), "chrt", "--idle", "0", "sh", "-c",
                                           "while :; do :; done"])
                         for cpu in range(os.cpu_count() or 1)]
        return self

    def __exit__(self, *exc):
        for p in self.spinners:
            p.kill()
            p.wait()
        return False


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



def real_dataset(name):
    """Train/test CSV pairs of a shared real data set (see datasets_real.py)."""
    from . import datasets_real
    return datasets_real.prepare(name, SHARED_DATASETS, WORK)
