/// Why a calibrator cannot be fitted on the rows given.
public enum CalibrationError: Error, Equatable, Sendable, CustomStringConvertible {
    case noRows
    /// The calibration rows hold one class only: there is no rate to calibrate to.
    case singleClass(positives: Int, rows: Int)
    /// A margin that is not a finite number (row index within the calibration rows).
    case nonFiniteMargin(row: Int)
    /// Platt scaling on margins that separate the classes perfectly: the likelihood has no finite maximum.
    case separable
    /// Platt scaling found a negative slope: on these rows the model ranks backwards, and calibrating would invert it.
    case reversed(slope: Double)
    /// Newton's method did not settle within its iteration limit.
    case didNotConverge(iterations: Int)

    public var description: String {
        switch self {
        case .noRows: "no calibration rows"
        case .singleClass(let positives, let rows):
            "the calibration rows hold only one class (\(positives) positives in \(rows) rows)"
        case .nonFiniteMargin(let row): "calibration row \(row + 1) has a non-finite margin"
        case .separable:
            "the margins separate the calibration rows' classes perfectly: Platt scaling has no finite fit (use isotonic)"
        case .reversed(let slope):
            "Platt slope \(slope) < 0: the model ranks the calibration rows backwards"
        case .didNotConverge(let iterations): "Platt scaling did not converge in \(iterations) Newton iterations"
        }
    }
}
