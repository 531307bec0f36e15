import Foundation
import PropensityMetrics

extension EvaluationReport {
    /// One self-contained HTML page: tables written here, charts drawn in the browser by the vendored Chart.js from
    /// the JSON of `evaluate --json`, which the page embeds unchanged (id `report-data`). No network is needed.
    public func html(generatedAt: Date = Date()) throws -> String {
        let json = HTMLText.scriptSafeJSON(String(decoding: try jsonData(), as: UTF8.self))
        let title = models.count == 1
            ? "Evaluation of \(models[0].description.path)" : "Champion vs challenger\(models.count > 2 ? "s" : "")"
        var page = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="generator" content="propensity evaluate --report">
            <title>\(HTMLText.escaped(title))</title>
            <style>\(ReportAssets.css)</style>
            </head>
            <body>
            <header><h1>\(HTMLText.escaped(title))</h1>
            <p>on <code>\(HTMLText.escaped(dataset.file))</code>, \(dataset.rows) rows, generated \(ISO8601DateFormatter().string(from: generatedAt))</p></header>

            """
        page += summarySection()
        if !comparisons.isEmpty { page += comparisonSection() }
        page += chartSection()
        page += tablesSection()
        page += modelsSection()
        page += datasetSection()
        page += """
            <footer>Charts drawn with Chart.js \(ChartJS.version) (MIT License), embedded in this file.</footer>
            <script id="report-data" type="application/json">\(json)</script>
            <script>\(ChartJS.source)</script>
            <script>\(ReportAssets.script)</script>
            </body>
            </html>

            """
        return page
    }

    /// Where model `index`'s figures sit in the JSON: the top level for one model, `models.K.` for several.
    func prefix(_ index: Int) -> String { models.count == 1 ? "" : "models.\(index)." }

    private func summarySection() -> String {
        let weightedNote = models[0].metrics.weighted
            ? "<p class=\"note\">Every figure is weighted by <code>\(HTMLText.escaped(dataset.weightColumn ?? "the weight column"))</code>.</p>" : ""
        var rows = ""
        for (i, model) in models.enumerated() {
            let p = prefix(i), m = model.metrics
            let interval = model.aucInterval.map {
                "<td class=\"num\">[" + ReportNumber(value: $0.lower, path: p + "auc_interval.lower").bare + ", "
                    + ReportNumber(value: $0.upper, path: p + "auc_interval.upper").bare + "]</td>"
            } ?? "<td class=\"num\">n/a</td>"
            rows += "<tr><th scope=\"row\"><span class=\"swatch\" data-model=\"\(i)\"></span>\(HTMLText.escaped(model.description.path))</th>"
                + "<td>\(HTMLText.escaped(model.description.kind))\(model.description.calibrator.map { ", " + HTMLText.escaped($0) + " calibrated" } ?? "")</td>"
                + ReportNumber(value: m.auc, path: p + "auc").cell + interval
                + ReportNumber(value: model.curves.averagePrecision, path: p + "average_precision").cell
                + ReportNumber(value: m.logLoss, path: p + "logloss").cell
                + ReportNumber(value: m.brier, path: p + "brier").cell
                + ReportNumber(value: m.expectedCalibrationError, path: p + "ece").cell
                + m.lift.enumerated().map { ReportNumber(value: $1.lift, path: p + "lift.\($0).lift", decimals: 2).cell }.joined()
                + "</tr>\n"
        }
        let liftHeaders = models[0].metrics.lift.map { "<th>lift top \(String(format: "%g", 100 * $0.fraction)) %</th>" }.joined()
        var section = """
            <section id="summary"><h2>Summary</h2>\(weightedNote)
            <table class="metrics"><thead><tr><th>model</th><th>kind</th><th>AUC</th><th>AUC 95 % CI (DeLong)</th><th>average precision</th>
            <th>log-loss</th><th>Brier</th><th>ECE</th>\(liftHeaders)</tr></thead>
            <tbody>
            \(rows)</tbody></table>

            """
        for (i, model) in models.enumerated() {
            guard let before = model.uncalibrated else { continue }
            let p = prefix(i) + "uncalibrated."
            section += "<p>\(HTMLText.escaped(model.description.path)) with its calibrator removed:</p>"
                + "<table class=\"metrics\"><thead><tr><th>AUC</th><th>log-loss</th><th>Brier</th><th>ECE</th></tr></thead><tbody><tr>"
                + ReportNumber(value: before.auc, path: p + "auc").cell + ReportNumber(value: before.logLoss, path: p + "logloss").cell
                + ReportNumber(value: before.brier, path: p + "brier").cell
                + ReportNumber(value: before.expectedCalibrationError, path: p + "ece").cell + "</tr></tbody></table>\n"
        }
        return section + "</section>\n"
    }

    private func comparisonSection() -> String {
        var rows = ""
        for (k, comparison) in comparisons.enumerated() {
            let p = "comparisons.\(k)."
            let challenger = models[comparison.challenger].description.path
            var cells = comparison.differences.map { ReportNumber(value: $0.value, path: p + "differences." + $0.key, signed: true).cell }.joined()
            if let test = comparison.test {
                cells += ReportNumber(value: test.standardError, path: p + "delong.standard_error").cell
                    + "<td class=\"num\">[" + ReportNumber(value: test.lower, path: p + "delong.ci_lower").bare + ", "
                    + ReportNumber(value: test.upper, path: p + "delong.ci_upper").bare + "]</td>"
                    + ReportNumber(value: test.z, path: p + "delong.z", decimals: 3).cell
                    + ReportNumber(value: test.pValue, path: p + "delong.p_value", decimals: 4, scientificBelow: 1e-4).cell
                    + "<td>\(HTMLText.escaped(verdict(test)))</td>"
            } else {
                cells += "<td colspan=\"5\">\(HTMLText.escaped(comparisonNote ?? "no test"))</td>"
            }
            rows += "<tr><th scope=\"row\">\(HTMLText.escaped(challenger))</th>\(cells)</tr>\n"
        }
        return """
            <section id="comparison"><h2>Challenger − champion</h2>
            <p>Champion: <code>\(HTMLText.escaped(models[0].description.path))</code>. Differences are challenger minus champion
            (for log-loss, Brier and ECE lower is better). The AUC difference is tested with DeLong's paired test on the same rows:
            its standard error, 95 % confidence interval, z and two-sided p-value.</p>
            <table class="metrics"><thead><tr><th>challenger</th><th>Δ AUC</th><th>Δ log-loss</th><th>Δ Brier</th><th>Δ ECE</th>
            <th>Δ average precision</th><th>SE(Δ AUC)</th><th>95 % CI of Δ AUC</th><th>z</th><th>p</th><th>verdict</th></tr></thead>
            <tbody>
            \(rows)</tbody></table></section>

            """
    }

    private func verdict(_ test: DeLong.Comparison) -> String {
        guard test.pValue < 1 - test.level else {
            return "no significant AUC difference at the \(String(format: "%g", 100 * (1 - test.level))) % level"
        }
        return test.difference > 0 ? "challenger's AUC is higher" : "champion's AUC is higher"
    }

    private func chartSection() -> String {
        func chart(_ id: String, _ title: String, _ caption: String) -> String {
            "<figure class=\"chart\"><figcaption>\(title)</figcaption><div class=\"canvas-box\"><canvas id=\"\(id)\" role=\"img\" "
                + "aria-label=\"\(HTMLText.escaped(title))\"></canvas></div><p class=\"caption\">\(caption)</p></figure>\n"
        }
        var charts = chart("chart-roc", "ROC curve", "True positive rate against false positive rate over every threshold; the diagonal is a random ranking.")
            + chart("chart-pr", "Precision–recall curve", "Precision against recall; the dashed line is the positive rate.")
            + chart("chart-gain", "Cumulative gain", "Share of all converters found in the top-scored share of rows.")
            + chart("chart-lift", "Lift by percentile", "Converter rate in the top-scored share of rows over the overall rate.")
            + chart("chart-reliability", "Reliability diagram", "Observed converter rate against mean predicted probability in deciles of the score; the diagonal is perfect calibration.")
            + chart("chart-reliability-counts", "Rows per reliability bin", "The number of rows behind each point of the reliability diagram.")
        for (i, model) in models.enumerated() {
            charts += chart("chart-histogram-\(i)", "Score distribution by class: \(HTMLText.escaped(model.description.path))",
                "Rows per probability bin: converters on the right axis, non-converters on the left.")
        }
        for (i, model) in models.enumerated() {
            if model.description.contributionImportance != nil {
                charts += chart("chart-importance-\(i)", "Importance, mean |contribution|: \(HTMLText.escaped(model.description.path))",
                    "Mean absolute contribution to the log-odds per input column (TreeSHAP or the linear terms).")
            }
            if model.description.gainImportance != nil {
                charts += chart("chart-gain-importance-\(i)", "Importance, total split gain: \(HTMLText.escaped(model.description.path))",
                    "Sum of the loss reduction of every split on the column, over all trees.")
            }
        }
        return "<section id=\"charts\"><h2>Charts</h2><div class=\"grid\">\n\(charts)</div></section>\n"
    }

    private func tablesSection() -> String {
        var out = "<section id=\"tables\"><h2>Lift and calibration tables</h2>\n"
        for (i, model) in models.enumerated() {
            let p = prefix(i), m = model.metrics
            var lift = ""
            for (k, point) in m.lift.enumerated() {
                lift += "<tr>" + ReportNumber(value: point.fraction, path: p + "lift.\(k).fraction", decimals: 0, scale: 100, suffix: " %").cell
                    + ReportNumber.integer(point.rows, path: p + "lift.\(k).rows")
                    + ReportNumber(value: point.lift, path: p + "lift.\(k).lift", decimals: 2).cell
                    + ReportNumber(value: point.captureRate, path: p + "lift.\(k).capture_rate", decimals: 1, scale: 100, suffix: " %").cell + "</tr>\n"
            }
            var bins = ""
            for (k, bin) in m.calibration.enumerated() {
                bins += "<tr><td class=\"num\">\(k + 1)</td>" + ReportNumber.integer(bin.rows, path: p + "calibration.\(k).rows")
                    + ReportNumber(value: bin.minScore, path: p + "calibration.\(k).min_score").cell
                    + ReportNumber(value: bin.maxScore, path: p + "calibration.\(k).max_score").cell
                    + ReportNumber(value: bin.meanPredicted, path: p + "calibration.\(k).mean_predicted").cell
                    + ReportNumber(value: bin.observedRate, path: p + "calibration.\(k).observed_rate").cell + "</tr>\n"
            }
            out += """
                <h3>\(HTMLText.escaped(model.description.path))</h3>
                <div class="pair"><table class="metrics"><caption>Lift</caption><thead><tr><th>top</th><th>rows</th><th>lift</th><th>converters captured</th></tr></thead>
                <tbody>\(lift)</tbody></table>
                <table class="metrics"><caption>Reliability (ECE \(ReportNumber(value: m.expectedCalibrationError, path: p + "ece").bare))</caption>
                <thead><tr><th>bin</th><th>rows</th><th>lowest score</th><th>highest score</th><th>mean predicted</th><th>observed rate</th></tr></thead>
                <tbody>\(bins)</tbody></table></div>

                """
        }
        return out + "</section>\n"
    }

    private func modelsSection() -> String {
        var out = "<section id=\"models\"><h2>Models: metadata and parameters</h2><div class=\"pair\">\n"
        for (i, model) in models.enumerated() {
            let p = prefix(i)
            var rows = "<tr><th scope=\"row\">kind</th><td>\(HTMLText.escaped(model.description.kind))</td></tr>\n"
            if let calibrator = model.description.calibrator {
                rows += "<tr><th scope=\"row\">calibrator</th><td>\(HTMLText.escaped(calibrator))</td></tr>\n"
            }
            for property in model.description.properties {
                rows += "<tr><th scope=\"row\">\(HTMLText.escaped(property.key))</th><td>\(HTMLText.escaped(property.value))</td></tr>\n"
            }
            for metric in model.description.recordedMetrics {
                rows += "<tr><th scope=\"row\">\(HTMLText.escaped(metric.key)) (at training)</th>"
                    + ReportNumber(value: metric.value, path: p + "recorded_metrics." + metric.key).cell + "</tr>\n"
            }
            out += "<table class=\"kv\"><caption>\(HTMLText.escaped(model.description.path))</caption><tbody>\n\(rows)</tbody></table>\n"
        }
        return out + "</div></section>\n"
    }

    private func datasetSection() -> String {
        var rows = ""
        for (k, column) in dataset.columns.enumerated() {
            rows += "<tr><th scope=\"row\">\(HTMLText.escaped(column.name))</th><td>\(column.kind)</td>"
                + ReportNumber.integer(column.missing, path: "dataset.columns.\(k).missing")
                + ReportNumber(value: column.missingRate, path: "dataset.columns.\(k).missing_rate", decimals: 2, scale: 100, suffix: " %").cell
                + "</tr>\n"
        }
        let m = models[0].metrics
        let p = prefix(0)
        let weightRow = dataset.weightColumn.map {
            "<tr><th scope=\"row\">weight column</th><td>\(HTMLText.escaped($0))</td></tr>"
                + "<tr><th scope=\"row\">total weight</th>" + ReportNumber(value: m.totalWeight, path: p + "total_weight", decimals: 1).cell + "</tr>"
                + "<tr><th scope=\"row\">positive weight</th>" + ReportNumber(value: m.positiveWeight, path: p + "positive_weight", decimals: 1).cell + "</tr>"
        } ?? ""
        return """
            <section id="data"><h2>Data</h2><div class="pair">
            <table class="kv"><tbody>
            <tr><th scope="row">file</th><td><code>\(HTMLText.escaped(dataset.file))</code></td></tr>
            <tr><th scope="row">label</th><td><code>\(HTMLText.escaped(dataset.label))</code>, positive value <code>\(HTMLText.escaped(dataset.positiveValue))</code></td></tr>
            <tr><th scope="row">rows</th>\(ReportNumber.integer(dataset.rows, path: "dataset.rows"))</tr>
            <tr><th scope="row">positives</th>\(ReportNumber.integer(dataset.positives, path: "dataset.positives"))</tr>
            <tr><th scope="row">positive rate</th>\(ReportNumber(value: m.positiveRate, path: p + "positive_rate", decimals: 2, scale: 100, suffix: " %").cell)</tr>
            \(weightRow)
            </tbody></table>
            <table class="metrics"><caption>Missing values per input column</caption><thead><tr><th>column</th><th>kind</th><th>missing</th><th>rate</th></tr></thead>
            <tbody>
            \(rows)</tbody></table></div></section>

            """
    }
}
