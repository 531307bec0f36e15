#!/usr/bin/env python3
"""Models trained with XGBoost and LightGBM for the importer parity tests (Tests/PropensityImportTests).

Run: bash Tests/Fixtures/make_fixtures.sh import

For each case: the saved model (XGBoost JSON / LightGBM text), a held-out feature file (CSV, one float per feature in
model order, empty = missing, categorical features as category codes) and the library's own predicted probabilities.
Also a few models the importer must refuse (multiclass, ranking, linear trees, DART, random forest).
"""
import json
import os

import lightgbm as lgb
import numpy as np
import pandas as pd
import xgboost as xgb

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "PropensityImportTests", "Fixtures")
rng = np.random.default_rng(20261129)


def data(n, features=6, missing=0.1, categorical=0, zeros=0.0):
    X = rng.normal(size=(n, features)).astype(np.float32)
    if zeros:
        X[rng.random(X.shape) < zeros] = 0.0
    cats = rng.integers(0, 7, size=(n, categorical)) if categorical else np.zeros((n, 0), dtype=int)
    logit = X[:, 0] - 0.5 * X[:, 1] + 0.8 * np.sin(2 * X[:, 2])
    for j in range(categorical):
        logit += np.where(np.isin(cats[:, j], [1, 3, 4]), 1.0, -0.7)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    if missing:
        X[rng.random(X.shape) < missing] = np.nan
    return X, cats, y


def frame(X, cats, categories=7):
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    for j in range(cats.shape[1]):
        df[f"c{j}"] = pd.Categorical(cats[:, j], categories=list(range(categories)))
    return df


def write_rows(path, df):
    with open(path, "w") as f:
        for _, row in df.iterrows():
            values = []
            for v in row:
                if pd.isna(v):
                    values.append("")
                else:
                    values.append(repr(float(v)))
            f.write(",".join(values) + "\n")


def save_case(name, kind, model_file, test_df, probabilities, manifest):
    write_rows(os.path.join(OUT, f"{name}.rows.csv"), test_df)
    np.savetxt(os.path.join(OUT, f"{name}.expected.txt"), probabilities, fmt="%.9g")
    manifest.append({"name": name, "kind": kind, "model": model_file, "rows": f"{name}.rows.csv",
                     "expected": f"{name}.expected.txt", "features": list(test_df.columns)})


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest, refused = [], []

    # XGBoost: depths, tree counts, missing values, categorical splits.
    for name, depth, trees, categorical in [("xgb_d3_t20", 3, 20, 0), ("xgb_d6_t60", 6, 60, 0), ("xgb_cat_d4_t30", 4, 30, 2)]:
        X, cats, y = data(2000, categorical=categorical)
        Xt, catst, _ = data(300, categorical=categorical)
        df, dft = frame(X, cats), frame(Xt, catst)
        dtrain = xgb.DMatrix(df, label=y, enable_categorical=True)
        booster = xgb.train({"objective": "binary:logistic", "max_depth": depth, "eta": 0.3, "tree_method": "hist",
                             "max_cat_to_onehot": 1, "seed": 1}, dtrain, num_boost_round=trees)
        booster.save_model(os.path.join(OUT, f"{name}.json"))
        save_case(name, "xgboost", f"{name}.json", dft, booster.predict(xgb.DMatrix(dft, enable_categorical=True)), manifest)

    # LightGBM: NaN missing type, zero-as-missing, no missing in training (None type), categorical, depths.
    cases = [
        ("lgb_nan_l15_t30", dict(num_leaves=15), 30, dict(missing=0.1)),
        ("lgb_zero_l31_t40", dict(num_leaves=31, zero_as_missing=True), 40, dict(missing=0.05, zeros=0.2)),
        ("lgb_none_l7_t25", dict(num_leaves=7), 25, dict(missing=0.0)),
        ("lgb_cat_l31_t50", dict(num_leaves=31, min_data_per_group=20, cat_smooth=1), 50, dict(missing=0.1, categorical=2)),
        ("lgb_deep_l63_t100", dict(num_leaves=63, max_depth=8), 100, dict(missing=0.1)),
    ]
    for name, params, trees, spec in cases:
        X, cats, y = data(3000, **spec)
        test_spec = dict(spec, missing=max(spec.get("missing", 0), 0.1))  # test rows always carry missing values
        Xt, catst, _ = data(300, **test_spec)
        df, dft = frame(X, cats), frame(Xt, catst)
        booster = lgb.train({"objective": "binary", "verbose": -1, "seed": 1, "learning_rate": 0.2, **params},
                            lgb.Dataset(df, label=y), num_boost_round=trees)
        booster.save_model(os.path.join(OUT, f"{name}.txt"))
        save_case(name, "lightgbm", f"{name}.txt", dft, booster.predict(dft), manifest)

    # Models the importer must refuse, with the word its message must contain.
    X, cats, y = data(500)
    df = frame(X, cats)
    y3 = rng.integers(0, 3, size=len(y))
    xgb.train({"objective": "multi:softprob", "num_class": 3, "max_depth": 2}, xgb.DMatrix(df, label=y3),
              num_boost_round=2).save_model(os.path.join(OUT, "refuse_xgb_multiclass.json"))
    refused.append({"model": "refuse_xgb_multiclass.json", "kind": "xgboost", "message": "multi:softprob"})
    dr = xgb.DMatrix(df, label=y)
    dr.set_group([100] * 5)
    xgb.train({"objective": "rank:pairwise", "max_depth": 2}, dr, num_boost_round=2).save_model(
        os.path.join(OUT, "refuse_xgb_ranking.json"))
    refused.append({"model": "refuse_xgb_ranking.json", "kind": "xgboost", "message": "rank:pairwise"})
    xgb.train({"objective": "binary:logistic", "booster": "dart", "max_depth": 2, "rate_drop": 0.5}, xgb.DMatrix(df, label=y),
              num_boost_round=3).save_model(os.path.join(OUT, "refuse_xgb_dart.json"))
    refused.append({"model": "refuse_xgb_dart.json", "kind": "xgboost", "message": "dart"})
    lgb.train({"objective": "multiclass", "num_class": 3, "verbose": -1, "num_leaves": 4}, lgb.Dataset(df, label=y3),
              num_boost_round=2).save_model(os.path.join(OUT, "refuse_lgb_multiclass.txt"))
    refused.append({"model": "refuse_lgb_multiclass.txt", "kind": "lightgbm", "message": "multiclass"})
    lgb.train({"objective": "lambdarank", "verbose": -1, "num_leaves": 4}, lgb.Dataset(df, label=y, group=[100] * 5),
              num_boost_round=2).save_model(os.path.join(OUT, "refuse_lgb_ranking.txt"))
    refused.append({"model": "refuse_lgb_ranking.txt", "kind": "lightgbm", "message": "lambdarank"})
    lgb.train({"objective": "binary", "linear_tree": True, "verbose": -1, "num_leaves": 4},
              lgb.Dataset(df.fillna(0), label=y), num_boost_round=2).save_model(os.path.join(OUT, "refuse_lgb_linear.txt"))
    refused.append({"model": "refuse_lgb_linear.txt", "kind": "lightgbm", "message": "linear"})
    lgb.train({"objective": "binary", "boosting": "rf", "bagging_fraction": 0.5, "bagging_freq": 1, "verbose": -1,
               "num_leaves": 4}, lgb.Dataset(df, label=y), num_boost_round=2).save_model(os.path.join(OUT, "refuse_lgb_rf.txt"))
    refused.append({"model": "refuse_lgb_rf.txt", "kind": "lightgbm", "message": "average_output"})

    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"generator": "Tests/Fixtures/make_import_fixtures.py", "xgboost": xgb.__version__,
                   "lightgbm": lgb.__version__, "cases": manifest, "refused": refused}, f, indent=2)
    print(f"{len(manifest)} parity cases, {len(refused)} refused models")


if __name__ == "__main__":
    main()
