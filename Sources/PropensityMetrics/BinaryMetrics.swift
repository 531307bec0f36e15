import Foundation

/// The numbers a remarketing team decides with, for predicted probabilities against 0/1 labels.
public struct BinaryMetrics: Sendable {
    public var rows: Int
    public var positives: Int
    public var auc: Double
    public var logLoss: Double
    public var brier: Double
    public var calibration: [CalibrationBin]
    public var lift: [LiftPoint]

    public var positiveRate: Double { rows == 0 ? .nan : Double(positives) / Double(rows) }

    /// Expected calibration error over the reliability bins: Σ (rows in bin / rows) · |mean predicted − observed
    /// rate|, with the equal-count bins of `calibration` (deciles by default).
    public var expectedCalibrationError: Double {
        guard rows > 0 else { return .nan }
        return calibration.reduce(0) { $0 + Double($1.rows) * abs($1.meanPredicted - $1.observedRate) } / Double(rows)
    }

    public init(scores: [Double], labels: [UInt8], calibrationBins: Int = 10, liftFractions: [Double] = [0.01, 0.05, 0.10]) {
        precondition(scores.count == labels.count, "one score per label")
        rows = scores.count
        positives = labels.reduce(0) { $0 + Int($1) }
        let order = scores.indices.sorted { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        auc = RankMetrics.auc(ascendingOrder: order, scores: scores, labels: labels)
        logLoss = PointMetrics.logLoss(scores: scores, labels: labels)
        brier = PointMetrics.brier(scores: scores, labels: labels)
        calibration = CalibrationBin.bins(ascendingOrder: order, scores: scores, labels: labels, count: calibrationBins)
        lift = LiftPoint.points(ascendingOrder: order, labels: labels, fractions: liftFractions)
    }
}

/// Metrics that average a per-row loss.
public enum PointMetrics {
    /// Mean negative log-likelihood; probabilities are clipped to [1e-15, 1 − 1e-15] as scikit-learn does.
    public static func logLoss(scores: [Double], labels: [UInt8]) -> Double {
        guard !scores.isEmpty else { return .nan }
        let eps = 1e-15
        var total = 0.0
        for (p, y) in zip(scores, labels) {
            let q = min(max(p, eps), 1 - eps)
            total -= y == 1 ? log(q) : log(1 - q)
        }
        return total / Double(scores.count)
    }

    /// Mean squared error of the probability.
    public static func brier(scores: [Double], labels: [UInt8]) -> Double {
        guard !scores.isEmpty else { return .nan }
        var total = 0.0
        for (p, y) in zip(scores, labels) {
            let d = p - Double(y)
            total += d * d
        }
        return total / Double(scores.count)
    }
}

/// Metrics that depend only on the ranking of the scores.
public enum RankMetrics {
    /// Exact ROC AUC: the probability that a random positive outranks a random negative, ties counting one half.
    /// NaN when only one class is present.
    public static func auc(scores: [Double], labels: [UInt8]) -> Double {
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        return auc(ascendingOrder: order, scores: scores, labels: labels)
    }

    static func auc(ascendingOrder order: [Int], scores: [Double], labels: [UInt8]) -> Double {
        var negativesBelow = 0.0
        var pairs = 0.0
        var i = 0
        while i < order.count {
            var j = i
            var groupPositives = 0.0
            var groupNegatives = 0.0
            while j < order.count, scores[order[j]] == scores[order[i]] {
                if labels[order[j]] == 1 { groupPositives += 1 } else { groupNegatives += 1 }
                j += 1
            }
            pairs += groupPositives * (negativesBelow + 0.5 * groupNegatives)
            negativesBelow += groupNegatives
            i = j
        }
        let positives = Double(order.count) - negativesBelow
        guard positives > 0, negativesBelow > 0 else { return .nan }
        return pairs / (positives * negativesBelow)
    }
}

/// Predicted against observed rate within one quantile of the scores.
public struct CalibrationBin: Sendable {
    public var rows: Int
    public var meanPredicted: Double
    public var observedRate: Double
    public var minScore: Double
    public var maxScore: Double

    /// Equal-count bins over the rows sorted by score (the last bins get the remainder).
    static func bins(ascendingOrder order: [Int], scores: [Double], labels: [UInt8], count: Int) -> [CalibrationBin] {
        guard !order.isEmpty else { return [] }
        let binCount = min(count, order.count)
        return (0..<binCount).map { b in
            let lower = b * order.count / binCount
            let upper = (b + 1) * order.count / binCount
            var predicted = 0.0
            var observed = 0.0
            for k in lower..<upper {
                predicted += scores[order[k]]
                observed += Double(labels[order[k]])
            }
            let n = Double(upper - lower)
            return CalibrationBin(
                rows: upper - lower, meanPredicted: predicted / n, observedRate: observed / n,
                minScore: scores[order[lower]], maxScore: scores[order[upper - 1]])
        }
    }
}

/// How much richer in converters the top-scored fraction of the audience is.
public struct LiftPoint: Sendable {
    /// The fraction of rows targeted, e.g. 0.01 for the top 1 %.
    public var fraction: Double
    public var rows: Int
    /// Positive rate in the targeted rows divided by the overall positive rate.
    public var lift: Double
    /// Share of all positives that fall in the targeted rows (recall at that depth).
    public var captureRate: Double

    static func points(ascendingOrder order: [Int], labels: [UInt8], fractions: [Double]) -> [LiftPoint] {
        let total = order.reduce(0) { $0 + Int(labels[$1]) }
        return fractions.map { fraction in
            let top = max(1, min(order.count, Int((fraction * Double(order.count)).rounded(.up))))
            var hits = 0
            for k in (order.count - top)..<order.count { hits += Int(labels[order[k]]) }
            let overall = Double(total) / Double(order.count)
            return LiftPoint(
                fraction: fraction, rows: top, lift: (Double(hits) / Double(top)) / overall,
                captureRate: Double(hits) / Double(total))
        }
    }
}
