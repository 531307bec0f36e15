/// A point of a curve traced over the distinct score thresholds: `x` and `y` are the curve's coordinates for the
/// rows scored at or above `threshold` (nil for the curve's starting point, where no row is selected).
public struct CurvePoint: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public var threshold: Double?

    public init(x: Double, y: Double, threshold: Double?) {
        self.x = x
        self.y = y
        self.threshold = threshold
    }
}

/// Scores of converters and non-converters in equal-width bins of probability.
public struct ScoreHistogram: Sendable, Equatable {
    /// `bins + 1` edges from 0 to 1; bin k holds scores in [edges[k], edges[k + 1]), the last one also 1.
    public var edges: [Double]
    /// The weight (row count without weights) of positive rows in each bin.
    public var positives: [Double]
    public var negatives: [Double]
}

/// The curves a model is judged by, for probabilities against 0/1 labels with optional weights (rows count by weight,
/// as in `BinaryMetrics`). ROC and precision–recall are traced over every distinct threshold and then thinned so
/// that consecutive kept points differ by at least `resolution` in one coordinate (a few hundred points, exact
/// vertices of the full curve); gain and lift are given at every percentile of the audience.
public struct EvaluationCurves: Sendable {
    /// (false positive rate, true positive rate).
    public var roc: [CurvePoint]
    /// (recall, precision), starting at recall 0 with precision 1 as scikit-learn's `precision_recall_curve` does.
    public var precisionRecall: [CurvePoint]
    /// Average precision: Σ (recall_k − recall_{k−1}) · precision_k over the full curve (scikit-learn's definition).
    public var averagePrecision: Double
    /// Cumulative gain (capture rate) and lift for the top 1 %, 2 %, …, 100 % of rows by score.
    public var gain: [LiftPoint]
    public var histogram: ScoreHistogram

    public init(scores: [Double], labels: [UInt8], weights: [Double]? = nil, resolution: Double = 0.005, histogramBins: Int = 20) {
        precondition(scores.count == labels.count, "one score per label")
        precondition(weights == nil || weights!.count == labels.count, "one weight per label")
        precondition(histogramBins > 0, "at least one histogram bin")
        let descending = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        func weight(_ row: Int) -> Double { weights?[row] ?? 1 }
        var totalPositive = 0.0, totalNegative = 0.0
        for row in scores.indices {
            if labels[row] == 1 { totalPositive += weight(row) } else { totalNegative += weight(row) }
        }

        var rocFull = [CurvePoint(x: 0, y: 0, threshold: nil)]
        var prFull: [CurvePoint] = []
        var truePositive = 0.0, falsePositive = 0.0
        var i = 0
        while i < descending.count {
            let threshold = scores[descending[i]]
            while i < descending.count, scores[descending[i]] == threshold {
                let row = descending[i]
                if labels[row] == 1 { truePositive += weight(row) } else { falsePositive += weight(row) }
                i += 1
            }
            rocFull.append(CurvePoint(
                x: totalNegative > 0 ? falsePositive / totalNegative : .nan,
                y: totalPositive > 0 ? truePositive / totalPositive : .nan, threshold: threshold))
            let selected = truePositive + falsePositive
            prFull.append(CurvePoint(
                x: totalPositive > 0 ? truePositive / totalPositive : .nan,
                y: selected > 0 ? truePositive / selected : 1, threshold: threshold))
        }
        var ap = 0.0
        var previousRecall = 0.0
        for point in prFull {
            ap += (point.x - previousRecall) * point.y
            previousRecall = point.x
        }
        averagePrecision = totalPositive > 0 ? ap : .nan
        roc = Self.thinned(rocFull, resolution: resolution)
        precisionRecall = Self.thinned([CurvePoint(x: 0, y: 1, threshold: nil)] + prFull, resolution: resolution)

        // Gain at each percentile, with LiftPoint's definition of "the top fraction" (⌈f · rows⌉ rows, at least one).
        var cumulativeHits = 0.0, cumulativeWeight = 0.0, taken = 0
        var points: [LiftPoint] = []
        let overallRate = totalPositive / (totalPositive + totalNegative)
        for percent in 1...100 where !descending.isEmpty {
            let fraction = Double(percent) / 100
            let top = max(1, min(descending.count, Int((fraction * Double(descending.count)).rounded(.up))))
            while taken < top {
                let row = descending[taken]
                cumulativeWeight += weight(row)
                cumulativeHits += weight(row) * Double(labels[row])
                taken += 1
            }
            points.append(LiftPoint(
                fraction: fraction, rows: top, lift: (cumulativeHits / cumulativeWeight) / overallRate,
                captureRate: cumulativeHits / totalPositive))
        }
        gain = points

        var positives = [Double](repeating: 0, count: histogramBins)
        var negatives = [Double](repeating: 0, count: histogramBins)
        for row in scores.indices where scores[row].isFinite {
            let bin = min(histogramBins - 1, max(0, Int(scores[row] * Double(histogramBins))))
            if labels[row] == 1 { positives[bin] += weight(row) } else { negatives[bin] += weight(row) }
        }
        histogram = ScoreHistogram(
            edges: (0...histogramBins).map { Double($0) / Double(histogramBins) }, positives: positives, negatives: negatives)
    }

    /// Keeps the first and last points and every point at least `resolution` away (in x or y) from the last kept one.
    static func thinned(_ points: [CurvePoint], resolution: Double) -> [CurvePoint] {
        guard points.count > 2 else { return points }
        var kept = [points[0]]
        for point in points.dropFirst().dropLast() {
            let last = kept[kept.count - 1]
            if abs(point.x - last.x) >= resolution || abs(point.y - last.y) >= resolution { kept.append(point) }
        }
        kept.append(points[points.count - 1])
        return kept
    }
}
