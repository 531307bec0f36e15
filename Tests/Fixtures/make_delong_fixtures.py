#!/usr/bin/env python3
"""Regenerates Tests/PropensityMetricsTests/Fixtures/delong_reference.json.

Run: bash Tests/Fixtures/make_fixtures.sh delong  (creates Tests/Fixtures/.venv with scikit-learn, scipy)

DeLong's test computed from its definition, independently of the Swift code's midrank algorithm (Sun & Xu 2014):
each positive's placement V10 = mean over negatives of psi(positive, negative), each negative's V01 = mean over
positives of psi(positive, negative), psi = 1 if the positive scores higher, 1/2 on a tie, 0 otherwise (an m x n
matrix, O(mn)); S10 and S01 the sample covariance matrices of the placements (denominator m-1, n-1); Var = S10/m +
S01/n. The p-value and the interval come from scipy.stats.norm. Also scikit-learn's roc_curve (all thresholds),
precision_recall_curve and average_precision_score on the same rows, for the report's curves.
"""
import json
import os

import numpy as np
from scipy.stats import norm
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

OUT = os.path.join(os.path.dirname(__file__), "..", "PropensityMetricsTests", "Fixtures", "delong_reference.json")


def delong_by_definition(a, b, y):
    pos, neg = y == 1, y == 0
    out = {}
    placements = []
    for s in (a, b):
        psi = (s[pos][:, None] > s[neg][None, :]).astype(float) + 0.5 * (s[pos][:, None] == s[neg][None, :])
        placements.append((psi.mean(axis=1), psi.mean(axis=0)))
    m, n = pos.sum(), neg.sum()
    s10 = np.cov(np.vstack([placements[0][0], placements[1][0]]), ddof=1)
    s01 = np.cov(np.vstack([placements[0][1], placements[1][1]]), ddof=1)
    cov = s10 / m + s01 / n
    auc_a, auc_b = placements[0][0].mean(), placements[1][0].mean()
    diff = auc_b - auc_a
    se = np.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    z = diff / se
    q = norm.ppf(0.975)
    out.update(
        auc_a=auc_a, auc_b=auc_b, var_a=cov[0, 0], var_b=cov[1, 1], covariance=cov[0, 1], difference=diff,
        standard_error=se, z=z, p_value=2 * norm.sf(abs(z)), lower=diff - q * se, upper=diff + q * se,
        v10_a=placements[0][0].tolist(), v01_a=placements[0][1].tolist(),
    )
    assert abs(auc_a - roc_auc_score(y, a)) < 1e-12 and abs(auc_b - roc_auc_score(y, b)) < 1e-12
    return out


def curves(s, y):
    fpr, tpr, thr = roc_curve(y, s, drop_intermediate=False)
    precision, recall, pr_thr = precision_recall_curve(y, s)
    return dict(
        roc_fpr=fpr.tolist(), roc_tpr=tpr.tolist(), roc_thresholds=thr[1:].tolist(),
        # scikit-learn lists the precision-recall curve by increasing threshold, ending at (recall 0, precision 1).
        pr_recall=recall[::-1].tolist(), pr_precision=precision[::-1].tolist(), pr_thresholds=pr_thr[::-1].tolist(),
        average_precision=average_precision_score(y, s),
    )


def main():
    rng = np.random.default_rng(20261205)
    cases = []
    # A large-ish case: two correlated scorers of one latent propensity, continuous scores.
    latent = rng.normal(size=600)
    y = (rng.random(600) < 1 / (1 + np.exp(-(latent - 1.0)))).astype(int)
    a = 1 / (1 + np.exp(-(latent + rng.normal(scale=1.0, size=600))))
    b = 1 / (1 + np.exp(-(latent + rng.normal(scale=0.7, size=600))))
    cases.append(("continuous", a, b, y))
    # Heavy ties: scores rounded to one decimal, within and across the classes.
    cases.append(("ties", np.round(a, 1), np.round(b, 1), y))
    # Small: 9 rows, ties across classes.
    cases.append(("small", np.array([.1, .4, .35, .8, .4, .9, .2, .35, .6]), np.array([.2, .3, .35, .7, .5, .8, .2, .4, .6]),
                  np.array([0, 0, 1, 1, 0, 1, 0, 1, 1])))
    entries = []
    for name, a, b, y in cases:
        entry = dict(name=name, scores_a=a.tolist(), scores_b=b.tolist(), labels=y.tolist())
        entry.update(delong_by_definition(a, b, y))
        entry["curves_a"] = curves(a, y)
        entries.append(entry)
    with open(OUT, "w") as f:
        json.dump({"cases": entries}, f, indent=1)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
