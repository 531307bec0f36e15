#!/usr/bin/env python3
"""Optuna (TPE) tuning LightGBM by `lightgbm.cv`, the way a data scientist would, over the search space of
docs/tuning.md and with the settings `propensity tune` uses, on the folds a column of the CSV gives:

- sampler: TPESampler(seed, n_startup_trials), the first trial enqueued at LightGBM's defaults (as ours);
- each trial: lgb.cv on the given folds, up to --max-trees rounds, early_stopping(--patience) on the mean AUC;
- pruner: MedianPruner(n_startup_trials=5) fed the trial's best mean AUC at 25, 50, 100, 200, 400 and 800 trees
  (our pruner's checkpoints);
- the best point refitted on every row with its best round count, as `propensity tune` does.

The wall time covers what a user waits for: reading the CSV, the search and the refit. Prints JSON to --out."""
import argparse
import json
import time

import lightgbm as lgb
import optuna

from gbdt_accuracy import load

CHECKPOINTS = (25, 50, 100, 200, 400, 800)


def parameters(trial, threads, seed):
    return {
        "objective": "binary", "metric": "auc", "verbose": -1, "num_threads": threads, "seed": seed,
        "max_bin": 255, "bagging_freq": 1, "feature_pre_filter": False,
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 8, 128, log=True),
        "max_depth": trial.suggest_int("max_depth", 3, 12),
        "min_sum_hessian_in_leaf": trial.suggest_float("min_child_weight", 1e-3, 10, log=True),
        "min_data_in_leaf": trial.suggest_int("min_samples_leaf", 5, 200, log=True),
        "lambda_l2": trial.suggest_float("l2", 1e-8, 10, log=True),
        "bagging_fraction": trial.suggest_float("subsample", 0.5, 1.0),
        "feature_fraction": trial.suggest_float("colsample", 0.5, 1.0),
    }


def pruning_callback(trial, grown):
    """Reports the best mean AUC so far at each checkpoint and stops the trial when the pruner says so."""
    best = [float("-inf")]

    def callback(env):
        grown[trial.number] = env.iteration + 1
        for name, metric, value, _, _ in env.evaluation_result_list:
            if metric == "auc":
                best[0] = max(best[0], value)
        trees = env.iteration + 1
        if trees in CHECKPOINTS:
            trial.report(best[0], trees)
            if trial.should_prune():
                raise optuna.TrialPruned()
    callback.order = 40  # after early_stopping (30), as optuna-integration's callback
    return callback


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--data", required=True, help="CSV with the label and the fold column")
    p.add_argument("--label", required=True)
    p.add_argument("--positive", required=True)
    p.add_argument("--fold-column", required=True)
    p.add_argument("--trials", type=int, required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--max-trees", type=int, default=1000)
    p.add_argument("--patience", type=int, default=50)
    p.add_argument("--startup-trials", type=int, default=10)
    a = p.parse_args()

    start = time.perf_counter()
    X, y = load(a.data, a.label, a.positive)
    fold = X.pop(a.fold_column).to_numpy()
    folds = [((fold != k).nonzero()[0], (fold == k).nonzero()[0]) for k in sorted(set(fold))]
    data = lgb.Dataset(X, y, free_raw_data=False, params={"verbose": -1, "feature_pre_filter": False, "max_bin": 255})
    rounds, grown = {}, {}

    def objective(trial):
        params = parameters(trial, a.threads, a.seed)
        result = lgb.cv(params, data, num_boost_round=a.max_trees, folds=folds,
                        callbacks=[lgb.early_stopping(a.patience, verbose=False), pruning_callback(trial, grown)])
        means = result["valid auc-mean"]
        best = max(range(len(means)), key=lambda i: means[i])
        rounds[trial.number] = best + 1
        return means[best]

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=a.seed, n_startup_trials=a.startup_trials),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5))
    study.enqueue_trial({"learning_rate": 0.1, "num_leaves": 31, "max_depth": 8, "min_child_weight": 1e-3,
                         "min_samples_leaf": 20, "l2": 1e-8, "subsample": 1.0, "colsample": 1.0})
    search_start = time.perf_counter()
    study.optimize(objective, n_trials=a.trials)
    search_seconds = time.perf_counter() - search_start
    best = study.best_trial
    lgb.train(parameters(optuna.trial.FixedTrial(best.params), a.threads, a.seed), data,
              num_boost_round=rounds[best.number])
    seconds = time.perf_counter() - start
    states = [t.state for t in study.trials]
    with open(a.out, "w") as f:
        json.dump({"best_cv_auc": best.value, "best_trial": best.number, "best_trees": rounds[best.number],
                   "best_parameters": best.params, "trials": len(study.trials),
                   "pruned": states.count(optuna.trial.TrialState.PRUNED),
                   "first_trial_cv_auc": study.trials[0].value, "search_seconds": search_seconds,
                   "seconds": seconds,
                   "trial_details": [{"trial": t.number, "state": t.state.name, "value": t.value,
                                      "trees": rounds.get(t.number), "grown": grown.get(t.number),
                                      "seconds": t.duration.total_seconds(), "parameters": t.params}
                                     for t in study.trials]}, f)


if __name__ == "__main__":
    main()
