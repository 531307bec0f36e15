import ArgumentParser
import PropensityData
import PropensityMetrics
import PropensityModel
import PropensityModelFile
import PropensityScoring

struct Evaluate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure a model on labelled data.")

    @Option(help: "Model file.") var model: String
    @Option(help: "Labelled CSV file.") var data: String
    @Option(help: "Label column (default: the one the model was trained with).") var label: String?
    @Option(help: "Positive label value (default: the model's).") var positive: String?
    @Option(help: "Field delimiter: , ; tab | (detected when omitted).") var delimiter: String?
    @Flag(help: "Print one JSON object.") var json = false
    @Option(help: "Sample-weight column: every metric weighted by it (numbers ≥ 0).") var weight: String?
    @Flag(help: "Also score with the calibrator removed and show both (a calibrated model only).")
    var compareUncalibrated = false

    func run() async throws {
        try await reportingErrors {
            let loaded = try ModelFile.load(from: model)
            if compareUncalibrated, loaded.calibrator == nil {
                throw CLIError("\(model) has no calibrator: --compare-uncalibrated needs a model trained or imported with --calibrate")
            }
            let (_, features, labels, weights) = try readLabelledInputs(
                file: data, model: loaded, modelName: model, label: label, positive: positive, delimiter: delimiter,
                weight: weight)
            let scores = Scorer(model: loaded).score(features).map(Double.init)
            let metrics = BinaryMetrics(scores: scores, labels: labels.values, weights: weights)
            let importance = globalImportance(loaded, features: features)
            let uncalibrated = compareUncalibrated
                ? BinaryMetrics(
                    scores: Scorer(model: loaded.uncalibrated).score(features).map(Double.init), labels: labels.values,
                    weights: weights)
                : nil
            if json {
                var object = metrics.json
                object["model"] = model
                object["data"] = data
                if let calibrator = loaded.calibrator { object["calibrator"] = calibrator.method.name }
                if let uncalibrated { object["uncalibrated"] = uncalibrated.json }
                if let importance {
                    object["importance_rows"] = importance.rows
                    object["importance"] = importance.columns.map { ["column": $0.name, "mean_abs_contribution": $0.value] }
                }
                try printJSON(object)
            } else {
                let calibrated = loaded.calibrator.map { " (calibrated: \($0.method.name))" } ?? ""
                print(metrics.report(title: "\(data) scored by \(model)\(calibrated)" + (weight.map { ", weighted by '\($0)'" } ?? "")))
                if let uncalibrated {
                    print("\n" + uncalibrated.report(title: "the same rows, calibrator removed"))
                    print("\ncalibration changes: " + calibrationChanges(from: uncalibrated, to: metrics))
                }
                if let importance {
                    print("\nimportance: mean |contribution| to the log-odds over \(importance.rows) rows")
                    for (name, value) in importance.columns { print("  \(name)  \(fixed(value))") }
                }
            }
        }
    }
}

/// The calibrated figures minus the uncalibrated ones; AUC moves only where isotonic steps tie scores.
private func calibrationChanges(from before: BinaryMetrics, to after: BinaryMetrics) -> String {
    func delta(_ value: Double) -> String { (value >= 0 ? "+" : "") + fixed(value) }
    return "log-loss \(delta(after.logLoss - before.logLoss)), ECE \(delta(after.expectedCalibrationError - before.expectedCalibrationError)), "
        + "Brier \(delta(after.brier - before.brier)), AUC \(delta(after.auc - before.auc))"
}

