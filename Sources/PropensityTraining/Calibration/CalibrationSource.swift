/// Where a calibrator's margins came from; its description is the `calibration_source` metadata value.
public enum CalibrationSource: Sendable, Equatable, CustomStringConvertible {
    /// The training run's validation rows.
    case validation
    /// Out-of-fold margins of every training row (no validation split).
    case crossFitted(folds: Int)
    /// Labelled rows in a file (`import --calibrate`): its name, never its path.
    case file(String)

    public var description: String {
        switch self {
        case .validation: "validation"
        case .crossFitted(let folds): "cross-fitted \(folds) folds"
        case .file(let name): name
        }
    }
}
