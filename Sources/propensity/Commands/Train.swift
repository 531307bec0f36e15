import ArgumentParser
import Foundation
import PropensityData
import PropensityMetrics
import PropensityModel
import PropensityModelFile
import PropensityTraining

/// The algorithms `--algorithm` names.
enum AlgorithmName: String, ExpressibleByArgument, CaseIterable {
    case logistic, gbdt
}

struct Train: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a conversion model from a CSV file.",
        discussion: """
            Logistic regression: --l2 --class-weight --solver --tolerance --max-iterations.
            Gradient-boosted trees (--algorithm gbdt): --trees --learning-rate --max-depth --num-leaves --max-bin \
            --min-child-weight --min-samples-leaf --l2 --min-split-gain --subsample --colsample --scale-pos-weight \
            --early-stopping-rounds --log-every --gradient-bins --monotone --interactions.
            """)

    @OptionGroup var input: DataOptions
    @Option(help: "Algorithm: logistic or gbdt.") var algorithm: AlgorithmName = .logistic
    @Option(help: "Fraction held out (stratified) for validation; 0 trains on every row.")
    var validationFraction = TrainingSettings.defaultValidationFraction
    @Option(help: "Random seed (validation split, row and feature sampling).") var seed = TrainingSettings.defaultSeed
    @Option(help: "Worker threads.") var threads = GBDTOptions().threads
    @Option(help: "Output model file.") var out: String
    @Option(help: "Also write timings, solver facts and metrics as JSON to this file (for benchmarks).")
    var reportJSON: String?
    @Option(help: "L2 penalty: on standardized coefficients for logistic (default 1; scikit-learn C = 1/λ), on leaf values for gbdt (default 0).")
    var l2: Double?
    @Option(help: "Calibrate the probabilities: platt or isotonic, fitted on the validation rows (or on cross-fitted folds with --validation-fraction 0).")
    var calibrate: CalibrationMethod?
    @Option(help: "Folds for cross-fitted calibration when --validation-fraction is 0.")
    var calibrationFolds = 5
    @OptionGroup(title: "Logistic regression") var logistic: LogisticFlags
    @OptionGroup(title: "Gradient-boosted trees") var gbdt: GBDTFlags

    func run() async throws {
        ProgressReporter.quiet = input.quiet
        try await reportingErrors {
            do {
                try train()
            } catch let error as TrainingError {
                throw error.inFlags
            }
        }
    }

    func train() throws {
        if algorithm == .logistic, gbdt.monotone != nil || gbdt.interactions != nil {
            throw CLIError("--monotone and --interactions constrain trees: use them with --algorithm gbdt")
        }
        let chosen: TrainingAlgorithm = switch algorithm {
        case .logistic: .logistic(logistic.options(l2: l2, threads: threads))
        case .gbdt: .gbdt(try gbdt.options(l2: l2, threads: threads, seed: seed))
        }
        var settings = TrainingSettings(label: input.label, algorithm: chosen)
        settings.validationFraction = validationFraction
        settings.seed = seed
        settings.dataName = (input.data as NSString).lastPathComponent
        settings.dropped = parseList(input.drop)
        settings.created = creationTime()
        settings.version = Propensity.version
        settings.calibration = calibrate
        settings.calibrationFolds = calibrationFolds
        settings.weightColumn = input.weight
        try settings.validate()  // nonsense parameters are refused before any data is read

        let loadStart = DispatchTime.now().uptimeNanoseconds
        let table = try readTable(input.data, options: try input.csvOptions())
        let labels = try LabelReader.read(table, column: input.label, positive: input.positive)
        let weights = try input.weight.map { try WeightReader.read(table, column: $0) }
        let inputs = table.columns.count - 1 - (weights == nil ? 0 : 1)
        progress("\(table.rowCount) rows, \(inputs) input columns, label '\(input.label)' positive '\(labels.positive)'"
            + (input.weight.map { ", weighted by '\($0)'" } ?? ""))
        let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9

        let trees = ProgressReporter("boosting", total: nil, unit: .count("trees"), mode: .current())
        defer { trees.finish() }
        let result = try TrainingRun.run(table: consume table, labels: labels, weights: weights, settings: settings) { p in
            trees.update(Double(p.iteration), total: Double(p.plannedTrees))
            guard p.hasMetrics else { return }
            var line = "[\(p.iteration)] train log-loss \(fixed(p.trainLogLoss)) AUC \(fixed(p.trainAUC))"
            if let l = p.validationLogLoss, let a = p.validationAUC {
                line += "  validation log-loss \(fixed(l)) AUC \(fixed(a))"
            }
            trees.note(line)
        }
        trees.finish()
        var report: [String: Any]
        switch result.fit {
        case .logistic(let r, _):
            progress("fitted logistic regression on \(result.trainRows) rows in \(String(format: "%.3f", result.fitSeconds)) s")
            progress("\(r.solver): \(r.iterations) iterations, gradient \(String(format: "%.2e", r.gradientNorm)), "
                + (r.converged ? "converged (\(r.stop))" : "NOT converged: \(r.stop)"))
            if !r.converged {
                progress("warning: the solver did not converge (\(r.stop)); the model is saved anyway")
            }
            report = ["solver": r.solver, "iterations": r.iterations, "converged": r.converged, "gradient_norm": r.gradientNorm]
        case .gbdt(let g):
            progress("trained \(result.trainRows) rows in \(String(format: "%.3f", result.fitSeconds)) s")
            for note in g.notes { progress("note: \(describe(note))") }
            if g.stoppedEarly {
                progress("stopped early: best validation log-loss \(fixed(g.bestValidationLogLoss ?? .nan)) at \(g.treeCount) trees")
            }
            progress("binning \(String(format: "%.3f", g.binningSeconds)) s, boosting \(String(format: "%.3f", g.boostingSeconds)) s")
            report = [
                "trees": g.treeCount, "stopped_early": g.stoppedEarly, "binning_seconds": g.binningSeconds,
                "boosting_seconds": g.boostingSeconds,
            ]
        }
        try saveModel(result.model, to: out)
        if let reportJSON {
            report["load_seconds"] = loadSeconds
            report["fit_seconds"] = result.fitSeconds
            report["training_rows"] = result.trainRows
            report["threads"] = threads
            report["metrics"] = Dictionary(
                result.model.metadata.metrics.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            let data = try JSONSerialization.data(withJSONObject: jsonSafe(report), options: [.sortedKeys])
            try data.write(to: URL(fileURLWithPath: reportJSON))
        }

        print("model: \(out) (\(result.summary))")
        let weighted = input.weight.map { ", weighted by '\($0)'" } ?? ""
        print(result.train.report(title: "training rows" + weighted + (calibrate == nil ? "" : " (uncalibrated)")))
        if let v = result.validation {
            print(v.report(title: "validation rows (stratified \(fixed(validationFraction * 100, 0)) %)"
                + weighted + (calibrate == nil ? "" : ", uncalibrated")))
        }
        if let c = result.calibration { print(c.summary) }
    }

    func describe(_ note: TrainingNote) -> String {
        switch note {
        case .categoriesCapped(let column, let maxBin, let dropped):
            "'\(column)' has more categories than --max-bin \(maxBin): the \(dropped) rarest score as missing"
        }
    }
}
