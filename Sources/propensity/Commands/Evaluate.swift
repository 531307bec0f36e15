import ArgumentParser
import Foundation
import PropensityData
import PropensityMetrics
import PropensityModel
import PropensityModelFile
import PropensityReport
import PropensityScoring

struct Evaluate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure a model on labelled data, or several side by side.",
        discussion: """
            With several --model flags the first is the champion: every other one is compared with it on the same rows \
            (metric differences and DeLong's paired test of the AUC difference). --report writes everything to one \
            self-contained HTML file with charts.
            """)

    @Option(name: .customLong("model"), help: "Model file; repeat to compare models on the same rows (the first is the champion).")
    var models: [String]
    @Option(help: "Labelled CSV file.") var data: String
    @Option(help: "Label column (default: the one the model was trained with).") var label: String?
    @Option(help: "Positive label value (default: the model's).") var positive: String?
    @Option(help: "Field delimiter: , ; tab | (detected when omitted).") var delimiter: String?
    @Flag(help: "Print one JSON object.") var json = false
    @Option(help: "Write a self-contained HTML report (charts and tables, no network needed) to this file.")
    var report: String?
    @Option(help: "Sample-weight column: every metric weighted by it (numbers ≥ 0).") var weight: String?
    @Flag(help: "Also score with the calibrator removed and show both (calibrated models only).")
    var compareUncalibrated = false
    @Flag(help: "Compare models that read different columns (the file must have every column each one reads).")
    var allowSchemaDifferences = false

    func validate() throws {
        guard !models.isEmpty else { throw ValidationError("name a model with --model") }
    }

    func run() async throws {
        try await reportingErrors {
            if let report { try EvaluationReport.checkReportPath(report) }
            let loaded = try models.map { try ModelFile.load(from: $0) }
            try EvaluationReport.checkComparable(
                zip(models, loaded).map { ($0, $1.schema, $1.metadata[property: ModelMetadata.Key.label]) },
                labelGiven: label != nil, allowSchemaDifferences: allowSchemaDifferences)
            if compareUncalibrated, let i = loaded.firstIndex(where: { $0.calibrator == nil }) {
                throw CLIError("\(models[i]) has no calibrator: --compare-uncalibrated needs a model trained or imported with --calibrate")
            }
            let evaluation = try measure(loaded)
            if let report {
                try evaluation.html().write(toFile: report, atomically: true, encoding: .utf8)
                progress("wrote the report to \(report)")
            }
            if json {
                print(String(decoding: try evaluation.jsonData(), as: UTF8.self))
            } else {
                printText(evaluation)
            }
        }
    }

    /// Reads the file once per distinct schema and scores every model on the same rows.
    private func measure(_ loaded: [Model]) throws -> EvaluationReport {
        let first = try readLabelledInputs(
            file: data, model: loaded[0], modelName: models[0], label: label, positive: positive, delimiter: delimiter,
            weight: weight)
        var scored: [ScoredModel] = []
        for (path, model) in zip(models, loaded) {
            let features = model.schema == loaded[0].schema
                ? first.features
                : try readLabelledInputs(
                    file: data, model: model, modelName: path, label: first.labelColumn, positive: first.labels.positive,
                    delimiter: delimiter, weight: weight).features
            scored.append(ScoredModel(
                description: describe(model, path: path, features: features),
                scores: Scorer(model: model).score(features).map(Double.init),
                uncalibratedScores: compareUncalibrated ? Scorer(model: model.uncalibrated).score(features).map(Double.init) : nil))
        }
        let width = loaded[0].schema.count
        let rows = first.labels.values.count
        let columns = loaded[0].schema.features.enumerated().map { (c, feature) in
            var missing = 0
            for r in 0..<rows where first.features[r * width + c].isNaN { missing += 1 }
            return ColumnSummary(name: feature.name, kind: feature.kind.categories == nil ? "numeric" : "categorical", missing: missing, rows: rows)
        }
        let dataset = DatasetSummary(
            file: data, label: first.labelColumn, positiveValue: first.labels.positive, weightColumn: weight, rows: rows,
            positives: first.labels.values.reduce(0) { $0 + Int($1) }, columns: columns)
        return EvaluationReport(dataset: dataset, labels: first.labels.values, weights: first.weights, models: scored)
    }

    private func describe(_ model: Model, path: String, features: [Float]) -> ModelDescription {
        var gain: [(name: String, gain: Double, splits: Int)]?
        if case .treeEnsemble(let ensemble) = model.body {
            gain = zip(model.schema.features, ensemble.importance)
                .map { (name: $0.0.name, gain: $0.1.gain, splits: $0.1.splits) }
                .sorted { $0.gain > $1.gain }
        }
        return ModelDescription(
            path: path, kind: model.kind.name, calibrator: model.calibrator?.method.name,
            properties: model.metadata.properties.map { ($0.key, $0.value) },
            recordedMetrics: model.metadata.metrics.map { ($0.key, $0.value) },
            contributionImportance: globalImportance(model, features: features), gainImportance: gain)
    }

    private func printText(_ evaluation: EvaluationReport) {
        for (i, model) in evaluation.models.enumerated() {
            if i > 0 { print("") }
            let calibrated = model.description.calibrator.map { " (calibrated: \($0))" } ?? ""
            print(model.metrics.report(
                title: "\(data) scored by \(model.description.path)\(calibrated)" + (weight.map { ", weighted by '\($0)'" } ?? "")))
            if let interval = model.aucInterval {
                print("  AUC 95 % confidence interval (DeLong) [\(fixed(interval.lower)), \(fixed(interval.upper))], average precision \(fixed(model.curves.averagePrecision))")
            }
            if let uncalibrated = model.uncalibrated {
                print("\n" + uncalibrated.report(title: "the same rows, calibrator removed"))
                print("\ncalibration changes: " + calibrationChanges(from: uncalibrated, to: model.metrics))
            }
            if let importance = model.description.contributionImportance {
                print("\nimportance: mean |contribution| to the log-odds over \(importance.rows) rows")
                for (name, value) in importance.columns { print("  \(name)  \(fixed(value))") }
            }
        }
        guard !evaluation.comparisons.isEmpty else { return }
        print("\nchallenger − champion (\(evaluation.models[0].description.path)):")
        for comparison in evaluation.comparisons {
            let differences = comparison.differences.map { "\($0.key) \($0.value >= 0 ? "+" : "")\(fixed($0.value))" }.joined(separator: ", ")
            print("  \(evaluation.models[comparison.challenger].description.path): \(differences)")
            if let test = comparison.test {
                print("    DeLong: Δ AUC \(fixed(test.difference)), SE \(fixed(test.standardError)), 95 % CI [\(fixed(test.lower)), \(fixed(test.upper))], "
                    + "z \(fixed(test.z, 3)), p \(test.pValue < 1e-4 ? String(format: "%.1e", test.pValue) : fixed(test.pValue))")
            }
        }
        if let note = evaluation.comparisonNote { print("  \(note)") }
    }
}

/// The calibrated figures minus the uncalibrated ones; AUC moves only where isotonic steps tie scores.
private func calibrationChanges(from before: BinaryMetrics, to after: BinaryMetrics) -> String {
    func delta(_ value: Double) -> String { (value >= 0 ? "+" : "") + fixed(value) }
    return "log-loss \(delta(after.logLoss - before.logLoss)), ECE \(delta(after.expectedCalibrationError - before.expectedCalibrationError)), "
        + "Brier \(delta(after.brier - before.brier)), AUC \(delta(after.auc - before.auc))"
}
