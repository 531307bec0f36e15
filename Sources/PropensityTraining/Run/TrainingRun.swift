import Dispatch
import PropensityData
import PropensityDrift
import PropensityInput
import PropensityMetrics
import PropensityModel

/// One training run, as `propensity train` does it: a stratified validation split, the fit, train and validation
/// metrics, and the model's metadata.
public enum TrainingRun {
    /// Fits `settings.algorithm` on `table` (every column but the label is an input; drop columns before reading).
    ///
    /// The table is consumed: its columns are released once the drift profile has read them (for boosting, before
    /// the trees are grown, which need only the bins), as they are the largest allocation of a run.
    /// - Parameters:
    ///   - table: the training data, label column included.
    ///   - labels: the label column as 0/1 values, one per row of `table`.
    ///   - weights: nil, or a sample weight per row of `table` (`WeightReader`, from `settings.weightColumn`, which is
    ///     then not an input). Rows of weight 0 are left out of training; metrics are weighted.
    ///   - settings: label, split, algorithm and provenance.
    ///   - progress: called after every boosting round, with metrics every `logEvery`-th (GBDT only).
    /// - Throws: `TrainingError` for a parameter out of range (before any work), a single-class training split,
    ///   no input columns, or a diverged solver.
    public static func run(
        table: consuming Table, labels: BinaryLabels, weights: [Double]? = nil, settings: TrainingSettings,
        progress: (GBDTProgress) -> Void = { _ in }
    ) throws(TrainingError) -> TrainingResult {
        try settings.validate()
        var table = table
        if let column = settings.weightColumn { table.columns.removeAll { $0.name == column } }
        try checkScorableRange(table, label: settings.label)
        let y = labels.values
        var (trainRows, validationRows) = StratifiedSplit.split(
            labels: y, validationFraction: settings.validationFraction, seed: settings.seed)
        if let weights { trainRows.removeAll { weights[$0] == 0 } }
        let start = DispatchTime.now().uptimeNanoseconds
        let body: Model.Body
        let properties: [(String, String)]
        let fit: TrainingResult.Fit
        var trainerMargins: [Double]? = nil  // per row of the table (boosting knows them)
        var boostedDrift: [DriftBins] = []  // the drift reference's input half, read before boosting
        var profilingNanoseconds: UInt64 = 0  // the drift reference is not part of the fit's time
        // Held-out margins for the calibrator: the validation rows', or (no validation split) cross-fitted ones,
        // computed first, while the table is whole.
        var calibrationMargins: (margins: [Double], source: CalibrationSource)? = nil
        if settings.calibration != nil && validationRows.isEmpty {
            calibrationMargins = (
                try crossFittedMargins(table: table, labels: y, weights: weights, settings: settings),
                .crossFitted(folds: settings.calibrationFolds))
        }
        switch settings.algorithm {
        case .logistic(let options):
            let lr = try LogisticRegressionTrainer.fit(
                table: table, labels: y, rows: trainRows, labelColumn: settings.label, options: options,
                rowWeights: weights)
            body = .logisticRegression(lr.model)
            fit = .logistic(report: lr.report, encodedFeatures: lr.encodedNames.count)
            properties = logisticProperties(options, lr.report)
            if settings.calibration != nil && !validationRows.isEmpty {
                calibrationMargins = (heldOutMargins(lr.model, table: table, rows: validationRows), .validation)
            }
        case .gbdt(let options):
            let input = try GBDTTrainer.prepare(
                table: table, labels: y, trainRows: trainRows, validationRows: validationRows,
                labelColumn: settings.label, options: options, rowWeights: weights)
            // The drift reference's inputs are read now, so that the raw columns are released before boosting, which
            // needs only the bins (on a large file the columns are most of a run's memory).
            let specs = input.schema.inputSpecs
            let profiling = DispatchTime.now().uptimeNanoseconds
            boostedDrift = DriftProfileBuilder.featureBins(schema: input.schema) { j in inputColumn(specs[j], table: table) }
            profilingNanoseconds = DispatchTime.now().uptimeNanoseconds - profiling
            let rowCount = table.rowCount
            table.columns = []
            var trees = GBDTTrainer.boost(input, progress: progress)
            body = .treeEnsemble(trees.model)
            properties = gbdtProperties(options, trees)
            var known = [Double](repeating: .nan, count: rowCount)
            for (k, row) in trainRows.enumerated() { known[row] = trees.trainMargins[k] }
            for (k, row) in validationRows.enumerated() { known[row] = trees.validationMargins[k] }
            trainerMargins = known
            if settings.calibration != nil && !validationRows.isEmpty {
                calibrationMargins = (trees.validationMargins, .validation)
            }
            (trees.trainMargins, trees.validationMargins) = ([], [])
            fit = .gbdt(trees)
        }
        var calibration: CalibrationOutcome? = nil
        if let method = settings.calibration, let (margins, source) = calibrationMargins {
            let rows = validationRows.isEmpty ? Array(y.indices) : validationRows
            do {
                calibration = try CalibrationOutcome.fit(method, margins: margins, labels: rows.map { y[$0] }, source: source)
            } catch {
                throw .calibration(error)
            }
        }
        let fitSeconds = Double(DispatchTime.now().uptimeNanoseconds - start - profilingNanoseconds) / 1e9
        // The drift reference is every row of the file, as reported (calibrated) and as the scorer reads it, taken
        // column by column: a row-major copy of a large table would be the run's largest allocation.
        let margins: [Double]
        let drift: DriftProfile?
        switch body {
        case .logisticRegression(let lr):
            margins = logisticMargins(lr, table: table)
            let specs = lr.schema.inputSpecs
            drift = DriftProfileBuilder.profile(schema: lr.schema, scores: reported(margins, calibration)) { j in
                inputColumn(specs[j], table: table)
            }
            table.columns = []
        case .treeEnsemble:
            margins = trainerMargins!
            drift = DriftProfile(
                rows: margins.count, columns: boostedDrift,
                score: DriftProfileBuilder.scoreBins(reported(margins, calibration)))
        }
        let scores = margins.map(Sigmoid.of)

        func measured(_ rows: [Int]) -> BinaryMetrics {
            BinaryMetrics(scores: rows.map { scores[$0] }, labels: rows.map { y[$0] }, weights: weights.map { w in rows.map { w[$0] } })
        }
        let train = measured(trainRows)
        let validation = validationRows.isEmpty ? nil : measured(validationRows)
        var metrics: [(String, Double)] = [
            ("train_auc", train.auc), ("train_logloss", train.logLoss), ("train_brier", train.brier),
        ]
        if let v = validation {
            metrics += [("validation_auc", v.auc), ("validation_logloss", v.logLoss), ("validation_brier", v.brier)]
            for point in v.lift {
                metrics.append(("validation_lift_top_\(Int((point.fraction * 100).rounded()))pct", point.lift))
            }
        }
        typealias Key = ModelMetadata.Key
        let provenance: [(String, String)] = [
            (Key.created, settings.created),
            (Key.propensityVersion, settings.version),
            (Key.algorithm, settings.algorithm.name),
            (Key.source, "propensity train"),
            (Key.trainingData, settings.dataName),
            (Key.label, settings.label),
            (Key.positive, labels.positive),
            (Key.trainingRows, String(trainRows.count)),
            (Key.validationRows, String(validationRows.count)),
            (Key.trainingPositives, String(trainRows.reduce(0) { $0 + Int(y[$1]) })),
            (Key.dropped, settings.dropped.joined(separator: ",")),
            (Key.seed, String(settings.seed)),
            (Key.validationFraction, String(settings.validationFraction)),
        ] + (settings.weightColumn.map { [(Key.weightColumn, $0)] } ?? [])
        let model = Model(
            body: body,
            metadata: ModelMetadata(
                properties: provenance + properties + (calibration?.properties ?? []),
                metrics: metrics + (calibration?.metrics ?? [])),
            calibrator: calibration?.calibrator, drift: drift)
        return TrainingResult(
            model: model, train: train, validation: validation, trainRows: trainRows.count,
            validationRows: validationRows.count, fit: fit, fitSeconds: fitSeconds, calibration: calibration)
    }

    /// Scoring reads float32: a model trained on values beyond its range would be fitted to numbers it can never be
    /// given (they arrive as ±inf, which is refused), so the fit is refused instead, naming the first such value.
    /// Tables keep float32, so such a value was read as ±inf (the CSV parser refuses `inf` written out).
    static func checkScorableRange(_ table: Table, label: String) throws(TrainingError) {
        for column in table.columns where column.kind == .numeric && column.name != label {
            if let row = column.numbers.firstIndex(where: { $0.isInfinite }) {
                throw TrainingError.valueOutOfRange(column: column.name, line: table.rowLines[row])
            }
        }
    }

    /// The probabilities a served model reports for `margins`: calibrated when it has a calibrator.
    static func reported(_ margins: [Double], _ calibration: CalibrationOutcome?) -> [Float] {
        margins.map { Float(calibration?.calibrator.probability(margin: $0) ?? Sigmoid.of($0)) }
    }

    /// Every row's margin from the model's parameters, on the table's rows as the scorer reads them (the scorer's
    /// reference).
    static func logisticMargins(_ model: LogisticRegressionModel, table: Table) -> [Double] {
        let width = model.schema.count
        let features = inputRows(model.schema, table: table)
        return (0..<table.rowCount).map { i in model.margin(features[(i * width)..<((i + 1) * width)]) }
    }

    /// The table's rows as the scorer reads them, for a model fitted on that table.
    static func inputRows(_ schema: FeatureSchema, table: Table) -> [Float] {
        do {
            return try table.inputRows(schema.inputSpecs)
        } catch {
            // The schema was derived from this table's columns, so each is there with its kind.
            preconditionFailure("the fitted schema does not match its own training table: \(error)")
        }
    }

    /// One input of the table as the scorer reads it, for a model fitted on that table.
    static func inputColumn(_ spec: Table.InputSpec, table: Table) -> [Float] {
        do {
            return try table.inputColumn(spec)
        } catch {
            preconditionFailure("the fitted schema does not match its own training table: \(error)")
        }
    }

    static func logisticProperties(_ options: LogisticRegressionOptions, _ r: SolverReport) -> [(String, String)] {
        [
            ("l2", String(options.l2)), ("class_weight", options.classWeight.description), ("solver", r.solver),
            ("iterations", String(r.iterations)), ("converged", String(r.converged)),
            ("gradient_norm", String(r.gradientNorm)),
        ]
    }

    static func gbdtProperties(_ options: GBDTOptions, _ fit: GBDTFit) -> [(String, String)] {
        let limits = options.limits
        return [
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
        ] + (options.gradientBins.map { [("gradient_bins", String($0))] } ?? []) + constraintProperties(options)
    }

    /// `monotone_constraints` as `COLUMN:+1,COLUMN:-1` and `interaction_constraints` as `A,B;C,D`, when set (the
    /// spelling of the CLI's flags).
    static func constraintProperties(_ options: GBDTOptions) -> [(String, String)] {
        var properties: [(String, String)] = []
        if !options.monotone.isEmpty {
            let text = options.monotone.map { "\($0.column):\($0.direction > 0 ? "+1" : "-1")" }.joined(separator: ",")
            properties.append(("monotone_constraints", text))
        }
        if !options.interactions.isEmpty {
            properties.append(("interaction_constraints", options.interactions.map { $0.joined(separator: ",") }.joined(separator: ";")))
        }
        return properties
    }
}
