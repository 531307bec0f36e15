#!/usr/bin/env python3
"""Regenerates the logistic-regression parity fixtures in Tests/PropensityTrainingTests/Fixtures.

Run: bash Tests/Fixtures/make_fixtures.sh lr  (creates Tests/Fixtures/.venv with scikit-learn)

Each case is a small CSV plus the coefficients scikit-learn finds for the same objective:
    sum_i s_i * logloss_i + (lambda / 2) * ||w||^2   (intercept unpenalized)
which is scikit-learn's LogisticRegression(C = 1 / lambda) with sample weights s (C = inf, no penalty, when lambda = 0).
Propensity standardizes numeric columns (training mean, population std), imputes missing values with the mean
(0 after standardizing) plus a 0/1 indicator column, and one-hot encodes categories; the design matrix below is
built the same way, and the coefficients are reported on the original scale, named as `propensity inspect` does.
Propensity keeps numbers (inputs and weights) at float32, the precision the scorer reads inputs in, each rounded
once from the parsed double: scikit-learn is given the same values (`as_read`), so both solve the same problem.
"""
import json
import os

import numpy as np
from sklearn.linear_model import LogisticRegression

OUT = os.path.join(os.path.dirname(__file__), "..", "PropensityTrainingTests", "Fixtures")


def as_read(v):
    """A number of the CSV as Propensity holds it: the double rounded once to float32."""
    return None if v is None else float(np.float32(v))


def design(columns, kinds):
    """columns: name -> list of raw values (float or None / str or None)."""
    blocks, names, scaling = [], [], {}
    for name, values in columns.items():
        if kinds[name] == "numeric":
            x = np.array([np.nan if v is None else as_read(v) for v in values], dtype=float)
            seen = ~np.isnan(x)
            mean = x[seen].mean()
            std = x[seen].std()  # population std, as Propensity
            std = std if std > 0 else 1.0
            z = np.where(seen, (x - mean) / std, 0.0)
            blocks.append(z[:, None]); names.append(name)
            scaling[name] = (mean, std)
            if not seen.all():
                blocks.append((~seen).astype(float)[:, None]); names.append(name + ":missing")
        else:
            categories = list(dict.fromkeys(v for v in values if v is not None))
            for c in categories:
                blocks.append(np.array([1.0 if v == c else 0.0 for v in values])[:, None])
                names.append(f"{name}={c}")
    return np.hstack(blocks), names, scaling


def fit(X, y, l2, sample_weight=None):
    kwargs = dict(tol=1e-12, max_iter=10000, solver="newton-cholesky")
    model = LogisticRegression(C=np.inf if l2 == 0 else 1.0 / l2, **kwargs)
    model.fit(X, y, sample_weight=sample_weight)
    return model.intercept_[0], model.coef_[0]


def original_scale(intercept, coef, names, scaling):
    out = {}
    for n, w in zip(names, coef):
        if n in scaling:
            mean, std = scaling[n]
            out[n] = w / std
            intercept -= w * mean / std
        else:
            out[n] = w
    for n in names:  # a missing indicator also carries the imputed mean's raw-scale term
        if n.endswith(":missing"):
            base = n[: -len(":missing")]
            out[n] += out[base] * scaling[base][0]
    return intercept, out


def write_csv(path, header, rows):
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join("" if v is None else (repr(float(v)) if isinstance(v, float) else str(v)) for v in r) + "\n")


def case_numeric(rng):
    n = 600
    X = rng.normal(size=(n, 4)) * [1.0, 3.0, 0.5, 10.0] + [0.0, 5.0, -1.0, 50.0]
    logit = -1.0 + 0.8 * X[:, 0] - 0.3 * (X[:, 1] - 5) + 1.5 * (X[:, 2] + 1) + 0.02 * (X[:, 3] - 50)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    header = ["a", "b", "c", "d", "label"]
    write_csv(os.path.join(OUT, "lr_numeric.csv"), header, [list(map(float, X[i])) + [int(y[i])] for i in range(n)])
    columns = {h: list(map(float, X[:, j])) for j, h in enumerate(header[:-1])}
    Xd, names, scaling = design(columns, {h: "numeric" for h in header[:-1]})
    cases = []
    for l2 in [0.0, 3.0]:
        b, w = fit(Xd, y, l2)
        b, coefficients = original_scale(b, w, names, scaling)
        cases.append({"file": "lr_numeric.csv", "label": "label", "l2": l2, "class_weight": "none",
                      "intercept": b, "coefficients": coefficients})
    return cases


def case_mixed(rng):
    n = 800
    age = rng.normal(40, 12, n)
    visits = rng.poisson(3, n).astype(float)
    device = rng.choice(["mobile", "desktop", "tablet"], n, p=[0.5, 0.4, 0.1])
    source = rng.choice(["ads", "email", "organic", "social"], n)
    age_missing = rng.random(n) < 0.1
    logit = -2.0 + 0.03 * (age - 40) + 0.4 * visits + np.where(device == "desktop", 0.5, 0.0) \
        + np.where(source == "email", 0.8, 0.0) + np.where(age_missing, -0.5, 0.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    ages = [None if m else float(a) for a, m in zip(age, age_missing)]
    rows = [[ages[i], float(visits[i]), str(device[i]), str(source[i]), "yes" if y[i] else "no"] for i in range(n)]
    write_csv(os.path.join(OUT, "lr_mixed.csv"), ["age", "visits", "device", "source", "bought"], rows)
    columns = {"age": ages, "visits": list(map(float, visits)), "device": list(device), "source": list(source)}
    kinds = {"age": "numeric", "visits": "numeric", "device": "categorical", "source": "categorical"}
    Xd, names, scaling = design(columns, kinds)
    cases = []
    for l2, class_weight in [(2.5, "none"), (0.5, "balanced")]:
        weights = None
        if class_weight == "balanced":
            pos = y.sum()
            weights = np.where(y == 1, n / (2 * pos), n / (2 * (n - pos)))
        b, w = fit(Xd, y, l2, weights)
        b, coefficients = original_scale(b, w, names, scaling)
        cases.append({"file": "lr_mixed.csv", "label": "bought", "l2": l2, "class_weight": class_weight,
                      "intercept": b, "coefficients": coefficients})
    return cases


def case_weighted():
    """Sample weights (issue 13): a numeric and a categorical input, weights in [0, 4] with some exactly 0. Rows of
    weight 0 are left out of Propensity's fit, so the design (standardization) is built on the others; scikit-learn
    gets the same rows with sample_weight."""
    rng = np.random.default_rng(20261202)
    n = 700
    x = rng.normal(2.0, 1.5, n)
    channel = rng.choice(["ads", "email", "direct"], n, p=[0.5, 0.3, 0.2])
    logit = -1.2 + 0.9 * (x - 2) + np.where(channel == "email", 0.7, 0.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    w = np.round(rng.uniform(0, 4, n), 2)
    w[rng.random(n) < 0.08] = 0.0
    rows = [[float(x[i]), str(channel[i]), float(w[i]), int(y[i])] for i in range(n)]
    write_csv(os.path.join(OUT, "lr_weighted.csv"), ["x", "channel", "w", "label"], rows)
    kept = w > 0
    columns = {"x": list(map(float, x[kept])), "channel": list(channel[kept])}
    Xd, names, scaling = design(columns, {"x": "numeric", "channel": "categorical"})
    cases = []
    for l2 in [0.5, 2.0]:  # with full one-hot groups an unpenalized fit is not identifiable
        b, coef = fit(Xd, y[kept], l2, np.array([as_read(v) for v in w[kept]]))
        b, coefficients = original_scale(b, coef, names, scaling)
        cases.append({"file": "lr_weighted.csv", "label": "label", "l2": l2, "class_weight": "none", "weight": "w",
                      "intercept": b, "coefficients": coefficients})
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261129)
    cases = case_numeric(rng) + case_mixed(rng) + case_weighted()
    with open(os.path.join(OUT, "lr_sklearn_reference.json"), "w") as f:
        json.dump({"generator": "Tests/Fixtures/make_lr_fixtures.py", "cases": cases}, f, indent=2, sort_keys=True)
    print(f"wrote {len(cases)} cases to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
