"""Checks `propensity evaluate --report` (run by scripts/report-check).

1. Numbers: the page embeds the JSON of `evaluate --json` unchanged (compared after parsing), and every table cell
   that shows a number names its place in that JSON (data-path) and its exact value (data-value): the value must be
   the JSON's, and the text its rounding.
2. Rendering: headless Chromium loads the page from disk with the network disabled; the browser log has no errors;
   every chart canvas has a Chart.js chart whose data equal the JSON's and whose pixels are not blank.
3. Bad input: a report in a missing directory, models that read different columns, a file without the label: one
   line on stderr, exit status 1, no report written.
"""
import json
import math
import os
import subprocess
import sys
import tempfile
from html.parser import HTMLParser

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

BIN = os.path.abspath(sys.argv[1])
ARTIFACTS = os.path.abspath(sys.argv[2])
README_SHOTS = os.path.abspath(sys.argv[sys.argv.index("--readme-screenshots") + 1]) if "--readme-screenshots" in sys.argv else None
failures = []
passed = 0


def check(condition, what):
    global passed
    if condition:
        passed += 1
    else:
        failures.append(what)
        print("FAIL:", what)


def run(*args, expect_ok=True):
    result = subprocess.run([BIN, *args], capture_output=True, text=True)
    if expect_ok and result.returncode != 0:
        sys.exit(f"propensity {' '.join(args)} failed: {result.stderr}")
    return result


class Cells(HTMLParser):
    """Collects the embedded JSON and every element that carries data-path, with its text."""

    def __init__(self):
        super().__init__()
        self.stack, self.cells, self.data_json, self.in_data = [], [], None, False
        self.canvases = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("id") == "report-data":
            self.in_data, self.data_json = True, ""
        if tag == "canvas":
            self.canvases.append(attrs["id"])
        if "data-path" in attrs:
            self.stack.append([attrs, ""])
        elif self.stack:
            self.stack.append(None)

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_data = False
        if self.stack:
            top = self.stack.pop()
            if top is not None:
                self.cells.append((top[0], top[1]))

    def handle_data(self, data):
        if self.in_data:
            self.data_json += data
        for entry in self.stack:
            if entry is not None:
                entry[1] += data


def lookup(obj, path):
    for key in path.split("."):
        obj = obj[int(key)] if isinstance(obj, list) else obj[key]
    return obj


def check_numbers(html_path, expected, label):
    parser = Cells()
    with open(html_path, encoding="utf-8") as f:
        parser.feed(f.read())
    check(json.loads(parser.data_json) == expected, f"{label}: embedded JSON equals evaluate --json")
    checked = 0
    for attrs, text in parser.cells:
        path = attrs["data-path"]
        value = lookup(expected, path)
        if "data-value" not in attrs:
            check(value is None, f"{label}: {path} shown as n/a but JSON has {value}")
            continue
        exact = float(attrs["data-value"])
        check(value == exact, f"{label}: {path} data-value {exact} vs JSON {value}")
        shown = text.strip().rstrip("%").strip()
        scale, decimals = float(attrs["data-scale"]), int(attrs["data-decimals"])
        number = float(shown)
        if "e" in shown:
            ok = abs(number - value * scale) <= 0.051 * abs(value * scale)
        else:
            ok = abs(number - value * scale) <= 0.5 * 10 ** -decimals * (1 + 1e-9) + 1e-12
        check(ok, f"{label}: {path} shown '{text.strip()}' for {value}")
        checked += 1
    check(checked > 50, f"{label}: {checked} numbers checked against the JSON")
    print(f"{label}: {checked} numbers in the page equal evaluate --json")
    return parser.canvases


def browser():
    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1300,1400",
                 "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"):
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


CHART_STATE = """
const out = {};
for (const canvas of document.querySelectorAll('canvas')) {
  const chart = Chart.getChart(canvas);
  if (!chart) { out[canvas.id] = null; continue; }
  const ctx = canvas.getContext('2d');
  const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted++;
  out[canvas.id] = { width: canvas.width, height: canvas.height, painted: painted,
                     datasets: chart.data.datasets.map(d => ({ label: d.label, data: d.data })) };
}
return out;
"""


def check_render(driver, html_path, expected, canvases, label, shot):
    driver.get("file://" + os.path.abspath(html_path))
    state = driver.execute_script(CHART_STATE)
    logs = [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
    check(not logs, f"{label}: browser console clean, got {logs}")
    check(driver.execute_script("return document.documentElement.dataset.chartsDrawn") == str(len(canvases)),
          f"{label}: the script drew every chart")
    for canvas in canvases:
        entry = state.get(canvas)
        check(entry is not None, f"{label}: {canvas} has a chart")
        if entry is None:
            continue
        check(entry["painted"] > 0.02 * entry["width"] * entry["height"], f"{label}: {canvas} is drawn ({entry['painted']} pixels)")
        check(all(len(d["data"]) > 0 for d in entry["datasets"]), f"{label}: {canvas} datasets non-empty")
    models = expected.get("models", [expected])
    for i, m in enumerate(models):
        roc = state["chart-roc"]["datasets"][i]["data"]
        check(roc == [{"x": p["x"], "y": p["y"]} for p in m["curves"]["roc"]], f"{label}: ROC of model {i} is the JSON's")
        pr = state["chart-pr"]["datasets"][i]["data"]
        check(pr == [{"x": p["x"], "y": p["y"]} for p in m["curves"]["precision_recall"]], f"{label}: PR of model {i} is the JSON's")
        rel = state["chart-reliability"]["datasets"][i]["data"]
        check(rel == [{"x": b["mean_predicted"], "y": b["observed_rate"]} for b in m["calibration"]], f"{label}: reliability of model {i}")
        hist = state[f"chart-histogram-{i}"]["datasets"]
        check(hist[0]["data"] == m["curves"]["histogram"]["negatives"] and hist[1]["data"] == m["curves"]["histogram"]["positives"],
              f"{label}: histogram of model {i}")
        if "importance" in m:
            bars = state[f"chart-importance-{i}"]["datasets"][0]["data"]
            check(bars == [c["mean_abs_contribution"] for c in m["importance"][:20]], f"{label}: importance of model {i}")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1300, height)
    driver.save_screenshot(shot)
    driver.set_window_size(1300, 1400)
    print(f"{label}: rendered in Chromium, {len(canvases)} charts drawn, screenshot {shot}")


def main():
    work = tempfile.mkdtemp()
    os.chdir(work)  # relative paths, as a user would type them (they are shown in the report)
    data = "data.csv"
    run("generate", "--rows", "4000", "--seed", "5", "--out", data)
    lr, gb = "champion-lr.model", "challenger-gbdt.model"
    run("train", "--data", data, "--label", "converted", "--drop", "true_propensity", "--out", lr)
    run("train", "--data", data, "--label", "converted", "--drop", "true_propensity", "--algorithm", "gbdt",
        "--trees", "40", "--num-leaves", "15", "--out", gb)
    single_html, compare_html = os.path.join(work, "single.html"), os.path.join(work, "compare.html")
    run("evaluate", "--model", gb, "--data", data, "--report", single_html)
    single = json.loads(run("evaluate", "--model", gb, "--data", data, "--json").stdout)
    run("evaluate", "--model", lr, "--model", gb, "--data", data, "--report", compare_html)
    compare = json.loads(run("evaluate", "--model", lr, "--model", gb, "--data", data, "--json").stdout)
    check("models" not in single and "auc" in single, "one model keeps the flat JSON shape")
    check(len(compare["models"]) == 2 and "delong" in compare["comparisons"][0], "two models: models and a DeLong comparison")

    single_canvases = check_numbers(single_html, single, "single")
    compare_canvases = check_numbers(compare_html, compare, "compare")
    check(len(compare_canvases) > len(single_canvases), "the comparison draws both models' charts")

    driver = browser()
    try:
        check_render(driver, single_html, single, single_canvases, "single", os.path.join(ARTIFACTS, "report-single.png"))
        check_render(driver, compare_html, compare, compare_canvases, "compare", os.path.join(ARTIFACTS, "report-compare.png"))
        if README_SHOTS:
            for name, page in (("report-compare.png", compare_html), ("report-single.png", single_html)):
                driver.get("file://" + page)
                if name == "report-single.png":
                    driver.execute_script("document.getElementById('charts').scrollIntoView()")
                driver.save_screenshot(os.path.join(README_SHOTS, name))
    finally:
        driver.quit()

    # Bad input: one line on stderr, exit 1, no report.
    missing_dir = os.path.join(work, "no-such-dir", "r.html")
    r = run("evaluate", "--model", gb, "--data", data, "--report", missing_dir, expect_ok=False)
    check(r.returncode == 1 and "no directory" in r.stderr and len(r.stderr.strip().splitlines()) == 1 and not os.path.exists(missing_dir),
          f"report in a missing directory refused in one line: {r.stderr!r}")
    other = "other.model"
    run("train", "--data", data, "--label", "converted", "--drop", "true_propensity,cart_value,device", "--out", other)
    out = os.path.join(work, "bad.html")
    r = run("evaluate", "--model", lr, "--model", other, "--data", data, "--report", out, expect_ok=False)
    check(r.returncode == 1 and "cart_value" in r.stderr and "device" in r.stderr and "--allow-schema-differences" in r.stderr
          and len(r.stderr.strip().splitlines()) == 1 and not os.path.exists(out),
          f"different schemas refused naming the columns: {r.stderr!r}")
    r = run("evaluate", "--model", lr, "--model", other, "--data", data, "--allow-schema-differences", "--json")
    check(r.returncode == 0 and json.loads(r.stdout)["comparisons"][0]["differences"]["auc"] < 0,
          "--allow-schema-differences compares them (dropping the strongest column costs AUC)")
    unlabelled = "unlabelled.csv"
    with open(data) as src, open(unlabelled, "w") as dst:
        rows = [line.rstrip("\n").split(",") for line in src]
        col = rows[0].index("converted")
        for row in rows:
            dst.write(",".join(v for k, v in enumerate(row) if k != col) + "\n")
    r = run("evaluate", "--model", gb, "--data", unlabelled, "--report", out, expect_ok=False)
    check(r.returncode == 1 and "converted" in r.stderr and len(r.stderr.strip().splitlines()) == 1 and not os.path.exists(out),
          f"a file without the label refused in one line: {r.stderr!r}")

    print(f"report-check: {passed} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
