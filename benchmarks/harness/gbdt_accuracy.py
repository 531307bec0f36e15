import sys

from .common import peer, propensity_gbdt, ratio, real_dataset, record, summary


def run_benchmark(args):
    """Held-out AUC on the real datasets (test = every 5th row) vs LightGBM and XGBoost, matched parameters."""
    records = []
    datasets = [("online_shoppers", "Revenue", "True")] if args.quick else [
        ("online_shoppers", "Revenue", "True"), ("bank_marketing", "y", "yes"), ("flights", "late", "1")]
    for name, label, positive in datasets:
        train, test = real_dataset(name)
        ours = [propensity_gbdt(train, test, label, 2, ["--trees", "100", "--num-leaves", "31", "--max-depth", "8"])
                for _ in range(args.repeats)]
        runs = [peer("gbdt_accuracy.py", ["--train", train, "--test", test,
                                "--label", label, "--positive", positive]) for _ in range(args.repeats)]
        auc = ours[0][2]
        seconds = summary([o[0] for o in ours])
        peer_seconds = {k: summary([r[k]["seconds"] for r in runs]) for k in ("lightgbm", "xgboost")}
        lgb_auc, xgb_auc = runs[0]["lightgbm"]["auc"], runs[0]["xgboost"]["auc"]
        records.append(record(
            "gbdt-accuracy", {"dataset": name, "trees": 100, "num_leaves": 31, "max_depth": 8},
            {"propensity_auc": auc, "lightgbm_auc": lgb_auc, "xgboost_auc": xgb_auc,
             "auc_difference_vs_lightgbm": auc - lgb_auc, "propensity_fit_seconds": seconds,
             "propensity_peak_rss_kb": summary([o[1] for o in ours]),
             **{f"{k}_fit_seconds": v for k, v in peer_seconds.items()}},
            {"auc_vs_lightgbm": ratio(auc, lgb_auc, "higher", "lightgbm"),
             "fit_time_vs_lightgbm": ratio(seconds, peer_seconds["lightgbm"], "lower", "lightgbm")},
            "auc_vs_lightgbm", threads=2))
        print(f"gbdt-accuracy {name}: AUC propensity {auc:.4f}, lightgbm {lgb_auc:.4f}, xgboost {xgb_auc:.4f}; "
              f"fit {seconds['median']:.2f} s vs lightgbm {peer_seconds['lightgbm']['median']:.2f} s, "
              f"xgboost {peer_seconds['xgboost']['median']:.2f} s", file=sys.stderr)
    records += constrained(args)
    return records


# The constraints of Tests/Fixtures/make_gbdt_fixtures.py (issue 13), in the CLI's spelling.
CONSTRAINTS = {
    "online_shoppers": ("PageValues:+1,ExitRates:-1,BounceRates:-1",
                        "Administrative,Administrative_Duration,Informational,Informational_Duration,ProductRelated,"
                        "ProductRelated_Duration;BounceRates,ExitRates,PageValues;SpecialDay,Month,Weekend;"
                        "OperatingSystems,Browser,Region,TrafficType,VisitorType"),
    "bank_marketing": ("campaign:-1,euribor3m:-1",
                       "age,job,marital,education,default,housing,loan;contact,month,day_of_week,campaign,pdays,previous,"
                       "poutcome;emp.var.rate,cons.price.idx,cons.conf.idx,euribor3m,nr.employed"),
}


def constrained(args):
    """The same comparison with monotone and interaction constraints, against LightGBM's advanced monotone method
    (issue 13's bar: AUC ≥ LightGBM − 0.002)."""
    records = []
    names = [("online_shoppers", "Revenue", "True")] + ([] if args.quick else [("bank_marketing", "y", "yes")])
    for name, label, positive in names:
        monotone, interactions = CONSTRAINTS[name]
        train, test = real_dataset(name)
        flags = ["--monotone", monotone, "--interactions", interactions]
        ours = propensity_gbdt(train, test, label, 2, ["--trees", "100", "--num-leaves", "31", "--max-depth", "8"] + flags)
        theirs = peer("gbdt_accuracy.py", ["--train", train, "--test", test, "--label", label, "--positive", positive]
                      + flags)["lightgbm"]
        auc = ours[2]
        records.append(record(
            "gbdt-constraints", {"dataset": name, "trees": 100, "num_leaves": 31, "max_depth": 8,
                                 "monotone": monotone, "interactions": interactions},
            {"propensity_auc": auc, "lightgbm_auc": theirs["auc"], "auc_difference_vs_lightgbm": auc - theirs["auc"],
             "method": "propensity: LightGBM's basic monotone method; lightgbm: monotone_constraints_method=advanced"},
            {"auc_vs_lightgbm": ratio(auc, theirs["auc"], "higher", "lightgbm, advanced monotone method")},
            "auc_vs_lightgbm", threads=2))
        print(f"gbdt-constraints {name}: AUC propensity {auc:.4f}, lightgbm {theirs['auc']:.4f}", file=sys.stderr)
    return records
