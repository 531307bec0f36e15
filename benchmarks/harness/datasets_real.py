"""Writes train/test CSV pairs (test = every 5th row, row index % 5 == 0) for the GBDT accuracy benchmark from
../shared/datasets, so that Propensity, LightGBM and XGBoost see exactly the same rows.

- online_shoppers: label Revenue (TRUE/FALSE), as is.
- bank_marketing: bank-additional-full.csv, label y, `duration` dropped (known only after the call).
- flights: nycflights13, label late = arr_delay >= 15, rows without arr_delay dropped; the columns that leak the
  label (arr_time, arr_delay, air_time, dep_time, dep_delay) and the redundant timestamp time_hour are dropped,
  so this is a "before departure" model.
"""
import os

import pandas as pd

DATASETS = {
    "online_shoppers": dict(file="online_shoppers/online_shoppers_intention.csv", sep=",", label="Revenue", drop=[]),
    "bank_marketing": dict(file="bank_marketing/bank-additional-full.csv", sep=";", label="y", drop=["duration"]),
    "flights": dict(file="nycflights13/flights.csv", sep=",", label="late",
                    drop=["arr_time", "arr_delay", "air_time", "dep_time", "dep_delay", "time_hour"]),
}


def prepare(name, shared, work):
    spec = DATASETS[name]
    out_train = os.path.join(work, f"{name}-train.csv")
    out_test = os.path.join(work, f"{name}-test.csv")
    if os.path.exists(out_train) and os.path.exists(out_test):
        return out_train, out_test
    df = pd.read_csv(os.path.join(shared, spec["file"]), sep=spec["sep"], keep_default_na=True, dtype=str)
    if name == "flights":
        df = df[df["arr_delay"].notna()].copy()
        df["late"] = (df["arr_delay"].astype(float) >= 15).astype(int).astype(str)
    df = df.drop(columns=spec["drop"])
    test = pd.Series(range(len(df)), index=df.index) % 5 == 0
    os.makedirs(work, exist_ok=True)
    df[~test].to_csv(out_train, index=False)
    df[test].to_csv(out_test, index=False)
    return out_train, out_test

