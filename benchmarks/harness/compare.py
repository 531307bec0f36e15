#!/usr/bin/env python3
"""Compares the latest benchmark records with earlier ones and flags regressions.

What is compared are the ratios to a peer measured in the same run (absolute times drift between machines and
days; a ratio to a peer on the same machine in the same minute does not). Each ratio carries a noise band from the
recorded extremes (Propensity's min / the peer's max … Propensity's max / the peer's min). A ratio got worse when
the new band lies entirely on the worse side of the reference band: the two runs' spreads do not overlap.

  python -m harness.compare [--history F] [--baseline F] REF     REF: "baseline", "previous", or a commit (prefix) or date (prefix)

Exit status: 0 when no ratio got worse beyond its noise band, 3 when one did (other non-zero codes are failures of
the tool itself, e.g. an unreadable history).
"""
import argparse
import json
import os
import sys

RESULTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "results")
HISTORY = os.path.join(RESULTS, "history.jsonl")
BASELINE = os.path.join(RESULTS, "baseline.jsonl")

# Records written before ratios carried a direction and band: which way their headline ratio is better, and the
# figure it was Propensity's side of (its min/max and the peer's give the band, as for newer records).
LEGACY_BETTER = {"lr-train": "lower", "gbdt-train": "lower", "gbdt-accuracy": "higher", "scoring": "higher",
                 "server": "lower", "model-load": "lower"}
LEGACY_OURS = {"lr-train": "propensity_fit_seconds", "gbdt-train": "propensity_fit_seconds",
               "gbdt-accuracy": "propensity_auc", "scoring": "propensity_rows_per_second"}


def spread(x):
    return (x["min"], x["max"]) if isinstance(x, dict) else (x, x)


REGRESSION = 3


def load(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def key(record):
    return record["benchmark"] + " " + json.dumps(record.get("params", {}), sort_keys=True)


def ratios(record):
    """Every ratio of a record as {name: (value, (low, high), better)}."""
    if "ratios" in record:
        return {name: (r["value"], tuple(r["band"]), r["better"]) for name, r in record["ratios"].items()}
    if record.get("ratio") is not None and record["benchmark"] in LEGACY_BETTER:
        v, band = record["ratio"], (record["ratio"], record["ratio"])
        ours = record.get("figures", {}).get(LEGACY_OURS.get(record["benchmark"], ""))
        peer = (record.get("peer") or {}).get("figure")
        if ours is not None and peer is not None:
            (olo, ohi), (plo, phi) = spread(ours), spread(peer)
            band = (olo / phi, ohi / plo)
        return {"headline": (v, band, LEGACY_BETTER[record["benchmark"]])}
    return {}


def latest_by_key(records):
    out = {}
    for r in records:
        out[key(r)] = r
    return out


def reference_for(ref, history, latest, baseline_path):
    """The record to compare each latest record with."""
    if ref == "baseline":
        return latest_by_key(load(baseline_path))
    refs = {}
    for k, new in latest.items():
        earlier = [r for r in history if key(r) == k and r is not new]
        if ref == "previous":
            candidates = earlier
        else:
            candidates = [r for r in earlier if str(r.get("commit", "")).startswith(ref) or str(r.get("date", "")).startswith(ref)]
        if candidates:
            refs[k] = candidates[-1]
    return refs


def compare(ref, history_path=HISTORY, baseline_path=BASELINE, out=sys.stdout):
    history = load(history_path)
    latest = latest_by_key(history)
    refs = reference_for(ref, history, latest, baseline_path)
    worse, rows = [], []
    for k, new in sorted(latest.items()):
        old = refs.get(k)
        if old is None:
            continue
        old_ratios, new_ratios = ratios(old), ratios(new)
        if "headline" in old_ratios and new.get("headline") in new_ratios:  # a record from before named ratios
            new_ratios["headline"] = new_ratios.pop(new["headline"])
        for name in sorted(set(old_ratios) & set(new_ratios)):
            (ov, (olo, ohi), better), (nv, (nlo, nhi), _) = old_ratios[name], new_ratios[name]
            if better == "lower":
                regressed = nlo > ohi
                improved = nhi < olo
            else:
                regressed = nhi < olo
                improved = nlo > ohi
            verdict = "WORSE" if regressed else "better" if improved else "within noise"
            rows.append((new["benchmark"], json.dumps(new.get("params", {}), sort_keys=True), name, ov, nv, better, verdict,
                         old.get("commit", "?"), new.get("commit", "?")))
            if regressed:
                worse.append(rows[-1])
    if not rows:
        print(f"nothing to compare against '{ref}' (no matching earlier records)", file=out)
        return 0
    width = max(len(r[2]) for r in rows)
    print(f"{'benchmark':<14} {'ratio':<{width}} {'was':>8} {'now':>8}  {'better':<6}  verdict", file=out)
    for bench, params, name, ov, nv, better, verdict, oc, nc in rows:
        print(f"{bench:<14} {name:<{width}} {ov:8.3f} {nv:8.3f}  {better:<6}  {verdict}  ({oc} → {nc})", file=out)
    if worse:
        print(f"\n{len(worse)} ratio(s) got worse beyond their noise band", file=out)
        return REGRESSION
    print("\nno ratio got worse beyond its noise band", file=out)
    return 0


def set_baseline(history_path=HISTORY, baseline_path=BASELINE):
    latest = latest_by_key(load(history_path))
    with open(baseline_path, "w") as f:
        for k in sorted(latest):
            f.write(json.dumps(latest[k], sort_keys=True) + "\n")
    print(f"baseline: {len(latest)} records written to {os.path.relpath(baseline_path)}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("ref")
    p.add_argument("--history", default=HISTORY)
    p.add_argument("--baseline", default=BASELINE)
    a = p.parse_args()
    sys.exit(compare(a.ref, a.history, a.baseline))
