import ArgumentParser
import Foundation
import PropensityData
import PropensityMetrics
import PropensityModel
import PropensityModelFile
import PropensityScoring
import PropensityTraining

struct Train: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a conversion model from a CSV file.",
        discussion: """
            Logistic regression: --l2 --class-weight --solver --tolerance --max-iterations.
            Gradient-boosted trees (--algorithm gbdt): --trees --learning-rate --max-depth --num-leaves --max-bin \
            --min-child-weight --min-samples-leaf --l2 --min-split-gain --subsample --colsample --scale-pos-weight \
            --early-stopping-rounds --log-every.
            """)

    @Option(help: "Training data (CSV with a header row).") var data: String
    @Option(help: "Label column.") var label: String
    @Option(help: "The label value that means 'converted' (inferred for 1/true/yes).") var positive: String?
    @Option(help: "Columns to ignore, comma-separated (identifiers, leakage).") var drop: String?
    @Option(help: "Columns to treat as categorical, comma-separated.") var categorical: String?
    @Option(help: "Columns that must be numeric, comma-separated.") var numeric: String?
    @Option(help: "Field delimiter: , ; tab | (detected when omitted).") var delimiter: String?
    @Option(help: "Algorithm: logistic or gbdt.") var algorithm: String = "logistic"
    @Option(help: "Fraction held out (stratified) for validation; 0 trains on every row.")
    var validationFraction: Double = 0.2
    @Option(help: "Random seed (validation split, row and feature sampling).") var seed: UInt64 = 42
    @Option(help: "Worker threads.") var threads: Int = 2
    @Option(help: "Output model file.") var out: String
    @Option(help: "Also write timings, solver facts and metrics as JSON to this file (for benchmarks).")
    var reportJSON: String?

    @Option(help: "L2 penalty: on standardized coefficients for logistic (default 1; scikit-learn C = 1/λ), on leaf values for gbdt (default 0).")
    var l2: Double?

    // Logistic regression.
    @Option(help: "Logistic: class weights: none, balanced, or the weight of a positive row.") var classWeight: String = "none"
    @Option(help: "Logistic: solver: auto, newton, lbfgs.") var solver: String = "auto"
    @Option(help: "Logistic: convergence, max |gradient| / rows.") var tolerance: Double = 1e-9
    @Option(help: "Logistic: iteration limit.") var maxIterations: Int = 100

    // Gradient-boosted trees.
    @Option(help: "GBDT: number of trees.") var trees: Int = 100
    @Option(help: "GBDT: learning rate (shrinkage).") var learningRate: Double = 0.1
    @Option(help: "GBDT: depth limit; depth-wise growth to this depth unless --num-leaves is given (default 6).")
    var maxDepth: Int?
    @Option(help: "GBDT: leaf-wise growth up to this many leaves.") var numLeaves: Int?
    @Option(help: "GBDT: histogram bins per feature.") var maxBin: Int = 255
    @Option(help: "GBDT: minimum sum of hessians in a leaf.") var minChildWeight: Double = 1e-3
    @Option(help: "GBDT: minimum rows in a leaf.") var minSamplesLeaf: Int = 20
    @Option(help: "GBDT: minimum loss reduction to split.") var minSplitGain: Double = 0
    @Option(help: "GBDT: fraction of rows sampled per tree.") var subsample: Double = 1
    @Option(help: "GBDT: fraction of features sampled per tree.") var colsample: Double = 1
    @Option(help: "GBDT: weight of positive rows.") var scalePosWeight: Double = 1
    @Option(help: "GBDT: stop when validation log-loss has not improved for this many trees.")
    var earlyStoppingRounds: Int?
    @Option(help: "GBDT: print train/validation metrics every this many trees (0: never).") var logEvery: Int = 10

    func run() async throws {
        try await reportingErrors { try train() }
    }

    func train() throws {
        guard algorithm == "logistic" || algorithm == "gbdt" else {
            throw CLIError("--algorithm \(algorithm) is not available (available: logistic, gbdt)")
        }
        guard validationFraction >= 0, validationFraction < 1 else {
            throw CLIError("--validation-fraction must be in [0, 1)")
        }
        guard threads >= 1 else { throw CLIError("--threads must be at least 1") }
        // Refuse nonsense parameters before reading any data.
        let logisticOptions = algorithm == "logistic" ? try logisticRegressionOptions() : nil
        let gbdtOptions = algorithm == "gbdt" ? try gbdtOptions() : nil

        let csv = CSVOptions(
            delimiter: try parseDelimiter(delimiter), drop: parseList(drop),
            categorical: parseList(categorical) + [label], numeric: parseList(numeric), required: [label])
        let loadStart = DispatchTime.now().uptimeNanoseconds
        var table = try timed("loaded \(data)") { try CSVReader.read(file: data, options: csv) }
        let labels = try LabelReader.read(table, column: label, positive: positive)
        progress("\(table.rowCount) rows, \(table.columns.count - 1) input columns, label '\(label)' positive '\(labels.positive)'")
        let (trainRows, validationRows) = StratifiedSplit.split(
            labels: labels.values, validationFraction: validationFraction, seed: seed)

        let fitStart = DispatchTime.now().uptimeNanoseconds
        var body: Model.Body
        var properties: [(String, String)]
        var summary: String
        var report: [String: Any] = [:]
        var knownScores: [Double]? = nil  // per row of the table, when the trainer already knows them
        if let options = logisticOptions {
            let fit = try timed("fitted logistic regression on \(trainRows.count) rows") {
                try LogisticRegressionTrainer.fit(
                    table: table, labels: labels.values, rows: trainRows, labelColumn: label, options: options)
            }
            let r = fit.report
            progress("\(r.solver): \(r.iterations) iterations, gradient \(String(format: "%.2e", r.gradientNorm)), "
                + (r.converged ? "converged (\(r.stop))" : "NOT converged: \(r.stop)"))
            if !r.converged {
                progress("warning: the solver did not converge (\(r.stop)); the model is saved anyway")
            }
            body = .logisticRegression(fit.model)
            properties = [
                ("l2", String(options.l2)), ("class_weight", classWeight), ("solver", r.solver),
                ("iterations", String(r.iterations)), ("converged", String(r.converged)),
                ("gradient_norm", String(r.gradientNorm)),
            ]
            summary = "logistic regression, \(fit.encodedNames.count) encoded features, \(r.iterations) \(r.solver) iterations"
            report = ["solver": r.solver, "iterations": r.iterations, "converged": r.converged, "gradient_norm": r.gradientNorm]
        } else {
            let options = gbdtOptions!
            let fit = try timed("trained \(trainRows.count) rows") {
                try GBDTTrainer.fit(
                    table: table, labels: labels.values, trainRows: trainRows, validationRows: validationRows,
                    labelColumn: label, options: options
                ) { p in
                    var line = "[\(p.iteration)] train log-loss \(fixed(p.trainLogLoss)) AUC \(fixed(p.trainAUC))"
                    if let l = p.validationLogLoss, let a = p.validationAUC {
                        line += "  validation log-loss \(fixed(l)) AUC \(fixed(a))"
                    }
                    progress(line)
                }
            }
            fit.notes.forEach { progress("note: \($0)") }
            if fit.stoppedEarly {
                progress("stopped early: best validation log-loss \(fixed(fit.bestValidationLogLoss ?? .nan)) at \(fit.treeCount) trees")
            }
            progress("binning \(String(format: "%.3f", fit.binningSeconds)) s, boosting \(String(format: "%.3f", fit.boostingSeconds)) s")
            body = .treeEnsemble(fit.model)
            var known = [Double](repeating: .nan, count: table.rowCount)
            for (k, row) in trainRows.enumerated() { known[row] = Sigmoid.of(fit.trainMargins[k]) }
            for (k, row) in validationRows.enumerated() { known[row] = Sigmoid.of(fit.validationMargins[k]) }
            knownScores = known
            table.columns = []  // binned copies did the training; free the raw columns before the metrics
            let limits = options.limits
            properties = [
                ("trees", String(fit.treeCount)), ("trees_requested", String(options.trees)),
                ("learning_rate", String(options.learningRate)),
                ("growth", options.numLeaves == nil ? "depth-wise" : "leaf-wise"),
                ("max_depth", limits.depth == Int.max ? "none" : String(limits.depth)),
                ("num_leaves", limits.leaves == Int.max ? "none" : String(limits.leaves)),
                ("max_bin", String(options.maxBin)), ("min_child_weight", String(options.minChildWeight)),
                ("min_samples_leaf", String(options.minSamplesLeaf)), ("l2", String(options.l2)),
                ("min_split_gain", String(options.minSplitGain)), ("subsample", String(options.subsample)),
                ("colsample", String(options.colsample)), ("scale_pos_weight", String(options.scalePositiveWeight)),
                ("early_stopping_rounds", options.earlyStoppingRounds.map(String.init) ?? "none"),
                ("stopped_early", String(fit.stoppedEarly)),
            ]
            summary = "gradient-boosted trees, \(fit.treeCount) trees"
            report = [
                "trees": fit.treeCount, "stopped_early": fit.stoppedEarly, "binning_seconds": fit.binningSeconds,
                "boosting_seconds": fit.boostingSeconds,
            ]
        }
        let fitEnd = DispatchTime.now().uptimeNanoseconds

        var model = Model(body: body, metadata: ModelMetadata())
        let scores = try knownScores ?? Scorer(model: model).score(try table.inputRows(model.schema.inputSpecs)).map(Double.init)
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
                ("created", creationTime()),
                ("propensity_version", Propensity.version),
                ("algorithm", algorithm),
                ("source", "propensity train"),
                ("training_data", (data as NSString).lastPathComponent),
                ("label", label),
                ("positive", labels.positive),
                ("training_rows", String(trainRows.count)),
                ("validation_rows", String(validationRows.count)),
                ("training_positives", String(trainRows.reduce(0) { $0 + Int(labels.values[$1]) })),
                ("dropped", parseList(drop).joined(separator: ",")),
                ("seed", String(seed)),
                ("validation_fraction", String(validationFraction)),
            ] + properties,
            metrics: metrics)
        try ModelFile.save(model, to: out)
        if let reportJSON {
            report["load_seconds"] = Double(fitStart - loadStart) / 1e9
            report["fit_seconds"] = Double(fitEnd - fitStart) / 1e9
            report["training_rows"] = trainRows.count
            report["threads"] = threads
            report["metrics"] = Dictionary(metrics.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
            let data = try JSONSerialization.data(withJSONObject: jsonSafe(report), options: [.sortedKeys])
            try data.write(to: URL(fileURLWithPath: reportJSON))
        }

        print("model: \(out) (\(summary))")
        print(trainMetrics.report(title: "training rows"))
        if let v = validationMetrics { print(v.report(title: "validation rows (stratified \(fixed(validationFraction * 100, 0)) %)")) }
    }

    /// Now, or `SOURCE_DATE_EPOCH` (the reproducible-builds convention) so that the same data, parameters and seed
    /// give a byte-identical model file.
    func creationTime() -> String {
        let epoch = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap(TimeInterval.init)
        return ISO8601DateFormatter().string(from: epoch.map { Date(timeIntervalSince1970: $0) } ?? Date())
    }

    func logisticRegressionOptions() throws -> LogisticRegressionOptions {
        var o = LogisticRegressionOptions()
        o.l2 = l2 ?? 1
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
        guard o.l2 >= 0, o.l2.isFinite else { throw CLIError("--l2 must be a finite number ≥ 0") }
        return o
    }

    func gbdtOptions() throws -> GBDTOptions {
        var o = GBDTOptions()
        o.trees = trees
        o.learningRate = learningRate
        o.maxDepth = maxDepth
        o.numLeaves = numLeaves
        o.maxBin = maxBin
        o.minChildWeight = minChildWeight
        o.minSamplesLeaf = minSamplesLeaf
        o.l2 = l2 ?? 0
        o.minSplitGain = minSplitGain
        o.subsample = subsample
        o.colsample = colsample
        o.scalePositiveWeight = scalePosWeight
        o.earlyStoppingRounds = earlyStoppingRounds
        o.threads = threads
        o.seed = seed
        o.logEvery = logEvery
        try o.validate()
        if o.earlyStoppingRounds != nil && validationFraction == 0 {
            throw CLIError("--early-stopping-rounds needs a validation split (--validation-fraction > 0)")
        }
        return o
    }
}
