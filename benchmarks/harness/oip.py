import json
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import urllib.request

from .common import (
    BENCHMARKS_DIR, BIN, CLIENT_CPU, SERVER_CPU, WORK, dataset, free_port, keep_awake, peer, ratio, record, run,
    summary, wait_for_port,
)
from .server import loadtest

MLSERVER_VENV = os.path.join(BENCHMARKS_DIR, ".venv-mlserver")
MLSERVER_PACKAGES = ["mlserver==1.7.1", "mlserver-lightgbm==1.7.1"]

# wrk's Lua hooks: POST the body file; with PACE_MS set, each connection waits that long between its requests
# (a fixed rate of connections × 1000 / PACE_MS, well below capacity); done() prints the figures as JSON.
WRK_SCRIPT = r"""
local body_file, pace = os.getenv("BODY_FILE"), tonumber(os.getenv("PACE_MS") or "0")
wrk.method = "POST"
wrk.body = io.open(body_file):read("a")
wrk.headers["Content-Type"] = "application/json"
function delay() return pace end
function done(summary, latency, requests)
  io.write(string.format('{"requests": %d, "seconds": %f, "errors": %d, "non_2xx": %d, "p50_us": %f, "p99_us": %f}\n',
    summary.requests, summary.duration / 1e6, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, summary.errors.status, latency:percentile(50), latency:percentile(99)))
end
"""


def ensure_tools():
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if shutil.which("wrk") is None:
        run(sudo + ["apt-get", "install", "-y", "-q", "wrk"])
    if shutil.which("h2load") is None:
        run(sudo + ["apt-get", "install", "-y", "-q", "nghttp2-client"])
    if not os.path.exists(os.path.join(MLSERVER_VENV, "bin", "mlserver")):
        run([sys.executable, "-m", "venv", MLSERVER_VENV])
        run([os.path.join(MLSERVER_VENV, "bin", "pip"), "install", "-q", *MLSERVER_PACKAGES])


def wrk(url, body, connections, seconds, pace_ms=0):
    script = os.path.join(WORK, "oip-wrk.lua")
    with open(script, "w") as f:
        f.write(WRK_SCRIPT)
    out = run(CLIENT_CPU + ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", script, url],
              env={**os.environ, "BODY_FILE": body, "PACE_MS": str(pace_ms)}).stdout
    result = json.loads(out.strip().splitlines()[-1])
    if result["errors"] or result["non_2xx"]:
        raise RuntimeError(f"wrk against {url}: {result}")
    result["rps"] = result["requests"] / result["seconds"]
    return result


def grpc_body(json_body):
    """The JSON infer body as a gRPC request message, length-prefixed (gRPC over HTTP/2): a ModelInferRequest with
    each input's elements in typed contents, as `loadtest --protocol oip-grpc` sends it. Protobuf written by hand
    (field numbers of KServe's grpc_predict_v2.proto) so that no protobuf package is needed here."""
    def varint(n):
        out = b""
        while True:
            byte, n = n & 0x7F, n >> 7
            out += bytes([byte | (0x80 if n else 0)])
            if not n:
                return out

    def field(number, payload):  # length-delimited
        return varint(number << 3 | 2) + varint(len(payload)) + payload

    with open(json_body) as f:
        request = json.load(f)
    typed = {"FP32": (6, "<f"), "FP64": (7, "<d")}
    message = field(1, request.get("model_name", "trees").encode())
    for tensor in request["inputs"]:
        number, fmt = typed[tensor["datatype"]]
        shape = b"".join(varint(d) for d in tensor["shape"])
        contents = field(number, b"".join(struct.pack(fmt, x) for x in tensor["data"]))
        message += field(5, field(1, tensor["name"].encode()) + field(2, tensor["datatype"].encode())
                         + field(3, shape) + field(5, contents))
    path = os.path.join(WORK, "oip-grpc-body.bin")
    with open(path, "wb") as f:
        f.write(struct.pack(">BI", 0, len(message)) + message)
    return path


def h2load_grpc(port, body, connections, seconds):
    """ModelInfer calls/s from h2load (nghttp2, C, one thread on CPU 1): `connections` connections with one call in
    flight each. h2load does not read gRPC trailers, so the body is first sent once with curl and its trailers must
    say grpc-status 0; every call is the same bytes."""
    url = f"http://127.0.0.1:{port}/inference.GRPCInferenceService/ModelInfer"
    headers = ["-H", "content-type: application/grpc", "-H", "te: trailers"]
    check = run(["curl", "-s", "--http2-prior-knowledge", *headers, "--data-binary", "@" + body, "-D", "-", "-o",
                 os.devnull, url]).stdout
    if "grpc-status: 0" not in check:
        raise RuntimeError(f"ModelInfer through curl on port {port} was not answered with grpc-status 0:\n{check}")
    out = run(CLIENT_CPU + ["h2load", "-t", "1", "-c", str(connections), "-m", "1", "-D", str(seconds),
                            "--warm-up-time", "1", *headers, "-d", body, url]).stdout
    finished = re.search(r"finished in ([0-9.]+)(m?s), ([0-9.]+) req/s", out)
    counts = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored", out)
    if not finished or not counts or int(counts.group(4)) or int(counts.group(5)) or int(counts.group(3)) == 0:
        raise RuntimeError(f"h2load against port {port}:\n{out[-2000:]}")
    return float(finished.group(3))


def h2load_grpc_paced(port, body, rate, connections, seconds):
    """ModelInfer latency at a fixed rate from h2load (`--rps` per connection, so an open loop with up to 16 calls in
    flight per connection): p50/p99 of the per-call times h2load logs (request sent to response ended), the first
    second dropped as warm-up. Same C client for both servers, so neither column carries a heavy client's latency."""
    url = f"http://127.0.0.1:{port}/inference.GRPCInferenceService/ModelInfer"
    log = os.path.join(WORK, f"oip-h2load-{port}.log")
    out = run(CLIENT_CPU + ["h2load", "-t", "1", "-c", str(connections), "-m", "16", "--rps",
                            str(rate / connections), "-D", str(seconds + 1), "-H", "content-type: application/grpc",
                            "-H", "te: trailers", "-d", body, "--log-file", log, url]).stdout
    with open(log) as f:
        rows = [line.split("\t") for line in f if line.strip()]
    if not rows or any(int(status) != 200 for _, status, _ in rows):
        raise RuntimeError(f"h2load at {rate}/s against port {port}: {len(rows)} calls logged, failures among them\n"
                           f"{out[-2000:]}")
    start = min(int(began) for began, _, _ in rows)
    times = sorted(int(took) for began, _, took in rows if int(began) >= start + 1_000_000)
    if len(times) < rate * seconds * 0.9:
        raise RuntimeError(f"h2load at {rate}/s against port {port}: only {len(times)} calls in {seconds} s")
    return {"latency_us": {"p50": times[len(times) // 2], "p99": times[min(len(times) - 1, int(len(times) * 0.99))]},
            "calls": len(times)}


def wait_ready(url, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url, timeout=1).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} never became ready")


def run_benchmark(args):
    """The Open Inference Protocol over HTTP against MLServer (mlserver-lightgbm) serving the same 500-tree depth-6
    LightGBM model, both on CPU 0 with one worker, driven by the same load generator (wrk, CPU 1) with the same
    one-row JSON request: throughput at 16 connections, and p99 at a fixed pace of 200 requests/s (2 connections,
    10 ms apart). Propensity's binary protocol at the same concurrency and rate (propensity loadtest) shows what
    the standard costs. gRPC likewise, both servers driven by h2load (nghttp2's C load generator) with the same request (the
    JSON body as ModelInfer with typed contents): 16 connections closed loop, and 200/s open loop over 2 connections
    (`--rps`). `propensity loadtest --protocol oip-grpc` (grpc-swift's client) is not the driver: it saturated its
    own CPU at ~7,500 calls/s and its own ~300 µs per call sat in both latency columns. Bars (issue 16): throughput ≥ 10× MLServer's, p99 ≤ 0.2× MLServer's, over HTTP and over gRPC."""
    ensure_tools()
    seconds = 3 if args.quick else 10
    trees = 100 if args.quick else 500
    size = 100_000 if args.quick else 1_000_000
    made = peer("oip_body.py", ["--data", dataset(size) + ".npz", "--trees", str(trees),
                                "--train-rows", "50000" if args.quick else "200000"])
    models = os.path.join(WORK, "oip-models")
    os.makedirs(models, exist_ok=True)
    run([BIN, "import", "--from", "lightgbm", made["lightgbm_model"], "--out", os.path.join(models, "trees.model")])
    mls = os.path.join(WORK, "oip-mlserver")
    os.makedirs(os.path.join(mls, "trees"), exist_ok=True)
    shutil.copy(made["lightgbm_model"], os.path.join(mls, "trees", "model.txt"))
    binary_port, http_port, grpc_port, mls_port, mls_grpc_port = (free_port() for _ in range(5))
    with open(os.path.join(mls, "trees", "model-settings.json"), "w") as f:
        json.dump({"name": "trees", "implementation": "mlserver_lightgbm.LightGBMModel",
                   "parameters": {"uri": "./model.txt"}}, f)
    with open(os.path.join(mls, "settings.json"), "w") as f:
        json.dump({"http_port": mls_port, "grpc_port": mls_grpc_port, "metrics_port": free_port(),
                   "parallel_workers": 0}, f)
    ours = subprocess.Popen(SERVER_CPU + [BIN, "serve", "--models", models, "--port", str(binary_port), "--http-port",
                                          str(http_port), "--grpc-port", str(grpc_port), "--threads", "1",
                                          "--watch-interval", "0"],
                            stderr=subprocess.DEVNULL)
    theirs = subprocess.Popen(SERVER_CPU + [os.path.join(MLSERVER_VENV, "bin", "mlserver"), "start", mls],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    names = ("http", "mlserver", "binary", "grpc", "mlserver_grpc")
    runs = {f"{name}_rps": [] for name in names}
    runs |= {f"{name}_{p}{awake}": [] for name in names for p in ("p50", "p99") for awake in ("", "_awake")}
    try:
        wait_for_port(binary_port)
        wait_ready(f"http://127.0.0.1:{http_port}/v2/health/ready")
        wait_ready(f"http://127.0.0.1:{mls_port}/v2/health/ready")
        url = "http://127.0.0.1:{}/v2/models/trees/infer"
        body = made["body"]
        wrk(url.format(http_port), body, 4, 1)  # warm both
        wrk(url.format(mls_port), body, 4, 1)
        wait_for_port(grpc_port)
        wait_for_port(mls_grpc_port)
        grpc_ports = {"grpc": grpc_port, "mlserver_grpc": mls_grpc_port}
        grpc_body_file = grpc_body(body)
        for _ in range(args.repeats):
            runs["http_rps"].append(wrk(url.format(http_port), body, 16, seconds)["rps"])
            runs["mlserver_rps"].append(wrk(url.format(mls_port), body, 16, seconds)["rps"])
            closed = loadtest(binary_port, "trees", 0, 16, 1, seconds)
            runs["binary_rps"].append(closed["achieved_rate"])
            for name, port in grpc_ports.items():
                runs[f"{name}_rps"].append(h2load_grpc(port, grpc_body_file, 16, seconds))
            # Latency twice: as the VM gives it, and with no vCPU halting between requests (keep_awake), where
            # wake-ups of idle vCPUs (hundreds of µs here) no longer dominate a 200/s p99.
            for awake in ("", "_awake"):
                with keep_awake() if awake else open(os.devnull):
                    for name, port in (("http", http_port), ("mlserver", mls_port)):
                        paced = wrk(url.format(port), body, 2, seconds, pace_ms=10)
                        runs[f"{name}_p99{awake}"].append(paced["p99_us"])
                        runs[f"{name}_p50{awake}"].append(paced["p50_us"])
                    fixed = loadtest(binary_port, "trees", 200, 2, 1, seconds)
                    runs[f"binary_p99{awake}"].append(fixed["latency_us"]["p99"])
                    runs[f"binary_p50{awake}"].append(fixed["latency_us"]["p50"])
                    for name, port in grpc_ports.items():
                        fixed = h2load_grpc_paced(port, grpc_body_file, 200, 2, seconds)
                        runs[f"{name}_p99{awake}"].append(fixed["latency_us"]["p99"])
                        runs[f"{name}_p50{awake}"].append(fixed["latency_us"]["p50"])
    finally:
        for p in (ours, theirs):
            p.terminate()
        for p in (ours, theirs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
    figures = {f"{k}{'' if k.endswith('rps') else '_us'}": summary(v) for k, v in runs.items()}
    figures["method"] = ("one-row JSON infer (FP32 [1, 28] matrix) of the same LightGBM model; servers on CPU 0 with "
                         "one worker/thread, wrk -t1 on CPU 1; throughput: 16 connections closed loop; p99: 2 "
                         "connections 10 ms apart (200/s; wrk's delay, not an open loop), as is and with SCHED_IDLE spinners on "
                         "every CPU (_awake); binary: propensity loadtest SCORE, 16 connections closed loop / 200/s "
                         "open loop")
    ratios = {
        "http_throughput_vs_mlserver": ratio(figures["http_rps"], figures["mlserver_rps"], "higher",
                                             "MLServer + mlserver-lightgbm over HTTP"),
        "http_p99_vs_mlserver": ratio(figures["http_p99_us"], figures["mlserver_p99_us"], "lower",
                                      "MLServer p99 at 200/s"),
        "http_p99_vs_mlserver_awake": ratio(figures["http_p99_awake_us"], figures["mlserver_p99_awake_us"], "lower",
                                            "MLServer p99 at 200/s, vCPUs kept awake"),
        "http_p99_vs_binary_awake": ratio(figures["http_p99_awake_us"], figures["binary_p99_awake_us"], "lower",
                                          "Propensity's binary protocol p99 at 200/s, vCPUs kept awake"),
        "http_throughput_vs_binary": ratio(figures["http_rps"], figures["binary_rps"], "higher",
                                           "Propensity's binary protocol, same connections"),
    }
    http_figures = {k: v for k, v in figures.items() if not k.startswith(("grpc", "mlserver_grpc"))}
    result = record("oip", {"trees": trees, "max_depth": 6, "features": 28, "rows_per_request": 1, "threads": 1,
                            "transport": "http"}, http_figures, ratios, "http_throughput_vs_mlserver")
    grpc_figures = {k: v for k, v in figures.items() if k.startswith(("grpc", "mlserver_grpc", "binary"))}
    grpc_figures["method"] = ("one-row ModelInfer (FP32 [1, 28] matrix in typed contents, the HTTP body's request) of "
                              "the same LightGBM model; servers on CPU 0 with one worker/thread, load on CPU 1 for "
                              "both; throughput: h2load (nghttp2) with 16 connections, one call in flight each ; p99: "
                              "h2load --rps, 200/s open loop over 2 connections (per-call times from its log), as is and with the vCPUs kept awake (_awake); "
                              "binary: propensity loadtest SCORE at the same concurrency and rate")
    grpc_ratios = {
        "grpc_throughput_vs_mlserver": ratio(figures["grpc_rps"], figures["mlserver_grpc_rps"], "higher",
                                             "MLServer + mlserver-lightgbm over gRPC"),
        "grpc_p99_vs_mlserver": ratio(figures["grpc_p99_us"], figures["mlserver_grpc_p99_us"], "lower",
                                      "MLServer gRPC p99 at 200/s"),
        "grpc_p99_vs_mlserver_awake": ratio(figures["grpc_p99_awake_us"], figures["mlserver_grpc_p99_awake_us"],
                                            "lower", "MLServer gRPC p99 at 200/s, vCPUs kept awake"),
        "grpc_p99_vs_binary_awake": ratio(figures["grpc_p99_awake_us"], figures["binary_p99_awake_us"], "lower",
                                          "Propensity's binary protocol p99 at 200/s, vCPUs kept awake"),
        "grpc_throughput_vs_binary": ratio(figures["grpc_rps"], figures["binary_rps"], "higher",
                                           "Propensity's binary protocol, same connections"),
    }
    grpc_result = record("oip", {"trees": trees, "max_depth": 6, "features": 28, "rows_per_request": 1,
                                 "threads": 1, "transport": "grpc"}, grpc_figures, grpc_ratios,
                         "grpc_throughput_vs_mlserver")
    print(f"oip http: {figures['http_rps']['median']:.0f} req/s vs MLServer {figures['mlserver_rps']['median']:.0f} "
          f"({result['ratio']:.1f}x), binary {figures['binary_rps']['median']:.0f}; p99 at 200/s "
          f"{figures['http_p99_us']['median']:.0f} µs vs MLServer {figures['mlserver_p99_us']['median']:.0f}, binary "
          f"{figures['binary_p99_us']['median']:.0f}; vCPUs awake {figures['http_p99_awake_us']['median']:.0f} vs "
          f"{figures['mlserver_p99_awake_us']['median']:.0f}, binary {figures['binary_p99_awake_us']['median']:.0f}",
          file=sys.stderr)
    print(f"oip grpc: {figures['grpc_rps']['median']:.0f} req/s vs MLServer {figures['mlserver_grpc_rps']['median']:.0f} "
          f"({grpc_result['ratio']:.1f}x); p99 at 200/s {figures['grpc_p99_us']['median']:.0f} µs vs MLServer "
          f"{figures['mlserver_grpc_p99_us']['median']:.0f}; vCPUs awake {figures['grpc_p99_awake_us']['median']:.0f} vs "
          f"{figures['mlserver_grpc_p99_awake_us']['median']:.0f}", file=sys.stderr)
    return [result, grpc_result]
