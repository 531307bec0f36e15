import Foundation

/// The numbers a remarketing team decides with, for predicted probabilities against 0/1 labels, optionally with a
/// sample weight per row (as scikit-learn's `sample_weight`: every mean, rate and AUC pair counts rows by weight;
/// bins and the top fractions of lift still count rows).
public struct BinaryMetrics: Sendable {
    public var rows: Int
    public var positives: Int
    /// Whether the figures are weighted; then `totalWeight` and `positiveWeight` are the weight sums.
    public var weighted: Bool
    public var totalWeight: Double
    public var positiveWeight: Double
    public var auc: Double
    public var logLoss: Double
    public var brier: Double
    public var calibration: [CalibrationBin]
    public var lift: [LiftPoint]

    public var positiveRate: Double { totalWeight == 0 ? .nan : positiveWeight / totalWeight }

    /// Expected calibration error over the reliability bins: Σ (weight in bin / weight) · |mean predicted −
    /// observed rate|, with the equal-count bins of `calibration` (deciles by default).
    public var expectedCalibrationError: Double {
        guard totalWeight > 0 else { return .nan }
        return calibration.reduce(0) { $0 + $1.weight * abs($1.meanPredicted - $1.observedRate) } / totalWeight
    }

    /// - Parameter weights: nil, or one non-negative weight per row.
    public init(
        scores: [Double], labels: [UInt8], weights: [Double]? = nil, calibrationBins: Int = 10,
        liftFractions: [Double] = [0.01, 0.05, 0.10]
    ) {
        precondition(scores.count == labels.count, "one score per label")
        precondition(weights == nil || weights!.count == labels.count, "one weight per label")
        rows = scores.count
        positives = labels.reduce(0) { $0 + Int($1) }
        weighted = weights != nil
        totalWeight = weights?.reduce(0, +) ?? Double(rows)
        positiveWeight = weights.map { w in zip(w, labels).reduce(0) { $0 + ($1.1 == 1 ? $1.0 : 0) } } ?? Double(positives)
        let order = scores.indices.sorted { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        auc = RankMetrics.auc(ascendingOrder: order, scores: scores, labels: labels, weights: weights)
        logLoss = PointMetrics.logLoss(scores: scores, labels: labels, weights: weights)
        brier = PointMetrics.brier(scores: scores, labels: labels, weights: weights)
        calibration = CalibrationBin.bins(
            ascendingOrder: order, scores: scores, labels: labels, weights: weights, count: calibrationBins)
        lift = LiftPoint.points(ascendingOrder: order, labels: labels, weights: weights, fractions: liftFractions)
    }
}

/// Metrics that average a per-row loss.
public enum PointMetrics {
    /// Mean (weighted) negative log-likelihood; probabilities are clipped to [1e-15, 1 − 1e-15] as scikit-learn does.
    public static func logLoss(scores: [Double], labels: [UInt8], weights: [Double]? = nil) -> Double {
        let eps = 1e-15
        return weightedMean(scores.count, weights) { i in
            let q = min(max(scores[i], eps), 1 - eps)
            return labels[i] == 1 ? -log(q) : -log(1 - q)
        }
    }

    /// Mean (weighted) squared error of the probability.
    public static func brier(scores: [Double], labels: [UInt8], weights: [Double]? = nil) -> Double {
        weightedMean(scores.count, weights) { i in
            let d = scores[i] - Double(labels[i])
            return d * d
        }
    }

    private static func weightedMean(_ count: Int, _ weights: [Double]?, _ loss: (Int) -> Double) -> Double {
        var total = 0.0, weight = 0.0
        for i in 0..<count {
            let w = weights?[i] ?? 1
            total += w * loss(i)
            weight += w
        }
        return weight > 0 ? total / weight : .nan
    }
}

/// Metrics that depend only on the ranking of the scores.
public enum RankMetrics {
    /// Exact ROC AUC: the probability that a random positive outranks a random negative, ties counting one half;
    /// with weights, pairs count by the product of their weights. NaN when only one class is present.
    public static func auc(scores: [Double], labels: [UInt8], weights: [Double]? = nil) -> Double {
        let order = scores.withUnsafeBufferPointer { ScoreOrder.ascendingRows($0) }
        return auc(ascendingOrder: order, scores: scores, labels: labels, weights: weights)
    }

    static func auc<Row: BinaryInteger>(
        ascendingOrder order: [Row], scores: [Double], labels: [UInt8], weights: [Double]?
    ) -> Double {
        // Raw pointers: the tuner calls this after every tree of every fold.
        order.withUnsafeBufferPointer { order in
            scores.withUnsafeBufferPointer { scores in
                labels.withUnsafeBufferPointer { labels in
                    var negativesBelow = 0.0
                    var positives = 0.0
                    var pairs = 0.0
                    var i = 0
                    while i < order.count {
                        var j = i
                        var groupPositives = 0.0
                        var groupNegatives = 0.0
                        let score = scores[Int(order[i])]
                        while j < order.count, scores[Int(order[j])] == score {
                            let row = Int(order[j])
                            let w = weights?[row] ?? 1
                            if labels[row] == 1 { groupPositives += w } else { groupNegatives += w }
                            j += 1
                        }
                        pairs += groupPositives * (negativesBelow + 0.5 * groupNegatives)
                        negativesBelow += groupNegatives
                        positives += groupPositives
                        i = j
                    }
                    guard positives > 0, negativesBelow > 0 else { return .nan }
                    return pairs / (positives * negativesBelow)
                }
            }
        }
    }
}

/// Predicted against observed rate within one quantile of the scores.
public struct CalibrationBin: Sendable {
    public var rows: Int
    /// The bin's weight sum (its row count without weights).
    public var weight: Double
    public var meanPredicted: Double
    public var observedRate: Double
    public var minScore: Double
    public var maxScore: Double

    /// Equal-count bins over the rows sorted by score (the last bins get the remainder).
    static func bins(
        ascendingOrder order: [Int], scores: [Double], labels: [UInt8], weights: [Double]?, count: Int
    ) -> [CalibrationBin] {
        guard !order.isEmpty else { return [] }
        let binCount = min(count, order.count)
        return (0..<binCount).map { b in
            let lower = b * order.count / binCount
            let upper = (b + 1) * order.count / binCount
            var predicted = 0.0
            var observed = 0.0
            var n = 0.0
            for k in lower..<upper {
                let w = weights?[order[k]] ?? 1
                predicted += w * scores[order[k]]
                observed += w * Double(labels[order[k]])
                n += w
            }
            return CalibrationBin(
                rows: upper - lower, weight: n, meanPredicted: n > 0 ? predicted / n : .nan,
                observedRate: n > 0 ? observed / n : .nan,
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

    /// The top fraction counts rows; positives and rates count weight.
    static func points(ascendingOrder order: [Int], labels: [UInt8], weights: [Double]?, fractions: [Double]) -> [LiftPoint] {
        func weight(_ k: Int) -> Double { weights?[order[k]] ?? 1 }
        var total = 0.0, positives = 0.0
        for k in order.indices {
            total += weight(k)
            positives += weight(k) * Double(labels[order[k]])
        }
        return fractions.map { fraction in
            let top = max(1, min(order.count, Int((fraction * Double(order.count)).rounded(.up))))
            var hits = 0.0, targeted = 0.0
            for k in (order.count - top)..<order.count {
                hits += weight(k) * Double(labels[order[k]])
                targeted += weight(k)
            }
            return LiftPoint(
                fraction: fraction, rows: top, lift: (hits / targeted) / (positives / total), captureRate: hits / positives)
        }
    }
}
