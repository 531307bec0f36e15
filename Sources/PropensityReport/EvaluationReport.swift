import PropensityMetrics

/// Everything `propensity evaluate` measures for one or more models on one labelled file: what `--json` prints and
/// what `--report` draws (the HTML page embeds this same JSON and draws every chart and table from it).
public struct EvaluationReport: Sendable {
    public var dataset: DatasetSummary
    /// The first model is the champion; every other one is compared with it.
    public var models: [ModelEvaluation]
    /// Each challenger against the champion (empty for one model).
    public var comparisons: [ModelComparison]
    /// Why the comparisons carry no DeLong test (weighted rows, too few of a class).
    public var comparisonNote: String?

    /// Measures each model's scores on the same labelled rows.
    /// - Parameter weights: nil, or one non-negative weight per row; DeLong's test is then left out (it counts rows).
    public init(dataset: DatasetSummary, labels: [UInt8], weights: [Double]?, models scored: [ScoredModel]) {
        precondition(!scored.isEmpty, "at least one model")
        self.dataset = dataset
        models = scored.map { ModelEvaluation($0, labels: labels, weights: weights) }
        comparisons = []
        comparisonNote = nil
        for challenger in scored.indices.dropFirst() {
            var test: DeLong.Comparison?
            if weights == nil {
                do {
                    test = try DeLong.compare(scoresA: scored[0].scores, scoresB: scored[challenger].scores, labels: labels)
                } catch {
                    comparisonNote = "no DeLong test: it needs at least two rows of each class"
                }
            } else {
                comparisonNote = "no DeLong test: it counts rows and is not defined for weighted rows"
            }
            let (a, b) = (models[0], models[challenger])
            comparisons.append(ModelComparison(
                champion: 0, challenger: challenger,
                differences: [
                    ("auc", b.metrics.auc - a.metrics.auc), ("logloss", b.metrics.logLoss - a.metrics.logLoss),
                    ("brier", b.metrics.brier - a.metrics.brier),
                    ("ece", b.metrics.expectedCalibrationError - a.metrics.expectedCalibrationError),
                    ("average_precision", b.curves.averagePrecision - a.curves.averagePrecision),
                ],
                test: test))
        }
    }
}

/// A model's scores on the report's rows, with what describes it.
public struct ScoredModel: Sendable {
    public var description: ModelDescription
    public var scores: [Double]
    /// The same rows scored with the calibrator removed (`--compare-uncalibrated`).
    public var uncalibratedScores: [Double]?

    public init(description: ModelDescription, scores: [Double], uncalibratedScores: [Double]? = nil) {
        self.description = description
        self.scores = scores
        self.uncalibratedScores = uncalibratedScores
    }
}

/// What a model file says about itself, as `inspect` shows it.
public struct ModelDescription: Sendable {
    public var path: String
    /// The model kind's name: "logistic-regression" or "tree-ensemble".
    public var kind: String
    /// "platt" or "isotonic" when the model carries a calibrator.
    public var calibrator: String?
    /// The model's metadata properties (training parameters, source, label) in file order.
    public var properties: [(key: String, value: String)]
    /// Metrics recorded at training time.
    public var recordedMetrics: [(key: String, value: Double)]
    /// Mean |contribution| to the log-odds per input column (largest first) and the rows it was measured on.
    public var contributionImportance: (rows: Int, columns: [(name: String, value: Double)])?
    /// Total split gain and split count per input column for tree ensembles (largest gain first).
    public var gainImportance: [(name: String, gain: Double, splits: Int)]?

    public init(
        path: String, kind: String, calibrator: String?, properties: [(key: String, value: String)],
        recordedMetrics: [(key: String, value: Double)],
        contributionImportance: (rows: Int, columns: [(name: String, value: Double)])?,
        gainImportance: [(name: String, gain: Double, splits: Int)]?
    ) {
        self.path = path
        self.kind = kind
        self.calibrator = calibrator
        self.properties = properties
        self.recordedMetrics = recordedMetrics
        self.contributionImportance = contributionImportance
        self.gainImportance = gainImportance
    }
}

/// One model's figures on the report's rows.
public struct ModelEvaluation: Sendable {
    public var description: ModelDescription
    public var metrics: BinaryMetrics
    public var curves: EvaluationCurves
    /// The AUC's DeLong confidence interval (95 %); nil with weights or fewer than two rows of a class.
    public var aucInterval: DeLong.Estimate?
    public var uncalibrated: BinaryMetrics?

    init(_ scored: ScoredModel, labels: [UInt8], weights: [Double]?) {
        description = scored.description
        metrics = BinaryMetrics(scores: scored.scores, labels: labels, weights: weights)
        curves = EvaluationCurves(scores: scored.scores, labels: labels, weights: weights)
        aucInterval = weights == nil ? try? DeLong.estimate(scores: scored.scores, labels: labels) : nil
        uncalibrated = scored.uncalibratedScores.map { BinaryMetrics(scores: $0, labels: labels, weights: weights) }
    }
}

/// A challenger's AUC against the champion's on the same rows.
public struct ModelComparison: Sendable {
    /// Indices into `EvaluationReport.models`.
    public var champion: Int
    public var challenger: Int
    /// Challenger minus champion for each headline metric (JSON key, difference).
    public var differences: [(key: String, value: Double)]
    /// DeLong's paired test of the AUC difference; nil with weighted rows or too few of a class.
    public var test: DeLong.Comparison?
}

/// The labelled file a report was run on.
public struct DatasetSummary: Sendable {
    public var file: String
    public var label: String
    public var positiveValue: String
    public var weightColumn: String?
    public var rows: Int
    public var positives: Int
    /// Missing values per input column of the (first) model's schema, in schema order.
    public var columns: [ColumnSummary]

    public init(file: String, label: String, positiveValue: String, weightColumn: String?, rows: Int, positives: Int, columns: [ColumnSummary]) {
        self.file = file
        self.label = label
        self.positiveValue = positiveValue
        self.weightColumn = weightColumn
        self.rows = rows
        self.positives = positives
        self.columns = columns
    }
}

public struct ColumnSummary: Sendable {
    public var name: String
    /// "numeric" or "categorical".
    public var kind: String
    public var missing: Int
    public var missingRate: Double

    public init(name: String, kind: String, missing: Int, rows: Int) {
        self.name = name
        self.kind = kind
        self.missing = missing
        missingRate = rows > 0 ? Double(missing) / Double(rows) : .nan
    }
}
