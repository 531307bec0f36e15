#!/usr/bin/env python3
"""LightGBM and XGBoost (hist) trained with parameters matched to `propensity train --algorithm gbdt`.

Times the whole path from the in-memory float32 matrix to a trained booster (binning / Dataset construction
included), reports held-out AUC and the process's peak resident memory. Prints one JSON object.
Run one library per process so each peak RSS is its own.
"""
import argparse
import json
import resource
import time

import numpy as np
from sklearn.metrics import roc_auc_score


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True, help="where to write the result (JSON); stdout is left to the libraries")
    p.add_argument("--library", choices=["lightgbm", "xgboost"], required=True)
    p.add_argument("--train", required=True, help=".npz with X, y")
    p.add_argument("--test", required=True, help=".npz with X, y")
    p.add_argument("--trees", type=int, default=100)
    p.add_argument("--learning-rate", type=float, default=0.1)
    p.add_argument("--max-depth", type=int, default=6)
    p.add_argument("--num-leaves", type=int, default=63)
    p.add_argument("--max-bin", type=int, default=255)
    p.add_argument("--l2", type=float, default=0.0)
    p.add_argument("--min-child-weight", type=float, default=1e-3)
    p.add_argument("--min-samples-leaf", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--categorical", default="", help="comma-separated column indices")
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args()
    tr = np.load(a.train)
    te = np.load(a.test)
    X, y, Xt, yt = tr["X"], tr["y"], te["X"], te["y"]
    cats = [int(c) for c in a.categorical.split(",") if c]

    start = time.perf_counter()
    if a.library == "lightgbm":
        import lightgbm as lgb
        params = {
            "objective": "binary", "learning_rate": a.learning_rate, "num_leaves": a.num_leaves,
            "max_depth": a.max_depth, "max_bin": a.max_bin, "lambda_l2": a.l2,
            "min_sum_hessian_in_leaf": a.min_child_weight, "min_data_in_leaf": a.min_samples_leaf,
            "num_threads": a.threads, "verbose": -1, "seed": a.seed, "deterministic": True,
        }
        ds = lgb.Dataset(X, label=y, categorical_feature=cats or "auto", params={"max_bin": a.max_bin})
        booster = lgb.train(params, ds, num_boost_round=a.trees)
        seconds = time.perf_counter() - start
        pred = booster.predict(Xt)
        version = lgb.__version__
    else:
        import xgboost as xgb
        params = {
            "objective": "binary:logistic", "tree_method": "hist", "eta": a.learning_rate,
            "max_depth": a.max_depth, "max_bin": a.max_bin, "lambda": a.l2, "min_child_weight": a.min_child_weight,
            "nthread": a.threads, "seed": a.seed, "eval_metric": "logloss",
        }
        if cats:
            ft = ["c" if j in cats else "q" for j in range(X.shape[1])]
            dtrain = xgb.QuantileDMatrix(X, label=y, feature_types=ft, enable_categorical=True, max_bin=a.max_bin)
            dtest = xgb.DMatrix(Xt, feature_types=ft, enable_categorical=True)
        else:
            dtrain = xgb.QuantileDMatrix(X, label=y, max_bin=a.max_bin)
            dtest = xgb.DMatrix(Xt)
        booster = xgb.train(params, dtrain, num_boost_round=a.trees)
        seconds = time.perf_counter() - start
        pred = booster.predict(dtest)
        version = xgb.__version__
    result = {
        "library": a.library, "version": version, "seconds": seconds, "auc": float(roc_auc_score(yt, pred)),
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    with open(a.out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
