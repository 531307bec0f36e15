import PropensityMetrics
import PropensityTraining

extension CalibrationOutcome {
    /// What `train --calibrate` and `import --calibrate` print: the calibrator and the calibration rows' figures.
    var summary: String {
        let rows = source == "validation" ? "\(rows) validation rows"
            : source.hasPrefix("cross-fitted") ? "\(rows) rows, margins \(source)" : "\(rows) rows of \(source)"
        func line(_ m: BinaryMetrics) -> String {
            "log-loss \(fixed(m.logLoss)), ECE \(fixed(m.expectedCalibrationError)), Brier \(fixed(m.brier))"
        }
        return "calibration: \(calibrator.method.name) on \(rows)\n"
            + "  before: \(line(before))\n"
            + "  after:  \(line(after)) (on the rows it was fitted on: evaluate held-out data for an unbiased figure)"
    }
}
