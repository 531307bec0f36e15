#!/usr/bin/env python3
"""scikit-learn logistic regression on the benchmark data, timed the way propensity's fit is timed:
standardization included, data already in memory. Prints one JSON object."""
import argparse
import json
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits, threadpool_info


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True, help="where to write the result (JSON); stdout is left to the libraries")
    p.add_argument("--data", required=True, help=".npz from make_synthetic.py")
    p.add_argument("--solver", default="lbfgs")
    p.add_argument("--l2", type=float, default=1.0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--tol", type=float, default=1e-4, help="scikit-learn's default, as users run it")
    a = p.parse_args()
    d = np.load(a.data)
    X = d["X"].astype(np.float64)
    y = d["y"]
    times = []
    with threadpool_limits(limits=a.threads):
        blas = [{k: i.get(k) for k in ("internal_api", "version", "num_threads")} for i in threadpool_info()]
        for _ in range(a.repeats):
            start = time.perf_counter()
            scaler = StandardScaler()
            Z = scaler.fit_transform(X)
            model = LogisticRegression(C=1.0 / a.l2, solver=a.solver, tol=a.tol, max_iter=1000).fit(Z, y)
            times.append(time.perf_counter() - start)
    coef = model.coef_[0] / scaler.scale_
    intercept = model.intercept_[0] - float(np.sum(model.coef_[0] * scaler.mean_ / scaler.scale_))
    with open(a.out, "w") as f:
        json.dump({
        "solver": a.solver, "threads": a.threads, "seconds": times, "iterations": int(model.n_iter_[0]),
        "intercept": intercept, "coefficients": {f"f{j}": float(c) for j, c in enumerate(coef)},
        "blas": blas, "tol": a.tol,
    }, f)


if __name__ == "__main__":
    main()
