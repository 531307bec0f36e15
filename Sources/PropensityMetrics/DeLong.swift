import Foundation

/// DeLong, DeLong & Clarke-Pearson (1988): the variance of an empirical AUC and the covariance of two AUCs measured
/// on the same rows, from each row's placement values, computed with midranks in O(n log n) (Sun & Xu 2014).
/// Unweighted rows only: the method is defined for counts.
public enum DeLong {
    /// An AUC with its DeLong variance and a two-sided confidence interval (clamped to [0, 1]).
    public struct Estimate: Sendable, Equatable {
        public var auc: Double
        public var variance: Double
        public var lower: Double
        public var upper: Double
    }

    /// The paired test of B's AUC against A's on the same rows.
    public struct Comparison: Sendable, Equatable {
        public var a: Estimate
        public var b: Estimate
        /// Cov(AUC_A, AUC_B).
        public var covariance: Double
        /// AUC_B − AUC_A.
        public var difference: Double
        /// √(Var A + Var B − 2 Cov).
        public var standardError: Double
        /// difference / standardError; 0 when both are 0 (identical rankings).
        public var z: Double
        /// Two-sided: P(|Z| ≥ |z|) under a standard normal.
        public var pValue: Double
        /// The confidence interval of the difference at `level`.
        public var lower: Double
        public var upper: Double
        public var level: Double
    }

    public enum Failure: Error, Equatable {
        /// Both classes are needed, each at least twice (the variances divide by count − 1).
        case tooFewRows(positives: Int, negatives: Int)
        case lengthMismatch
        case levelOutOfRange(Double)
    }

    /// Structural components: for each positive row V10 = P(score > a random negative's) (ties ½), for each
    /// negative V01 = P(a random positive's score > it); the AUC is the mean of either.
    public static func placements(scores: [Double], labels: [UInt8]) -> (positive: [Double], negative: [Double]) {
        var positives: [Double] = [], negatives: [Double] = []
        for (s, l) in zip(scores, labels) {
            if l == 1 { positives.append(s) } else { negatives.append(s) }
        }
        let m = Double(positives.count), n = Double(negatives.count)
        let rankWithin = (x: midranks(positives), y: midranks(negatives))
        let rankAll = midranks(positives + negatives)
        let v10 = positives.indices.map { (rankAll[$0] - rankWithin.x[$0]) / n }
        let v01 = negatives.indices.map { 1 - (rankAll[positives.count + $0] - rankWithin.y[$0]) / m }
        return (v10, v01)
    }

    public static func estimate(scores: [Double], labels: [UInt8], level: Double = 0.95) throws(Failure) -> Estimate {
        let (m, n) = try counts(scores.count, labels, level)
        let v = placements(scores: scores, labels: labels)
        let variance = covariance(v.positive, v.positive) / m + covariance(v.negative, v.negative) / n
        return interval(mean(v.positive), variance, NormalDistribution.quantile(0.5 + level / 2))
    }

    public static func compare(scoresA: [Double], scoresB: [Double], labels: [UInt8], level: Double = 0.95) throws(Failure) -> Comparison {
        guard scoresB.count == labels.count else { throw .lengthMismatch }
        let (m, n) = try counts(scoresA.count, labels, level)
        let a = placements(scores: scoresA, labels: labels)
        let b = placements(scores: scoresB, labels: labels)
        let aucA = mean(a.positive), aucB = mean(b.positive)
        let varA = covariance(a.positive, a.positive) / m + covariance(a.negative, a.negative) / n
        let varB = covariance(b.positive, b.positive) / m + covariance(b.negative, b.negative) / n
        let cov = covariance(a.positive, b.positive) / m + covariance(a.negative, b.negative) / n
        let quantile = NormalDistribution.quantile(0.5 + level / 2)
        let difference = aucB - aucA
        // Var(B − A) can come out a hair below zero in floating point when the two rankings are identical.
        let standardError = max(0, varA + varB - 2 * cov).squareRoot()
        let z = standardError > 0 ? difference / standardError : (difference == 0 ? 0 : .infinity * difference.sign.multiplier)
        return Comparison(
            a: interval(aucA, varA, quantile), b: interval(aucB, varB, quantile), covariance: cov, difference: difference,
            standardError: standardError, z: z, pValue: NormalDistribution.twoSidedPValue(z),
            lower: difference - quantile * standardError, upper: difference + quantile * standardError, level: level)
    }

    /// The positive and negative counts, after checking the lengths, the level and that each class has two rows.
    private static func counts(_ scoreCount: Int, _ labels: [UInt8], _ level: Double) throws(Failure) -> (Double, Double) {
        guard scoreCount == labels.count else { throw .lengthMismatch }
        guard level > 0, level < 1 else { throw .levelOutOfRange(level) }
        let positives = labels.reduce(0) { $0 + Int($1) }
        let negatives = labels.count - positives
        guard positives >= 2, negatives >= 2 else { throw .tooFewRows(positives: positives, negatives: negatives) }
        return (Double(positives), Double(negatives))
    }

    /// The AUC's two-sided interval for the normal `quantile`, clamped to [0, 1].
    private static func interval(_ auc: Double, _ variance: Double, _ quantile: Double) -> Estimate {
        let half = quantile * variance.squareRoot()
        return Estimate(auc: auc, variance: variance, lower: max(0, auc - half), upper: min(1, auc + half))
    }

    /// 1-based ranks with ties sharing the mean of their positions.
    static func midranks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: values.count)
        var i = 0
        while i < order.count {
            var j = i
            while j < order.count, values[order[j]] == values[order[i]] { j += 1 }
            let rank = Double(i + 1 + j) / 2  // mean of positions i+1 … j
            for k in i..<j { ranks[order[k]] = rank }
            i = j
        }
        return ranks
    }

    private static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }

    /// Sample covariance (denominator count − 1).
    private static func covariance(_ x: [Double], _ y: [Double]) -> Double {
        let mx = mean(x), my = mean(y)
        var sum = 0.0
        for k in x.indices { sum += (x[k] - mx) * (y[k] - my) }
        return sum / Double(x.count - 1)
    }
}

private extension FloatingPointSign {
    var multiplier: Double { self == .minus ? -1 : 1 }
}

/// The standard normal distribution's tail and quantile, from the C library's erfc.
public enum NormalDistribution {
    /// P(|Z| ≥ |z|).
    public static func twoSidedPValue(_ z: Double) -> Double {
        z.isNaN ? .nan : erfc(abs(z) / 2.0.squareRoot())
    }

    /// Φ(x).
    public static func cdf(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    /// Φ⁻¹(p) for p in (0, 1), by bisection on Φ: slow but exact to the last bits, and called once per report.
    public static func quantile(_ p: Double) -> Double {
        precondition(p > 0 && p < 1, "a probability strictly between 0 and 1")
        var low = -40.0, high = 40.0
        for _ in 0..<200 {
            let mid = (low + high) / 2
            if mid == low || mid == high { break }
            if cdf(mid) < p { low = mid } else { high = mid }
        }
        return (low + high) / 2
    }
}
