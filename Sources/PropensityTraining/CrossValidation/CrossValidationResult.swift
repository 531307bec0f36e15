import PropensityMetrics

/// Per-fold held-out figures and their mean and standard deviation.
public struct CrossValidationResult: Sendable {
    public struct Fold: Sendable {
        public var index: Int
        public var trainRows: Int
        /// The held-out fold's metrics (weighted when the run is).
        public var metrics: BinaryMetrics
        public var fitSeconds: Double
    }

    public var folds: [Fold]
    /// "stratified" or "grouped by COLUMN".
    public var scheme: String

    /// The figures every fold reports, by name: auc, logloss, brier, lift_top_10pct.
    public static let figureNames = ["auc", "logloss", "brier", "lift_top_10pct"]

    public static func figure(_ name: String, of m: BinaryMetrics) -> Double {
        switch name {
        case "auc": m.auc
        case "logloss": m.logLoss
        case "brier": m.brier
        case "lift_top_10pct": m.lift.first { abs($0.fraction - 0.10) < 1e-9 }?.lift ?? .nan
        default: .nan
        }
    }

    /// Mean and sample standard deviation (n − 1) of a figure over the folds.
    public func summary(_ name: String) -> (mean: Double, sd: Double) {
        let values = folds.map { Self.figure(name, of: $0.metrics) }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(1, values.count - 1))
        return (mean, variance.squareRoot())
    }
}
