"""Runs named benchmarks, prints a table and appends one record per benchmark (and configuration) to
benchmarks/results/history.jsonl.

Each record: date, commit, machine (host, OS, CPU model, cores, memory), benchmark name, parameters, thread count,
figures (median / min / max / runs) for Propensity and for the peers measured in the same run, and every ratio
Propensity ÷ peer with its noise band and which direction is better; `headline` names the ratio repeated as `ratio`.

  python -m harness [--only A,B] [--quick] [--repeats N] [--no-record] [--compare REF] [--set-baseline]
(`benchmarks/run` builds the binary and the virtualenv first, then runs this.)
"""
import argparse
import datetime
import json
import os
import sys

from . import compare
from .common import HISTORY, commit, machine
from .registry import BENCHMARKS


def table(records):
    """One line per record: its headline ratio and band, then its other ratios."""
    lines = [f"{'benchmark':<14} {'params':<44} {'headline ratio':<28} {'value':>7}  band"]
    for r in records:
        params = ", ".join(f"{k}={v}" for k, v in r.get("params", {}).items() if k not in ("features",))[:44]
        for i, (name, q) in enumerate((r.get("ratios") or {}).items()):
            lines.append(f"{r['benchmark'] if i == 0 else '':<14} {params if i == 0 else '':<44} {name:<28} "
                         f"{q['value']:7.3f}  [{q['band'][0]:.3f}, {q['band'][1]:.3f}] ({q['better']} is better, vs {q['peer']})")
        if not r.get("ratios"):
            lines.append(f"{r['benchmark']:<14} {params:<44} (no peer)")
    return "\n".join(lines)



def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated: " + ", ".join(BENCHMARKS))
    p.add_argument("--quick", action="store_true", help="small inputs, one repeat (smoke test; not recorded)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--no-record", action="store_true", help="do not append to the history file")
    p.add_argument("--compare", metavar="REF", help="compare the latest records with REF (baseline, previous, a commit "
                   "or a date prefix) and exit non-zero on a regression; runs no benchmark")
    p.add_argument("--set-baseline", action="store_true", help="store the latest record of each benchmark as the baseline")
    args = p.parse_args()
    if args.compare:
        sys.exit(compare.compare(args.compare))
    if args.set_baseline:
        compare.set_baseline()
        return
    if args.quick:
        args.repeats = min(args.repeats, 1)
    names = [n for n in args.only.split(",") if n]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(unknown)} (known: {', '.join(BENCHMARKS)})")
    stamp = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
             "commit": commit(), "machine": machine(), "quick": args.quick}
    done = []
    for name in names:
        for result in BENCHMARKS[name].run_benchmark(args):
            line = json.dumps({**stamp, **result}, sort_keys=True)
            done.append(result)
            if not args.no_record and not args.quick:
                os.makedirs(os.path.dirname(HISTORY), exist_ok=True)
                with open(HISTORY, "a") as f:
                    f.write(line + "\n")
    print(table(done))
    if args.quick or args.no_record:
        print("(not recorded)")
    else:
        print(f"recorded in {os.path.relpath(HISTORY)}; compare with: benchmarks/run --compare previous")


if __name__ == "__main__":
    main()
