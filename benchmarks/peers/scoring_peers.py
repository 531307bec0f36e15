#!/usr/bin/env python3
"""Scoring peers for the `scoring` benchmark: trains the benchmark models once (cached in benchmarks/work) and
measures batch throughput and single-row latency of LightGBM, XGBoost, lleaves and TL2cgen on the same rows.

Models: LightGBM (num_leaves 63, max_depth 6) and XGBoost (max_depth 6), both binary, on the synthetic 28-feature
data; the LightGBM model is the one Propensity imports, lleaves compiles and TL2cgen turns into C (gcc -O3).
Prints one JSON object.
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.environ.get("PROPENSITY_BENCH_WORK", os.path.join(os.path.dirname(HERE), "work"))


def models(data, trees, train_rows):
    import lightgbm as lgb
    import xgboost as xgb
    d = np.load(data)
    X, y = d["X"][:train_rows], d["y"][:train_rows]
    lgb_path = os.path.join(WORK, f"scoring-lgb-{trees}.txt")
    xgb_path = os.path.join(WORK, f"scoring-xgb-{trees}.json")
    if not os.path.exists(lgb_path):
        booster = lgb.train({"objective": "binary", "num_leaves": 63, "max_depth": 6, "learning_rate": 0.05,
                             "verbose": -1, "num_threads": 2, "seed": 1},
                            lgb.Dataset(X, label=y, feature_name=[f"f{j}" for j in range(X.shape[1])]),
                            num_boost_round=trees)
        booster.save_model(lgb_path)
    if not os.path.exists(xgb_path):
        booster = xgb.train({"objective": "binary:logistic", "max_depth": 6, "eta": 0.05, "tree_method": "hist",
                             "nthread": 2, "seed": 1},
                            xgb.DMatrix(X, label=y, feature_names=[f"f{j}" for j in range(X.shape[1])]),
                            num_boost_round=trees)
        booster.save_model(xgb_path)
    return lgb_path, xgb_path


def rates(fn, rows, repeats):
    """Rows per second over `repeats` timed calls: median, min, max and the run count."""
    values = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        values.append(rows / (time.perf_counter() - start))
    values.sort()
    return {"median": values[len(values) // 2], "min": values[0], "max": values[-1], "runs": len(values)}


LLEAVES_HARNESS = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
/* lleaves' compiled model (its cache file is an object file, linked in). */
void forest_root(double *data, double *out, int start, int end);
static int cmp(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }
int main(int argc, char **argv) {
  void (*f)(double *, double *, int, int) = forest_root;
  int rows = atoi(argv[3]), features = atoi(argv[4]), calls = atoi(argv[5]);
  double *x = malloc(sizeof(double) * rows * features);
  FILE *in = fopen(argv[2], "rb");
  if (fread(x, sizeof(double), (size_t)rows * features, in) != (size_t)rows * features) return 2;
  double *lat = malloc(sizeof(double) * calls), out, sink = 0;
  for (int i = 0; i < calls; i++) {
    struct timespec a, b;
    double *row = x + (size_t)(i % rows) * features;
    clock_gettime(CLOCK_MONOTONIC, &a);
    f(row, &out, 0, 1);
    clock_gettime(CLOCK_MONOTONIC, &b);
    lat[i] = (b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3;
    sink += out;
  }
  qsort(lat, calls, sizeof(double), cmp);
  printf("{\"median\": %f, \"p99\": %f, \"p999\": %f, \"calls\": %d, \"checksum\": %f}\n",
         lat[calls / 2], lat[calls * 99 / 100], lat[calls * 999 / 1000], calls, sink);
  return 0;
}
"""


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True, help="where to write the result (JSON); stdout is left to the libraries")
    p.add_argument("--data", required=True)
    p.add_argument("--test-rows", type=int, default=200_000)
    p.add_argument("--train-rows", type=int, default=200_000)
    p.add_argument("--trees", type=int, default=500)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--single-calls", type=int, default=100_000)
    p.add_argument("--skip", default="", help="comma-separated peers to skip")
    a = p.parse_args()
    skip = set(a.skip.split(","))
    lgb_path, xgb_path = models(a.data, a.trees, a.train_rows)
    d = np.load(a.data)
    X = np.ascontiguousarray(d["X"][-a.test_rows:])
    X64 = X.astype(np.float64)
    result = {"lightgbm_model": lgb_path, "xgboost_model": xgb_path, "rows": len(X), "trees": a.trees, "peers": {}}
    threads = [int(t) for t in a.threads.split(",")]

    import lightgbm as lgb
    import xgboost as xgb
    booster = lgb.Booster(model_file=lgb_path)
    result["peers"]["lightgbm"] = {str(t): rates(lambda: booster.predict(X, num_threads=t), len(X), a.repeats)
                                   for t in threads}
    xb = xgb.Booster(model_file=xgb_path)
    out = {}
    for t in threads:
        xb.set_param({"nthread": t})
        out[str(t)] = rates(lambda: xb.inplace_predict(X), len(X), a.repeats)
    result["peers"]["xgboost"] = out

    if "lleaves" not in skip:
        import lleaves
        so = os.path.join(WORK, f"scoring-lleaves-{a.trees}.o")
        model = lleaves.Model(model_file=lgb_path)
        model.compile(cache=so)
        result["peers"]["lleaves"] = {str(t): rates(lambda: model.predict(X64, n_jobs=t), len(X), a.repeats)
                                      for t in threads}
        with tempfile.TemporaryDirectory() as tmp:
            c = os.path.join(tmp, "h.c")
            exe = os.path.join(tmp, "h")
            with open(c, "w") as f:
                f.write(LLEAVES_HARNESS)
            subprocess.run(["gcc", "-O2", c, so, "-o", exe, "-lm"], check=True)
            raw = os.path.join(tmp, "x.bin")
            X64[:20000].tofile(raw)
            # Repeated like Propensity's single-row runs, so the ratio gets a noise band from both sides.
            runs = [json.loads(subprocess.run([exe, "-", raw, "20000", str(X.shape[1]), str(a.single_calls)], check=True,
                                              capture_output=True, text=True).stdout) for _ in range(a.repeats)]
            medians = sorted(r["median"] for r in runs)
            result["lleaves_single_row_us"] = {
                "median": medians[len(medians) // 2], "min": medians[0], "max": medians[-1], "runs": len(medians),
                "p99": sorted(r["p99"] for r in runs)[len(runs) // 2]}

    if "tl2cgen" not in skip:
        import tl2cgen
        import treelite
        lib = os.path.join(WORK, f"scoring-tl2cgen-{a.trees}.so")
        if not os.path.exists(lib):
            tl_model = treelite.frontend.load_lightgbm_model(lgb_path)
            tl2cgen.export_lib(tl_model, toolchain="gcc", libpath=lib, params={"parallel_comp": 8},
                               options=["-O3"], nthread=2)
        out = {}
        for t in threads:
            predictor = tl2cgen.Predictor(lib, nthread=t)
            dmat = tl2cgen.DMatrix(X, dtype="float32")
            out[str(t)] = rates(lambda: predictor.predict(dmat), len(X), a.repeats)
        result["peers"]["tl2cgen"] = out
    with open(a.out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
