#!/usr/bin/env python3
"""LightGBM and XGBoost on a train/test CSV pair written by prepare_datasets.py, with parameters matched to
Propensity's. Text columns become categorical (native categorical splits in both libraries). Prints JSON."""
import argparse
import json
import time

import pandas as pd
from sklearn.metrics import roc_auc_score


def load(path, label, positive):
    df = pd.read_csv(path)
    y = (df[label].astype(str) == positive).astype(int).to_numpy()
    X = df.drop(columns=[label])
    for column in X.columns:
        if not pd.api.types.is_numeric_dtype(X[column]) or pd.api.types.is_bool_dtype(X[column]):
            X[column] = X[column].astype(str).astype("category")
    return X, y


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True, help="where to write the result (JSON); stdout is left to the libraries")
    p.add_argument("--train", required=True)
    p.add_argument("--test", required=True)
    p.add_argument("--label", required=True)
    p.add_argument("--positive", required=True)
    p.add_argument("--trees", type=int, default=100)
    p.add_argument("--learning-rate", type=float, default=0.1)
    p.add_argument("--num-leaves", type=int, default=31)
    p.add_argument("--max-depth", type=int, default=8)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--monotone", help="COLUMN:+1,COLUMN:-1 (LightGBM only, monotone_constraints_method=advanced)")
    p.add_argument("--interactions", help="A,B;C,D (LightGBM only)")
    a = p.parse_args()
    X, y = load(a.train, a.label, a.positive)
    Xt, yt = load(a.test, a.label, a.positive)
    for c in X.columns:  # the test set must use the training categories
        if isinstance(X[c].dtype, pd.CategoricalDtype):
            Xt[c] = pd.Categorical(Xt[c].astype(str), categories=X[c].cat.categories)
    results = {}
    import lightgbm as lgb
    params = {"objective": "binary", "learning_rate": a.learning_rate, "num_leaves": a.num_leaves,
              "max_depth": a.max_depth, "max_bin": 255, "min_data_in_leaf": 20, "min_sum_hessian_in_leaf": 1e-3,
              "lambda_l2": 0.0, "num_threads": a.threads, "verbose": -1, "deterministic": True, "seed": 1}
    columns = list(X.columns)
    if a.monotone:
        directions = {item.split(":")[0]: int(item.split(":")[1]) for item in a.monotone.split(",")}
        params["monotone_constraints"] = [directions.get(c, 0) for c in columns]
        params["monotone_constraints_method"] = "advanced"
    if a.interactions:
        params["interaction_constraints"] = [[columns.index(c) for c in g.split(",")] for g in a.interactions.split(";")]
    start = time.perf_counter()
    booster = lgb.train(params, lgb.Dataset(X, label=y), num_boost_round=a.trees)
    results["lightgbm"] = {"seconds": time.perf_counter() - start, "auc": roc_auc_score(yt, booster.predict(Xt))}
    if a.monotone or a.interactions:  # the constrained comparison is with LightGBM
        with open(a.out, "w") as f:
            json.dump(results, f)
        return
    import xgboost as xgb
    start = time.perf_counter()
    booster = xgb.train(
        {"objective": "binary:logistic", "tree_method": "hist", "eta": a.learning_rate, "max_depth": a.max_depth,
         "max_leaves": a.num_leaves, "grow_policy": "lossguide", "max_bin": 255, "lambda": 0.0,
         "min_child_weight": 1e-3, "nthread": a.threads, "seed": 1, "max_cat_to_onehot": 4},
        xgb.DMatrix(X, label=y, enable_categorical=True), num_boost_round=a.trees)
    pred = booster.predict(xgb.DMatrix(Xt, enable_categorical=True))
    results["xgboost"] = {"seconds": time.perf_counter() - start, "auc": roc_auc_score(yt, pred)}
    with open(a.out, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()
