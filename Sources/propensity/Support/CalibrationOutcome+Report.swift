import PropensityMetrics
import PropensityTraining

extension CalibrationOutcome {
    /// What `train --calibrate` and `import --calibrate` print: the calibrator and the calibration rows' figures.
    var summary: String {
        let rows = switch source {
        case .validation: "\(rows) validation rows"
        case .crossFitted: "\(rows) rows, margins \(source)"
        case .file(let name): "\(rows) rows of \(name)"
        }
        func line(_ m: BinaryMetrics) -> String {
            "log-loss \(fixed(m.logLoss)), ECE \(fixed(m.expectedCalibrationError)), Brier \(fixed(m.brier))"
        }
        return "calibration: \(calibrator.method.name) on \(rows)\n"
            + "  before: \(line(before))\n"
            + "  after:  \(line(after)) (on the rows it was fitted on: evaluate held-out data for an unbiased figure)"
    }
}
