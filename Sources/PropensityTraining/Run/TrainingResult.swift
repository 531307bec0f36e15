import PropensityMetrics
import PropensityModel

/// What a training run produced: the model with its metadata, and what the caller reports.
public struct TrainingResult: Sendable {
    /// The fitted model, metadata filled in (parameters, provenance, metrics), ready to be saved.
    public var model: Model
    public var train: BinaryMetrics
    /// nil when the validation fraction was 0.
    public var validation: BinaryMetrics?
    public var trainRows: Int
    public var validationRows: Int
    public var fit: Fit
    /// Seconds spent fitting (encoding or binning included, metrics not; cross-fitting for calibration included).
    public var fitSeconds: Double
    /// The calibrator, when one was asked for. `train` and `validation` measure the uncalibrated model.
    public var calibration: CalibrationOutcome? = nil

    /// What the trainer reports beyond the model.
    public enum Fit: Sendable {
        case logistic(report: SolverReport, encodedFeatures: Int)
        /// The boosting fit; its margins are left empty (they became the metrics).
        case gbdt(GBDTFit)
    }

    /// One line on what was fitted, e.g. "gradient-boosted trees, 100 trees".
    public var summary: String {
        switch fit {
        case .logistic(let report, let encoded):
            "logistic regression, \(encoded) encoded features, \(report.iterations) \(report.solver) iterations"
        case .gbdt(let g):
            "gradient-boosted trees, \(g.treeCount) trees"
        }
    }
}
