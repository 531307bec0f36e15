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


def propensity_tune(data, label, trials, max_trees, seed):
    """`propensity tune` end to end (read, search, refit, save; the positive label value inferred, as
    gbdt-accuracy does); returns its report and the wall time."""
    report, model = os.path.join(WORK, "tune-report.json"), os.path.join(WORK, "tune.model")
    start = time.perf_counter()
    run([BIN, "tune", "--data", data, "--label", label, "--fold-column", "fold",
         "--trials", str(trials), "--max-trees", str(max_trees), "--threads", "2", "--seed", str(seed),
         "--out", model, "--report-json", report])
    seconds = time.perf_counter() - start
    with open(report) as f:
        return json.load(f), seconds


def optuna_tune(data, label, positive, trials, max_trees, seed):
    return peer("tune_optuna.py", ["--data", data, "--label", label, "--positive", positive, "--fold-column", "fold",
                                   "--trials", str(trials), "--max-trees", str(max_trees), "--threads", "2",
                                   "--seed", str(seed)])


def run_benchmark(args):
    """`propensity tune` vs Optuna's TPE tuning LightGBM by lgb.cv: same space, trials, folds, early stopping and
    pruning checkpoints (issue 13's bar: best CV AUC ≥ Optuna's in at most half its wall time). A search's best AUC
    depends on the points its seed draws, so each repeat is one search per side with its own seed (42, 43, …) and
    the figures are medians over the seeds."""
    records = []
    trials, max_trees = (3, 60) if args.quick else (20, 1000)
    names = ["online_shoppers"] if args.quick else ["bank_marketing", "flights"]
    seeds = [SEED + i for i in range(args.repeats)]
    for name in names:
        label, positive, rows = DATASETS[name]
        data = with_folds(name, rows)
        ours = [propensity_tune(data, label, trials, max_trees, seed) for seed in seeds]
        theirs = [optuna_tune(data, label, positive, trials, max_trees, seed) for seed in seeds]
        auc = summary([report["best_cv_auc"] for report, _ in ours])
        peer_auc = summary([t["best_cv_auc"] for t in theirs])
        seconds = summary([s for _, s in ours])
        peer_seconds = summary([t["seconds"] for t in theirs])
        # Work done, to tell a faster tuner from one whose trials stopped sooner: trees grown over all folds per second.
        trees = summary([sum(t["grown"] for t in report["trials"]) * FOLDS / s for report, s in ours])
        peer_trees = summary([sum(d["grown"] or 0 for d in t["trial_details"]) * FOLDS / t["seconds"] for t in theirs])
        pruned = [sum(t["pruned"] for t in report["trials"]) for report, _ in ours]
        records.append(record(
            "tune", {"dataset": name, "rows": rows or "all", "folds": FOLDS, "trials": trials, "max_trees": max_trees,
                     "seeds": seeds},
            {"propensity_best_cv_auc": auc, "optuna_lightgbm_best_cv_auc": peer_auc,
             "auc_difference_vs_optuna": auc["median"] - peer_auc["median"],
             "propensity_seconds": seconds, "optuna_lightgbm_seconds": peer_seconds,
             "propensity_fold_trees_per_second": trees, "optuna_lightgbm_fold_trees_per_second": peer_trees,
             "propensity_pruned": pruned, "optuna_pruned": [t["pruned"] for t in theirs]},
            {"best_cv_auc_vs_optuna": ratio(auc, peer_auc, "higher", "optuna tpe + lightgbm"),
             "wall_time_vs_optuna": ratio(seconds, peer_seconds, "lower", "optuna tpe + lightgbm"),
             "tree_throughput_vs_optuna": ratio(trees, peer_trees, "higher", "optuna tpe + lightgbm")},
            "wall_time_vs_optuna", threads=2))
        print(f"tune {name}: best CV AUC propensity {[round(r['best_cv_auc'], 4) for r, _ in ours]} (pruned {pruned}), "
              f"optuna+lightgbm {[round(t['best_cv_auc'], 4) for t in theirs]} (pruned {[t['pruned'] for t in theirs]}); "
              f"wall {[round(s) for _, s in ours]} s vs {[round(t['seconds']) for t in theirs]} s; fold-trees/s "
              f"{trees['median']:.0f} vs {peer_trees['median']:.0f}", file=sys.stderr)
    return records
