#!/usr/bin/env python3
"""Deterministic synthetic benchmark data: N rows x F numeric features (HIGGS-like shape) and a 0/1 label.

Writes NAME.csv (for propensity) and NAME.npz (the same numbers, for the Python peers, so both sides fit
identical data). The label is drawn from a logistic model with a few non-linear terms, so no model is exact.
"""
import argparse

import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--features", type=int, default=28)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True, help="path without extension")
    a = p.parse_args()
    rng = np.random.default_rng(a.seed)
    n, f = a.rows, a.features
    latent = rng.normal(size=(n, 4))
    mixing = rng.normal(size=(4, f)) * 0.6
    scales = np.exp(rng.normal(size=f))
    offsets = rng.normal(size=f) * 3
    X = ((latent @ mixing + rng.normal(size=(n, f))) * scales + offsets).astype(np.float32)
    beta = rng.normal(size=f) * 0.4 / scales
    z = (X - offsets) @ beta - 1.0 + 0.3 * np.sin(X[:, 0]) + 0.2 * (latent[:, 1] ** 2 - 1)
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(np.int8)
    np.savez(a.out + ".npz", X=X, y=y)
    header = ",".join([f"f{j}" for j in range(f)] + ["label"])
    data = np.column_stack([X.astype(np.float64), y])
    fmt = ["%.7g"] * f + ["%d"]
    np.savetxt(a.out + ".csv", data, delimiter=",", header=header, comments="", fmt=fmt)
    print(f"{a.out}: {n} rows, {f} features, positive rate {y.mean():.4f}")


if __name__ == "__main__":
    main()
