#!/usr/bin/env python3
"""Renders benchmarks/results/REPORT.md and its charts (PNG, matplotlib) from benchmarks/results/history.jsonl:
the server's latency percentile spectrum against the echo floor, scoring throughput against tree count, GBDT
training time against rows for Propensity and its peers, and every headline ratio over the history."""
import argparse
import collections
import os

import matplotlib

from harness import compare

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")


def label(r):
    shown = {k: v for k, v in r.get("params", {}).items() if k in ("threads", "dataset", "rows", "trees")}
    return r["benchmark"] + (" (" + ", ".join(f"{k} {v}" for k, v in shown.items()) + ")" if shown else "")


def latest(records, benchmark):
    found = [r for r in records if r["benchmark"] == benchmark and not r.get("quick")]
    return found[-1] if found else None


def median(x):
    return x["median"] if isinstance(x, dict) else x


def log_log_chart(ax, fig, path, xlabel, ylabel, title, record):
    """The common finish of the line charts: log axes, labels, the record's date and commit, grid, legend, PNG."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title} ({record['date'][:10]}, {record['commit']})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def latency_chart(server, path):
    """HdrHistogram-style: latency against percentile, the x axis stretched toward the tail (1 / (1 − p))."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, points, style in [("Propensity, 500-tree model, single row", server["figures"]["single_row_percentiles_us"], "-o"),
                                ("echo floor (blocking C, same frame sizes)", server["figures"]["floor_percentiles_us"], "--s")]:
        points = [(p, v) for p, v in points if p < 100]
        ax.plot([1 / (1 - p / 100) for p, _ in points], [v for _, v in points], style, label=name, markersize=3)
    ax.set_xticks([1, 2, 10, 100, 1000, 10000])
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{100 * (1 - 1 / x):g}%"))
    # Log latency too: the tail spans two orders of magnitude above the median.
    log_log_chart(ax, fig, path, "percentile", "round trip, µs", "Loopback round trip, one connection", server)


def trees_chart(record, path):
    counts = sorted(record["figures"], key=int)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, field in [("Propensity", "rows_per_second"), ("XGBoost inplace_predict", "xgboost_rows_per_second"),
                        ("LightGBM predict", "lightgbm_rows_per_second")]:
        values = [median(record["figures"][c].get(field)) if record["figures"][c].get(field) else None for c in counts]
        if any(v is not None for v in values):
            ax.plot([int(c) for c in counts], values, "-o", label=name)
    log_log_chart(ax, fig, path, "trees (depth 6)", "rows per second, 1 thread",
                  "Batch scoring throughput against model size", record)


def training_chart(record, path):
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, field in [("Propensity", "propensity_fit_seconds_by_rows"), ("LightGBM", "lightgbm_fit_seconds_by_rows"),
                        ("XGBoost hist", "xgboost_fit_seconds_by_rows")]:
        points = record["figures"].get(field)
        if points:
            rows = sorted(points, key=int)
            ax.plot([int(r) * 0.8 for r in rows], [median(points[r]) for r in rows], "-o", label=name)
    log_log_chart(ax, fig, path, "training rows (28 features)", "fit seconds, 100 trees, 2 threads",
                  "GBDT training time against rows", record)


def history_chart(records, path):
    """One panel per benchmark configuration: its headline ratio per recorded run, with the noise band."""
    series = collections.OrderedDict()
    for r in records:
        if r.get("ratio") is None or r.get("quick"):
            continue
        series.setdefault(compare.key(r), []).append(r)
    n = len(series)
    if n == 0:
        return False
    cols = 3
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.8 * rows), squeeze=False)
    for ax, (k, runs) in zip(axes.flat, series.items()):
        values = [r["ratio"] for r in runs]
        low = [r["ratios"][r["headline"]]["band"][0] if r.get("ratios") else r["ratio"] for r in runs]
        high = [r["ratios"][r["headline"]]["band"][1] if r.get("ratios") else r["ratio"] for r in runs]
        x = list(range(len(runs)))
        ax.errorbar(x, values, yerr=[[v - lo for v, lo in zip(values, low)], [hi - v for v, hi in zip(values, high)]],
                    fmt="-o", markersize=3, capsize=2)
        ax.axhline(1.0, color="grey", linewidth=0.8, linestyle=":")
        headline = runs[-1].get("headline") or "ratio"
        better = runs[-1]["ratios"][headline]["better"] if runs[-1].get("ratios") else compare.LEGACY_BETTER.get(runs[-1]["benchmark"], "?")
        ax.set_title(f"{label(runs[-1])}\n{headline} ({better} is better)", fontsize=8)
        ax.set_xticks(x)
        ax.set_xticklabels([r.get("commit", "?")[:7] for r in runs], rotation=45, fontsize=6)
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(True, alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def ratio_table(records):
    latest_by_key = collections.OrderedDict()
    for r in records:
        if not r.get("quick"):
            latest_by_key[compare.key(r)] = r
    lines = ["| benchmark | ratio | value | noise band | better | peer | run |", "|---|---|---:|---|---|---|---|"]
    for r in latest_by_key.values():
        for name, q in (r.get("ratios") or {}).items():
            lines.append(f"| {label(r)} | {name} | {q['value']:.3f} | {q['band'][0]:.3f} – {q['band'][1]:.3f} | "
                         f"{q['better']} | {q['peer']} | {r['date'][:10]} {r['commit']} |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--history", default=os.path.join(RESULTS, "history.jsonl"))
    p.add_argument("--out", default=RESULTS, help="folder for REPORT.md and charts/")
    a = p.parse_args()
    records = compare.load(a.history)
    charts = os.path.join(a.out, "charts")
    os.makedirs(charts, exist_ok=True)
    sections = ["# Propensity benchmark report", "",
                f"Generated by `benchmarks/report` from `{os.path.relpath(a.history, a.out)}` ({len(records)} records). "
                "Ratios are Propensity ÷ the peer measured in the same run; the noise band spans the ratios the "
                "recorded min/max allow, and is what `benchmarks/run --compare` treats as noise.", ""]
    server = latest(records, "server")
    if server and "single_row_percentiles_us" in server["figures"]:
        latency_chart(server, os.path.join(charts, "server-latency.png"))
        f = server["figures"]
        sections += ["## Server round trip against the floor", "",
                     f"Single-row requests to a 500-tree depth-6 model over loopback, one connection, blocking client; "
                     f"the floor is a C echo server and client exchanging frames of the same sizes ({f['placement']}). "
                     f"p50 {median(f['single_row_p50_us']):.1f} µs vs {median(f['floor_p50_us']):.1f} µs, "
                     f"p99 {median(f['single_row_p99_us']):.1f} µs vs {median(f['floor_p99_us']):.1f} µs.", "",
                     "![server latency](charts/server-latency.png)", ""]
    trees = latest(records, "scoring-trees")
    if trees:
        trees_chart(trees, os.path.join(charts, "scoring-trees.png"))
        sections += ["## Scoring throughput against tree count", "", "![scoring throughput](charts/scoring-trees.png)", ""]
    scaling = latest(records, "gbdt-scaling")
    if scaling:
        training_chart(scaling, os.path.join(charts, "gbdt-scaling.png"))
        sections += ["## GBDT training time against rows", "", "![training time](charts/gbdt-scaling.png)", ""]
    if history_chart(records, os.path.join(charts, "ratios-history.png")):
        sections += ["## Headline ratios over the history", "",
                     "Each panel is one benchmark configuration; points are recorded runs (by commit), bars the noise band, "
                     "the dotted line parity with the peer.", "", "![ratio history](charts/ratios-history.png)", ""]
    sections += ["## Latest ratios", "", ratio_table(records), ""]
    with open(os.path.join(a.out, "REPORT.md"), "w") as f:
        f.write("\n".join(sections))
    print(f"wrote {os.path.relpath(os.path.join(a.out, 'REPORT.md'))} and {len(os.listdir(charts))} charts")


if __name__ == "__main__":
    main()
