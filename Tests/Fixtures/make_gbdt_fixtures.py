#!/usr/bin/env python3
"""LightGBM reference AUCs for the GBDT parity tests (Tests/PropensityTrainingTests/GBDTParityTests.swift).

Run: bash Tests/Fixtures/make_fixtures.sh gbdt   (uses Tests/Fixtures/.venv)

Each case reads a dataset from ../shared/datasets, holds out every 5th row (row index % 5 == 0) as the test set,
trains LightGBM with the parameters the Swift test uses, and records the held-out AUC. Text columns are categorical
(pandas category dtype, LightGBM's native categorical splits), as Propensity detects them.
"""
import json
import os

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
DATASETS = os.environ.get("PROPENSITY_DATASETS", os.path.join(HERE, "..", "..", "..", "shared", "datasets"))
OUT = os.path.join(HERE, "..", "PropensityTrainingTests", "Fixtures", "gbdt_lightgbm_reference.json")

PARAMS = {"trees": 100, "learning_rate": 0.1, "num_leaves": 31, "max_depth": 8, "max_bin": 255,
          "min_samples_leaf": 20, "min_child_weight": 1e-3, "l2": 0.0}

CASES = [
    {"name": "online_shoppers", "file": "online_shoppers/online_shoppers_intention.csv", "sep": ",",
     "label": "Revenue", "positive": True, "drop": []},
    {"name": "bank_marketing", "file": "bank_marketing/bank-additional-full.csv", "sep": ";",
     "label": "y", "positive": "yes", "drop": ["duration"]},
]


# Issue 13: constraints a team would set. Monotone directions as domain knowledge has them (more contacts in a
# campaign, lower euribor rates; higher page value, lower exit and bounce rates); interaction groups by what the
# columns describe. Columns in no group are groups of their own.
CONSTRAINTS = {
    "bank_marketing": {
        "monotone": [("campaign", -1), ("euribor3m", -1)],
        "interactions": [["age", "job", "marital", "education", "default", "housing", "loan"],
                         ["contact", "month", "day_of_week", "campaign", "pdays", "previous", "poutcome"],
                         ["emp.var.rate", "cons.price.idx", "cons.conf.idx", "euribor3m", "nr.employed"]],
    },
    "online_shoppers": {
        "monotone": [("PageValues", 1), ("ExitRates", -1), ("BounceRates", -1)],
        "interactions": [["Administrative", "Administrative_Duration", "Informational", "Informational_Duration",
                          "ProductRelated", "ProductRelated_Duration"],
                         ["BounceRates", "ExitRates", "PageValues"],
                         ["SpecialDay", "Month", "Weekend"],
                         ["OperatingSystems", "Browser", "Region", "TrafficType", "VisitorType"]],
    },
}


def recency_weights(n):
    """Bank Marketing's rows are in time order (May 2008 to November 2010): weigh recent contacts more, linearly
    from 0.25 for the first row to 2 for the last, as a team that trusts recent behaviour would (issue 13)."""
    return np.round(0.25 + 1.75 * np.arange(n) / (n - 1), 6)


def run(case, weighted=False, constrained=False):
    df = pd.read_csv(os.path.join(DATASETS, case["file"]), sep=case["sep"])
    y = (df[case["label"]] == case["positive"]).astype(int).to_numpy()
    X = df.drop(columns=[case["label"]] + case["drop"])
    for column in X.columns:
        if not pd.api.types.is_numeric_dtype(X[column]) or pd.api.types.is_bool_dtype(X[column]):
            X[column] = X[column].astype(str).astype("category")
    test = np.arange(len(df)) % 5 == 0
    w = recency_weights(len(df)) if weighted else np.ones(len(df))
    params = {
        "objective": "binary", "learning_rate": PARAMS["learning_rate"], "num_leaves": PARAMS["num_leaves"],
        "max_depth": PARAMS["max_depth"], "max_bin": PARAMS["max_bin"], "min_data_in_leaf": PARAMS["min_samples_leaf"],
        "min_sum_hessian_in_leaf": PARAMS["min_child_weight"], "lambda_l2": PARAMS["l2"], "num_threads": 2,
        "verbose": -1, "deterministic": True, "seed": 1,
    }
    if constrained:
        c = CONSTRAINTS[case["name"]]
        directions = dict(c["monotone"])
        params["monotone_constraints"] = [directions.get(column, 0) for column in X.columns]
        params["monotone_constraints_method"] = "advanced"
        params["interaction_constraints"] = [[list(X.columns).index(name) for name in group] for group in c["interactions"]]
    train = lgb.Dataset(X[~test], label=y[~test], weight=w[~test] if weighted else None)
    booster = lgb.train(params, train, num_boost_round=PARAMS["trees"])
    auc = roc_auc_score(y[test], booster.predict(X[test]), sample_weight=w[test] if weighted else None)
    return {"name": case["name"], "file": case["file"], "label": case["label"], "drop": case["drop"],
            "lightgbm_auc": auc, "test_rows": int(test.sum()), "weights": "recency" if weighted else "none",
            **({"monotone": [f"{n}:{d:+d}" for n, d in CONSTRAINTS[case["name"]]["monotone"]],
                "interactions": CONSTRAINTS[case["name"]]["interactions"]} if constrained else {})}


def main():
    cases = [run(c) for c in CASES] + [run(c, weighted=True) for c in CASES if c["name"] == "bank_marketing"] \
        + [run(c, constrained=True) for c in CASES]
    with open(OUT, "w") as f:
        json.dump({"generator": "Tests/Fixtures/make_gbdt_fixtures.py", "lightgbm": lgb.__version__,
                   "params": PARAMS, "split": "test = row index % 5 == 0", "cases": cases}, f, indent=2)
    for c in cases:
        print(f"{c['name']} (weights {c['weights']}, constrained {'monotone' in c}): LightGBM held-out AUC "
              f"{c['lightgbm_auc']:.4f}")


if __name__ == "__main__":
    main()
