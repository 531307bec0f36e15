import json
import os
import sys
import time

from .common import BIN, WORK, peer, ratio, real_dataset, record, run, summary

# Rows the search sees: the training split of each real data set (datasets_real.py); nycflights13 is subsampled so
# that a search takes minutes, not hours, on two cores.
DATASETS = {"bank_marketing": ("y", "yes", None), "flights": ("late", "1", 60_000), "online_shoppers": ("Revenue", "True", None)}
FOLDS, SEED = 5, 42


def with_folds(name, rows):
    """The training split (subsampled to `rows`) with a `fold` column from scikit-learn's StratifiedKFold, so both
    tuners cross-validate on the same folds."""
    out = os.path.join(WORK, f"tune-{name}-{rows or 'all'}.csv")
    if os.path.exists(out):
        return out
    import pandas as pd
    from sklearn.model_selection import StratifiedKFold
    label = DATASETS[name][0]
    df = pd.read_csv(real_dataset(name)[0], dtype=str, keep_default_na=False)
    if rows and len(df) > rows:
        df = df.sample(n=rows, random_state=SEED).sort_index()
    fold = [0] * len(df)
    for k, (_, held_out) in enumerate(StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(df, df[label])):
        for i in held_out:
            fold[i] = k
    df["fold"] = fold
    df.to_csv(out, index=False)
    return out


def propensity_tune(data, label, trials, max_trees):
    """`propensity tune` end to end (read, search, refit, save; the positive label value inferred, as
    gbdt-accuracy does); returns its report and the wall time."""
    report, model = os.path.join(WORK, "tune-report.json"), os.path.join(WORK, "tune.model")
    start = time.perf_counter()
    run([BIN, "tune", "--data", data, "--label", label, "--fold-column", "fold",
         "--trials", str(trials), "--max-trees", str(max_trees), "--threads", "2", "--seed", str(SEED),
         "--out", model, "--report-json", report])
    seconds = time.perf_counter() - start
    with open(report) as f:
        return json.load(f), seconds


def optuna_tune(data, label, positive, trials, max_trees):
    return peer("tune_optuna.py", ["--data", data, "--label", label, "--positive", positive, "--fold-column", "fold",
                                   "--trials", str(trials), "--max-trees", str(max_trees), "--threads", "2",
                                   "--seed", str(SEED)])


def run_benchmark(args):
    """`propensity tune` vs Optuna's TPE tuning LightGBM by lgb.cv: same space, trials, folds, early stopping and
    pruning checkpoints (issue 13's bar: best CV AUC ≥ Optuna's in at most half its wall time). A search takes
    minutes and is itself many fits, so each side runs one search (--repeats does not apply)."""
    records = []
    trials, max_trees = (3, 60) if args.quick else (20, 1000)
    names = ["online_shoppers"] if args.quick else ["bank_marketing", "flights"]
    for name in names:
        label, positive, rows = DATASETS[name]
        data = with_folds(name, rows)
        ours = [propensity_tune(data, label, trials, max_trees)]
        theirs = [optuna_tune(data, label, positive, trials, max_trees)]
        auc, peer_auc = ours[0][0]["best_cv_auc"], theirs[0]["best_cv_auc"]
        seconds = summary([s for _, s in ours])
        peer_seconds = summary([t["seconds"] for t in theirs])
        pruned = sum(t["pruned"] for t in ours[0][0]["trials"])
        records.append(record(
            "tune", {"dataset": name, "rows": rows or "all", "folds": FOLDS, "trials": trials, "max_trees": max_trees},
            {"propensity_best_cv_auc": auc, "optuna_lightgbm_best_cv_auc": peer_auc,
             "auc_difference_vs_optuna": auc - peer_auc,
             "propensity_seconds": seconds, "optuna_lightgbm_seconds": peer_seconds,
             "propensity_pruned": pruned, "optuna_pruned": theirs[0]["pruned"],
             "propensity_best_trees": next(t["trees"] for t in ours[0][0]["trials"] if t["trial"] == ours[0][0]["best_trial"]),
             "optuna_best_trees": theirs[0]["best_trees"]},
            {"best_cv_auc_vs_optuna": ratio(auc, peer_auc, "higher", "optuna tpe + lightgbm"),
             "wall_time_vs_optuna": ratio(seconds, peer_seconds, "lower", "optuna tpe + lightgbm")},
            "wall_time_vs_optuna", threads=2))
        print(f"tune {name}: best CV AUC propensity {auc:.4f} ({pruned} of {trials} pruned), optuna+lightgbm "
              f"{peer_auc:.4f} ({theirs[0]['pruned']} pruned); wall {seconds['median']:.0f} s vs "
              f"{peer_seconds['median']:.0f} s", file=sys.stderr)
    return records
