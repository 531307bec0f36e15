#!/usr/bin/env python3
"""Explanation peers for the `explain` benchmark: XGBoost `predict(pred_contribs=True)` and LightGBM
`predict(pred_contrib=True)` (both exact path-dependent TreeSHAP), one thread, on the `scoring` benchmark's models
(trained once and cached by scoring_peers.py's `models`). Writes one JSON object to --out.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scoring_peers import models, rates  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True, help="where to write the result (JSON); stdout is left to the libraries")
    p.add_argument("--data", required=True)
    p.add_argument("--rows", type=int, default=2000)
    p.add_argument("--trees", type=int, default=500)
    p.add_argument("--train-rows", type=int, default=200_000)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    lgb_path, xgb_path = models(a.data, a.trees, a.train_rows)
    X = np.ascontiguousarray(np.load(a.data)["X"][-a.rows:])

    import lightgbm as lgb
    import xgboost as xgb
    booster = lgb.Booster(model_file=lgb_path)
    xb = xgb.Booster(model_file=xgb_path)
    xb.set_param({"nthread": 1})
    dmatrix = xgb.DMatrix(X, feature_names=[f"f{j}" for j in range(X.shape[1])])
    result = {
        "lightgbm_model": lgb_path, "xgboost_model": xgb_path, "rows": len(X), "trees": a.trees,
        "peers": {
            "lightgbm": rates(lambda: booster.predict(X, pred_contrib=True, num_threads=1), len(X), a.repeats),
            "xgboost": rates(lambda: xb.predict(dmatrix, pred_contribs=True), len(X), a.repeats),
        },
    }
    with open(a.out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
