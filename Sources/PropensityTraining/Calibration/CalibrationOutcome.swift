import PropensityMetrics
import PropensityModel

/// A fitted calibrator with what the model's metadata and the caller report about it.
public struct CalibrationOutcome: Sendable {
    public var calibrator: Calibrator
    public var source: CalibrationSource
    public var rows: Int
    /// On the calibration rows themselves: the calibrated figures are in-sample for the calibrator.
    public var before: BinaryMetrics
    public var after: BinaryMetrics

    /// Fits `method` on held-out margins and measures the result on them.
    /// - Throws: `CalibrationError` (see `CalibrationFit.fit`).
    public static func fit(
        _ method: CalibrationMethod, margins: [Double], labels: [UInt8], source: CalibrationSource
    ) throws(CalibrationError) -> CalibrationOutcome {
        let calibrator = try CalibrationFit.fit(method, margins: margins, labels: labels)
        return CalibrationOutcome(
            calibrator: calibrator, source: source, rows: margins.count,
            before: BinaryMetrics(scores: margins.map(Sigmoid.of), labels: labels),
            after: BinaryMetrics(scores: margins.map { calibrator.probability(margin: $0) }, labels: labels))
    }

    /// The metadata a calibrated model records (properties; the calibrator itself is the file's CALB section).
    public var properties: [(String, String)] {
        typealias Key = ModelMetadata.Key
        return [(Key.calibration, calibrator.method.name), (Key.calibrationSource, source.description), (Key.calibrationRows, String(rows))]
    }

    public var metrics: [(String, Double)] {
        [
            ("calibration_ece_before", before.expectedCalibrationError),
            ("calibration_ece_after", after.expectedCalibrationError),
            ("calibration_logloss_before", before.logLoss), ("calibration_logloss_after", after.logLoss),
        ]
    }
}

extension Model {
    /// This model with a calibrator fitted on labelled rows it was not trained on (`import --calibrate`).
    /// - Parameters:
    ///   - features: row-major float32 rows in schema order, as the scorer takes them.
    ///   - labels: 0/1, one per row.
    ///   - source: recorded in metadata (for a file, its name, never its path).
    /// - Throws: `CalibrationError`.
    public func calibrated(
        _ method: CalibrationMethod, features: [Float], labels: [UInt8], source: CalibrationSource
    ) throws(CalibrationError) -> (model: Model, outcome: CalibrationOutcome) {
        let width = schema.count
        precondition(width > 0 && features.count == labels.count * width)
        let margins = (0..<labels.count).map { r in margin(Array(features[(r * width)..<((r + 1) * width)])) }
        let outcome = try CalibrationOutcome.fit(method, margins: margins, labels: labels, source: source)
        var model = uncalibrated
        let replaced = Set([ModelMetadata.Key.calibration, ModelMetadata.Key.calibrationSource, ModelMetadata.Key.calibrationRows])
        model.metadata.properties.removeAll { replaced.contains($0.key) }
        model.metadata.metrics.removeAll { $0.key.hasPrefix("calibration_") }
        model.metadata.properties += outcome.properties
        model.metadata.metrics += outcome.metrics
        model.calibrator = outcome.calibrator
        return (model, outcome)
    }
}
