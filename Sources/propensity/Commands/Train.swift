import ArgumentParser
import Foundation
import PropensityData
import PropensityMetrics
import PropensityModel
import PropensityModelFile
import PropensityScoring
import PropensityTraining

struct Train: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Train a conversion model from a CSV file.")

    @Option(help: "Training data (CSV with a header row).") var data: String
    @Option(help: "Label column.") var label: String
    @Option(help: "The label value that means 'converted' (inferred for 1/true/yes).") var positive: String?
    @Option(help: "Columns to ignore, comma-separated (identifiers, leakage).") var drop: String?
    @Option(help: "Columns to treat as categorical, comma-separated.") var categorical: String?
    @Option(help: "Columns that must be numeric, comma-separated.") var numeric: String?
    @Option(help: "Field delimiter: , ; tab | (detected when omitted).") var delimiter: String?
    @Option(help: "Algorithm: logistic.") var algorithm: String = "logistic"
    @Option(help: "L2 penalty λ on standardized coefficients (scikit-learn C = 1/λ).") var l2: Double = 1
    @Option(help: "Class weights: none, balanced, or the weight of a positive row.") var classWeight: String = "none"
    @Option(help: "Solver: auto, newton, lbfgs.") var solver: String = "auto"
    @Option(help: "Convergence: max |gradient| / rows.") var tolerance: Double = 1e-9
    @Option(help: "Iteration limit.") var maxIterations: Int = 100
    @Option(help: "Fraction held out (stratified) for validation; 0 trains on every row.")
    var validationFraction: Double = 0.2
    @Option(help: "Random seed for the validation split.") var seed: UInt64 = 42
    @Option(help: "Worker threads.") var threads: Int = 2
    @Option(help: "Output model file.") var out: String
    @Option(help: "Also write timings, solver facts and metrics as JSON to this file (for benchmarks).")
    var reportJSON: String?

    func run() async throws {
        try await reportingErrors { try train() }
    }

    func options() throws -> LogisticRegressionOptions {
        guard algorithm == "logistic" else {
            throw CLIError("--algorithm \(algorithm) is not available (available: logistic)")
        }
        guard validationFraction >= 0, validationFraction < 1 else {
            throw CLIError("--validation-fraction must be in [0, 1)")
        }
        guard threads >= 1 else { throw CLIError("--threads must be at least 1") }
        var o = LogisticRegressionOptions()
        o.l2 = l2
        o.tolerance = tolerance
        o.maxIterations = maxIterations
        o.threads = threads
        guard let s = LogisticRegressionOptions.Solver(rawValue: solver) else {
            throw CLIError("--solver must be auto, newton or lbfgs")
        }
        o.solver = s
        switch classWeight {
        case "none": o.classWeight = .none
        case "balanced": o.classWeight = .balanced
        default:
            guard let w = Double(classWeight), w > 0, w.isFinite else {
                throw CLIError("--class-weight must be none, balanced or a positive number")
            }
            o.classWeight = .positive(w)
        }
        return o
    }

    func train() throws {
        let options = try options()
        let csv = CSVOptions(
            delimiter: try parseDelimiter(delimiter), drop: parseList(drop),
            categorical: parseList(categorical) + [label], numeric: parseList(numeric), required: [label])
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let table = try timed("loaded \(data)") { try CSVReader.read(file: data, options: csv) }
        let fitStart = DispatchTime.now().uptimeNanoseconds
        let labels = try LabelReader.read(table, column: label, positive: positive)
        progress("\(table.rowCount) rows, \(table.columns.count - 1) input columns, label '\(label)' positive '\(labels.positive)'")

        let (trainRows, validationRows) = StratifiedSplit.split(
            labels: labels.values, validationFraction: validationFraction, seed: seed)
        let fit = try timed("fitted logistic regression on \(trainRows.count) rows") {
            try LogisticRegressionTrainer.fit(
                table: table, labels: labels.values, rows: trainRows, labelColumn: label, options: options)
        }
        let fitEnd = DispatchTime.now().uptimeNanoseconds
        let r = fit.report
        progress("\(r.solver): \(r.iterations) iterations, gradient \(String(format: "%.2e", r.gradientNorm)), "
            + (r.converged ? "converged" : "NOT converged: \(r.stopReason ?? "")"))

        var model = Model(body: .logisticRegression(fit.model), metadata: ModelMetadata())
        let scorer = Scorer(model: model)
        let inputs = try table.inputRows(fit.model.schema.inputSpecs)
        let scores = scorer.score(inputs).map(Double.init)
        let trainMetrics = BinaryMetrics(scores: trainRows.map { scores[$0] }, labels: trainRows.map { labels.values[$0] })
        var metrics: [(String, Double)] = [
            ("train_auc", trainMetrics.auc), ("train_logloss", trainMetrics.logLoss), ("train_brier", trainMetrics.brier),
        ]
        var validationMetrics: BinaryMetrics? = nil
        if !validationRows.isEmpty {
            let v = BinaryMetrics(
                scores: validationRows.map { scores[$0] }, labels: validationRows.map { labels.values[$0] })
            metrics += [("validation_auc", v.auc), ("validation_logloss", v.logLoss), ("validation_brier", v.brier)]
            for point in v.lift {
                metrics.append(("validation_lift_top_\(Int((point.fraction * 100).rounded()))pct", point.lift))
            }
            validationMetrics = v
        }
        model.metadata = ModelMetadata(
            properties: [
                ("created", ISO8601DateFormatter().string(from: Date())),
                ("propensity_version", Propensity.version),
                ("algorithm", "logistic"),
                ("source", "propensity train"),
                ("training_data", (data as NSString).lastPathComponent),
                ("label", label),
                ("positive", labels.positive),
                ("training_rows", String(trainRows.count)),
                ("validation_rows", String(validationRows.count)),
                ("training_positives", String(trainRows.reduce(0) { $0 + Int(labels.values[$1]) })),
                ("dropped", parseList(drop).joined(separator: ",")),
                ("l2", String(l2)),
                ("class_weight", classWeight),
                ("seed", String(seed)),
                ("validation_fraction", String(validationFraction)),
                ("solver", r.solver),
                ("iterations", String(r.iterations)),
                ("converged", String(r.converged)),
                ("gradient_norm", String(r.gradientNorm)),
            ],
            metrics: metrics)
        try ModelFile.save(model, to: out)
        if let reportJSON {
            let object: [String: Any] = [
                "load_seconds": Double(fitStart - loadStart) / 1e9,
                "fit_seconds": Double(fitEnd - fitStart) / 1e9,
                "training_rows": trainRows.count, "threads": threads,
                "solver": r.solver, "iterations": r.iterations, "converged": r.converged,
                "gradient_norm": r.gradientNorm,
                "metrics": Dictionary(metrics.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a }),
            ]
            let data = try JSONSerialization.data(withJSONObject: jsonSafe(object), options: [.sortedKeys])
            try data.write(to: URL(fileURLWithPath: reportJSON))
        }

        print("model: \(out) (logistic regression, \(fit.encodedNames.count) encoded features, \(r.iterations) \(r.solver) iterations)")
        print(trainMetrics.report(title: "training rows"))
        if let v = validationMetrics { print(v.report(title: "validation rows (stratified \(fixed(validationFraction * 100, 0)) %)")) }
        if !r.converged {
            progress("warning: the solver did not converge (\(r.stopReason ?? "unknown reason")); the model was saved anyway")
        }
    }
}
