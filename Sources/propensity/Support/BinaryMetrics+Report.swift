import PropensityMetrics

extension BinaryMetrics {
    /// The human-readable report printed by `train` and `evaluate`.
    func report(title: String) -> String {
        var lines = [
            title,
            weighted
                ? "  rows \(rows), positives \(positives); weight \(fixed(totalWeight, 1)), positive weight \(fixed(positiveWeight, 1)) "
                    + "(\(fixed(100 * positiveRate, 2)) %); every figure below is weighted"
                : "  rows \(rows), positives \(positives) (\(fixed(100 * positiveRate, 2)) %)",
            "  AUC \(fixed(auc)), log-loss \(fixed(logLoss)), Brier \(fixed(brier))",
            "    top     rows   lift  capture",
        ]
        for point in lift {
            lines.append(
                "  " + pad(fixed(100 * point.fraction, 0) + " %", 6) + pad(String(point.rows), 9)
                    + pad(fixed(point.lift, 2), 7) + pad(fixed(100 * point.captureRate, 1) + " %", 9))
        }
        lines.append("  calibration (deciles of predicted probability), ECE \(fixed(expectedCalibrationError))")
        lines.append("  bin     rows  predicted  observed")
        for (i, bin) in calibration.enumerated() {
            lines.append(
                "  " + pad(String(i + 1), 3) + pad(String(bin.rows), 9) + pad(fixed(bin.meanPredicted), 11)
                    + pad(fixed(bin.observedRate), 10))
        }
        return lines.joined(separator: "\n")
    }
}

private func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? " " + text : String(repeating: " ", count: width - text.count) + text
}
