#!/usr/bin/env python3
"""Regenerates Tests/PropensityTrainingTests/Fixtures/calibration_sklearn_reference.json.

Run: bash Tests/Fixtures/make_fixtures.sh calibration  (creates Tests/Fixtures/.venv with scikit-learn)

Each case is a list of margins (log-odds) with 0/1 labels, and what scikit-learn fits on them:
  - isotonic: IsotonicRegression(out_of_bounds="clip") fitted on (margin, label), predicted at `queries`
    (the training margins themselves, points between and beyond them);
  - platt: an unpenalised one-feature LogisticRegression on the margin (slope, intercept), solved by Newton's
    method to a gradient of 1e-12, and its probabilities at `queries`.
Margins are rounded in some cases so that ties occur: scikit-learn averages tied margins' labels before pooling.
"""
import json
import os
import warnings

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

OUT = os.path.join(os.path.dirname(__file__), "..", "PropensityTrainingTests", "Fixtures",
                   "calibration_sklearn_reference.json")


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def case(name, margins, labels):
    margins = np.asarray(margins, dtype=float)
    labels = np.asarray(labels, dtype=int)
    lo, hi = margins.min(), margins.max()
    queries = np.concatenate([
        margins[:50], np.linspace(lo - 1.0, hi + 1.0, 101), [lo, hi, lo - 10.0, hi + 10.0],
    ])
    iso = IsotonicRegression(out_of_bounds="clip").fit(margins, labels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's penalty deprecation notice
        platt = LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-12, max_iter=1000)
        platt.fit(margins[:, None], labels)
    slope, intercept = float(platt.coef_[0, 0]), float(platt.intercept_[0])
    return {
        "name": name, "margins": margins.tolist(), "labels": labels.tolist(), "queries": queries.tolist(),
        "isotonic": iso.predict(queries).tolist(),
        "isotonic_knots": len(iso.X_thresholds_),
        "platt_slope": slope, "platt_intercept": intercept,
        "platt": platt.predict_proba(queries[:, None])[:, 1].tolist(),
    }


def main():
    rng = np.random.default_rng(12)
    cases = []
    # An over-confident model: true log-odds are 0.5 × margin − 1.
    m = rng.normal(0.0, 2.0, 400)
    cases.append(case("overconfident", m, rng.random(400) < sigmoid(0.5 * m - 1.0)))
    # Margins rounded to one decimal: many ties, with mixed labels inside a tie.
    m = np.round(rng.normal(-1.0, 1.5, 300), 1)
    cases.append(case("ties", m, rng.random(300) < sigmoid(1.5 * m + 0.5)))
    # Few rows, labels that violate monotonicity everywhere (pooling across the whole range).
    cases.append(case("small", [-2.0, -1.5, -1.0, -0.2, 0.0, 0.3, 0.9, 1.4, 2.2, 3.0],
                      [1, 0, 0, 1, 0, 1, 0, 0, 1, 1]))
    # Rare positives at large margins, as GBDT margins on imbalanced data.
    m = rng.normal(-3.0, 1.2, 600)
    cases.append(case("rare", m, rng.random(600) < sigmoid(0.8 * m - 0.3)))
    with open(OUT, "w") as f:
        json.dump({"generator": "Tests/Fixtures/make_calibration_fixtures.py",
                   "scikit_learn": __import__("sklearn").__version__, "cases": cases}, f, indent=1)
        f.write("\n")
    print("wrote", os.path.relpath(OUT))


if __name__ == "__main__":
    main()
