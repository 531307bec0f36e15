/// The report page's style sheet and the script that draws its charts from the embedded JSON.
enum ReportAssets {
    static let css = """
        body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d232b; margin: 0 auto;
               max-width: 1280px; padding: 0 24px 40px; background: #fff; }
        header { border-bottom: 1px solid #d6dbe1; margin-bottom: 12px; }
        h1 { font-size: 22px; margin: 18px 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; } h3 { font-size: 15px; }
        code { font: 12.5px ui-monospace, Menlo, Consolas, monospace; background: #f2f4f7; padding: 1px 4px; border-radius: 3px; }
        table { border-collapse: collapse; margin: 6px 0 14px; }
        th, td { padding: 4px 9px; border-bottom: 1px solid #e3e7ec; text-align: left; vertical-align: top; }
        thead th { background: #f5f7f9; font-weight: 600; font-size: 13px; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        caption { text-align: left; font-weight: 600; padding: 4px 0; }
        .note { color: #8a4b00; } .caption { color: #5a6470; font-size: 12.5px; margin: 4px 0 0; }
        .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); gap: 18px; }
        figure.chart { margin: 0; border: 1px solid #e3e7ec; border-radius: 6px; padding: 10px 12px; }
        figcaption { font-weight: 600; margin-bottom: 6px; }
        .canvas-box { position: relative; height: 300px; }
        .pair { display: flex; flex-wrap: wrap; gap: 28px; align-items: flex-start; }
        .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
        table.kv th { font-weight: 500; color: #3b4550; }
        footer { margin-top: 32px; color: #7a848f; font-size: 12px; }
        @media print { .grid { grid-template-columns: 1fr 1fr; } figure.chart { break-inside: avoid; } }
        """

    /// Draws every chart from `report-data` (the JSON of `evaluate --json`): one model's figures at its top level, or
    /// several under `models`. Animation is off so the page is complete once the script has run (for print and tests).
    static let script = #"""
        (function () {
          "use strict";
          const report = JSON.parse(document.getElementById("report-data").textContent);
          const models = report.models || [report];
          const palette = ["#1f6fb4", "#d1495b", "#2a9d6f", "#7b4fb0", "#e08a1e", "#5b6770"];
          const color = (i) => palette[i % palette.length];
          Chart.defaults.animation = false;
          Chart.defaults.maintainAspectRatio = false;
          Chart.defaults.font.family = "system-ui, sans-serif";
          document.querySelectorAll(".swatch").forEach((el) => { el.style.background = color(+el.dataset.model); });

          const name = (m) => m.model.split("/").pop();
          const reference = (points, label) => ({
            label: label, data: points, showLine: true, pointRadius: 0, borderWidth: 1,
            borderColor: "#9aa3ad", borderDash: [5, 4], fill: false,
          });
          const curve = (m, i, points, label) => ({
            label: label, data: points, showLine: true, pointRadius: 0, borderWidth: 2,
            borderColor: color(i), backgroundColor: color(i), fill: false,
          });
          const axis = (title, min, max) => ({ type: "linear", min: min, max: max, title: { display: true, text: title } });
          const lineChart = (id, datasets, xTitle, yTitle, x, y) => new Chart(document.getElementById(id), {
            type: "scatter", data: { datasets: datasets },
            options: { scales: { x: axis(xTitle, x[0], x[1]), y: axis(yTitle, y[0], y[1]) },
                       plugins: { legend: { position: "bottom" } } },
          });
          const fmt = (v) => (v === null ? "n/a" : v.toFixed(4));

          lineChart("chart-roc",
            models.map((m, i) => curve(m, i, m.curves.roc.map((p) => ({ x: p.x, y: p.y })), name(m) + " (AUC " + fmt(m.auc) + ")"))
              .concat([reference([{ x: 0, y: 0 }, { x: 1, y: 1 }], "random")]),
            "false positive rate", "true positive rate", [0, 1], [0, 1]);
          lineChart("chart-pr",
            models.map((m, i) => curve(m, i, m.curves.precision_recall.map((p) => ({ x: p.x, y: p.y })),
              name(m) + " (AP " + fmt(m.average_precision) + ")"))
              .concat([reference([{ x: 0, y: models[0].positive_rate }, { x: 1, y: models[0].positive_rate }], "positive rate")]),
            "recall", "precision", [0, 1], [0, 1]);
          lineChart("chart-gain",
            models.map((m, i) => curve(m, i, [{ x: 0, y: 0 }].concat(m.curves.gain.map((p) => ({ x: 100 * p.fraction, y: 100 * p.capture_rate }))), name(m)))
              .concat([reference([{ x: 0, y: 0 }, { x: 100, y: 100 }], "random")]),
            "top % of rows by score", "% of converters", [0, 100], [0, 100]);
          lineChart("chart-lift",
            models.map((m, i) => curve(m, i, m.curves.gain.map((p) => ({ x: 100 * p.fraction, y: p.lift })), name(m)))
              .concat([reference([{ x: 0, y: 1 }, { x: 100, y: 1 }], "no lift")]),
            "top % of rows by score", "lift", [0, 100], [0, undefined]);
          const reliability = models.map((m, i) => {
            const d = curve(m, i, m.calibration.map((b) => ({ x: b.mean_predicted, y: b.observed_rate })), name(m) + " (ECE " + fmt(m.ece) + ")");
            d.pointRadius = 3;
            return d;
          });
          lineChart("chart-reliability", reliability.concat([reference([{ x: 0, y: 0 }, { x: 1, y: 1 }], "perfect calibration")]),
            "mean predicted probability", "observed converter rate", [0, 1], [0, 1]);
          new Chart(document.getElementById("chart-reliability-counts"), {
            type: "bar",
            data: { labels: models[0].calibration.map((_, k) => "bin " + (k + 1)),
                    datasets: models.map((m, i) => ({ label: name(m), data: m.calibration.map((b) => b.rows), backgroundColor: color(i) })) },
            options: { scales: { y: { title: { display: true, text: "rows" } } }, plugins: { legend: { position: "bottom" } } },
          });
          models.forEach((m, i) => {
            const h = m.curves.histogram;
            new Chart(document.getElementById("chart-histogram-" + i), {
              type: "bar",
              data: {
                labels: h.edges.slice(0, -1).map((e, k) => e.toFixed(2) + "–" + h.edges[k + 1].toFixed(2)),
                datasets: [
                  { label: "non-converters", data: h.negatives, backgroundColor: "rgba(91,103,112,0.55)", yAxisID: "y" },
                  { label: "converters", data: h.positives, backgroundColor: color(i), yAxisID: "y1" },
                ],
              },
              options: {
                scales: {
                  x: { title: { display: true, text: "predicted probability" } },
                  y: { position: "left", title: { display: true, text: "non-converters" } },
                  y1: { position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "converters" } },
                },
                plugins: { legend: { position: "bottom" } },
              },
            });
            const bars = (id, rows, value, label) => {
              const el = document.getElementById(id);
              if (!el) return;
              const top = rows.slice(0, 20);
              new Chart(el, {
                type: "bar",
                data: { labels: top.map((r) => r.column), datasets: [{ label: label, data: top.map(value), backgroundColor: color(i) }] },
                options: { indexAxis: "y", plugins: { legend: { display: false } },
                           scales: { x: { title: { display: true, text: label } }, y: { ticks: { autoSkip: false } } } },
              });
            };
            if (m.importance) bars("chart-importance-" + i, m.importance, (r) => r.mean_abs_contribution, "mean |contribution| (log-odds)");
            if (m.gain_importance) bars("chart-gain-importance-" + i, m.gain_importance, (r) => r.gain, "total split gain");
          });
          document.documentElement.dataset.chartsDrawn = String(Object.keys(Chart.instances).length);
        })();
        """#
}
