#!/usr/bin/env python3
"""Per-feature contributions of the importer fixtures, for the explanation parity tests (Tests/PropensityImportTests).

Run: bash Tests/Fixtures/make_fixtures.sh contrib   (after `import`: it reads the models and rows those wrote)

For each case of Fixtures/manifest.json: XGBoost's `predict(pred_contribs=True)` or LightGBM's
`predict(pred_contrib=True)` on the held-out rows, one row per line, one column per feature then the bias (both
libraries' layout), written to NAME.contribs.txt and named in the manifest as "contributions".
"""
import json
import os

import lightgbm as lgb
import numpy as np
import pandas as pd
import xgboost as xgb

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "PropensityImportTests", "Fixtures")


def rows(case):
    df = pd.read_csv(os.path.join(FIXTURES, case["rows"]), header=None, names=case["features"], dtype=float)
    for name in case["features"]:
        if name.startswith("c"):  # categorical codes, as make_import_fixtures.py built them (7 categories)
            df[name] = pd.Categorical(df[name], categories=[float(c) for c in range(7)]).rename_categories(range(7))
    return df


def main():
    path = os.path.join(FIXTURES, "manifest.json")
    manifest = json.load(open(path))
    for case in manifest["cases"]:
        df = rows(case)
        model = os.path.join(FIXTURES, case["model"])
        if case["kind"] == "xgboost":
            contributions = xgb.Booster(model_file=model).predict(xgb.DMatrix(df, enable_categorical=True), pred_contribs=True)
        else:
            contributions = lgb.Booster(model_file=model).predict(df, pred_contrib=True)
        out = f"{case['name']}.contribs.txt"
        np.savetxt(os.path.join(FIXTURES, out), np.asarray(contributions, dtype=np.float64), fmt="%.12g")
        case["contributions"] = out
    json.dump(manifest, open(path, "w"), indent=2)
    open(path, "a").write("\n")


if __name__ == "__main__":
    main()
