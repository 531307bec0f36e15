import ArgumentParser
import Foundation
import PropensityData
import PropensityMetrics
import PropensityTraining

/// `propensity cv`: K-fold cross-validation with `train`'s algorithms and flags.
struct CrossValidate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cv", abstract: "Cross-validate an algorithm and its parameters on a CSV file.",
        discussion: "Folds are stratified by the label (or keep each --group value in one fold) and seeded; they run in parallel within --threads, each fitted on one thread, so the result does not depend on the thread count.")

    @OptionGroup var input: DataOptions
    @Option(help: "Algorithm: logistic or gbdt.") var algorithm: AlgorithmName = .logistic
    @OptionGroup var folding: FoldFlags
    @Option(help: "Random seed (fold assignment, row and feature sampling).") var seed = TrainingSettings.defaultSeed
    @Option(help: "Folds run at once.") var threads = GBDTOptions().threads
    @Option(help: "L2 penalty, as for train.") var l2: Double?
    @Flag(help: "Print one JSON object.") var json = false
    @OptionGroup(title: "Logistic regression") var logistic: LogisticFlags
    @OptionGroup(title: "Gradient-boosted trees") var gbdt: GBDTFlags

    func run() async throws {
        ProgressReporter.quiet = input.quiet
        try await reportingErrors {
            try folding.validate()
            guard threads >= 1 else { throw CLIError("--threads must be at least 1") }
            do {
                try crossValidate()
            } catch let error as TrainingError {
                throw error.inFlags
            }
        }
    }

    func crossValidate() throws {
        if algorithm == .logistic, gbdt.monotone != nil || gbdt.interactions != nil {
            throw CLIError("--monotone and --interactions constrain trees: use them with --algorithm gbdt")
        }
        let chosen: TrainingAlgorithm = switch algorithm {
        case .logistic: .logistic(logistic.options(l2: l2, threads: 1))
        case .gbdt: .gbdt(try gbdt.options(l2: l2, threads: 1, seed: seed))
        }
        var settings = TrainingSettings(label: input.label, algorithm: chosen)
        settings.seed = seed
        try settings.validate()

        let read = try folding.read(input, seed: seed)
        let (table, labels, weights, assignment) = (read.table, read.labels, read.weights, read.assignment)
        let folds = ProgressReporter(
            "cross-validating", total: Double(Set(assignment).count), unit: .count("folds"), mode: .current())
        let result = try CrossValidation.run(
            table: table, labels: labels.values, weights: weights, folds: assignment, settings: settings,
            threads: threads, scheme: read.scheme, foldFinished: { _ in folds.advance() })
        folds.finish()
        report(result)
    }

    func report(_ result: CrossValidationResult) {
        let names = CrossValidationResult.figureNames
        let weighted = input.weight.map { ", weighted by '\($0)'" } ?? ""
        if json {
            var summary: [String: Any] = [:]
            for name in names {
                let s = result.summary(name)
                summary[name] = ["mean": s.mean, "sd": s.sd]
            }
            let object: [String: Any] = [
                "data": input.data, "algorithm": algorithm.rawValue, "folds": result.folds.count, "scheme": result.scheme,
                "seed": seed, "weighted": input.weight != nil,
                "per_fold": result.folds.map { f -> [String: Any] in
                    var entry: [String: Any] = [
                        "fold": f.index, "train_rows": f.trainRows, "test_rows": f.metrics.rows,
                        "test_positives": f.metrics.positives, "fit_seconds": f.fitSeconds,
                    ]
                    for name in names { entry[name] = CrossValidationResult.figure(name, of: f.metrics) }
                    return entry
                },
                "summary": summary,
            ]
            try? printJSON(object)
            return
        }
        print("\(result.folds.count)-fold cross-validation (\(result.scheme), seed \(seed)\(weighted)): \(algorithm.rawValue)")
        print("  " + ["fold", "train", "test"].map { pad($0, 6) }.joined(separator: "  ") + "   "
            + ["AUC", "log-loss", "Brier", "lift@10%"].map { pad($0, 8) }.joined(separator: "  "))
        for f in result.folds {
            let m = f.metrics
            let cells = names.map { fixed(CrossValidationResult.figure($0, of: m)) }
            print("  " + [String(f.index + 1), String(f.trainRows), String(m.rows)].map { pad($0, 6) }.joined(separator: "  ")
                + "   " + cells.map { pad($0, 8) }.joined(separator: "  "))
        }
        let means = names.map { name in
            let s = result.summary(name)
            return "\(name) \(fixed(s.mean)) ± \(fixed(s.sd))"
        }
        print("  mean ± sd: " + means.joined(separator: ", "))
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }
}
