import PropensityModel

/// Fits a calibrator on held-out margins and their labels.
public enum CalibrationFit {
    /// - Parameters:
    ///   - method: Platt scaling or isotonic regression.
    ///   - margins: the model's margins (log-odds) on rows it was not fitted on.
    ///   - labels: 0/1, one per margin.
    /// - Throws: `CalibrationError` for no rows, one class, a non-finite margin, or (Platt) a fit that does not exist.
    public static func fit(_ method: CalibrationMethod, margins: [Double], labels: [UInt8]) throws(CalibrationError)
        -> Calibrator
    {
        precondition(margins.count == labels.count, "one label per margin")
        guard !margins.isEmpty else { throw .noRows }
        let positives = labels.reduce(0) { $0 + Int($1) }
        guard positives > 0, positives < labels.count else {
            throw .singleClass(positives: positives, rows: labels.count)
        }
        if let bad = margins.firstIndex(where: { !$0.isFinite }) { throw .nonFiniteMargin(row: bad) }
        switch method {
        case .platt:
            let (slope, intercept) = try PlattFit.fit(margins: margins, labels: labels)
            return .platt(slope: slope, intercept: intercept)
        case .isotonic:
            return .isotonic(IsotonicFit.fit(margins: margins, labels: labels))
        }
    }
}
