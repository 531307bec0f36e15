import Foundation
import PropensityModel

/// Platt scaling as an unpenalised one-feature logistic regression on the margin, `P(y=1) = σ(a·m + b)`, fitted
/// by Newton's method with step halving. It starts at (1, 0), the model's own sigmoid, so a model that is already
/// calibrated moves little.
enum PlattFit {
    static let maxIterations = 100

    static func fit(margins m: [Double], labels y: [UInt8]) throws(CalibrationError) -> (slope: Double, intercept: Double) {
        // Perfect separation (every positive above every negative) has no finite maximum: the slope runs away.
        var lowestPositive = Double.infinity, highestNegative = -Double.infinity
        for (x, label) in zip(m, y) {
            if label == 1 { lowestPositive = min(lowestPositive, x) } else { highestNegative = max(highestNegative, x) }
        }
        if lowestPositive > highestNegative { throw .separable }

        var (a, b) = (1.0, 0.0)
        var current = loss(m, y, a, b)
        for _ in 0..<maxIterations {
            var (ga, gb, haa, hab, hbb) = (0.0, 0.0, 0.0, 0.0, 0.0)
            for (x, label) in zip(m, y) {
                let p = Sigmoid.of(a * x + b)
                let r = p - Double(label)
                let w = p * (1 - p)
                ga += r * x
                gb += r
                haa += w * x * x
                hab += w * x
                hbb += w
            }
            let det = haa * hbb - hab * hab
            guard det > 0, det.isFinite else { throw .didNotConverge(iterations: maxIterations) }
            let da = (hbb * ga - hab * gb) / det
            let db = (haa * gb - hab * ga) / det
            // Halve the step until the loss does not increase; a step that cannot lower it means the optimum is
            // reached to within rounding.
            var t = 1.0
            var next = loss(m, y, a - da, b - db)
            while next > current && t > 1e-10 {
                t *= 0.5
                next = loss(m, y, a - t * da, b - t * db)
            }
            guard next <= current else { break }
            a -= t * da
            b -= t * db
            let settled = abs(t * da) <= 1e-12 * (1 + abs(a)) && abs(t * db) <= 1e-12 * (1 + abs(b))
            current = next
            if settled { return try checked(a, b) }
        }
        // Newton converges quadratically on this smooth, strictly convex problem: a last step that could not lower
        // the loss is the optimum; running out of iterations is not.
        let gradient = gradientNorm(m, y, a, b)
        guard gradient <= 1e-8 * Double(m.count) else { throw .didNotConverge(iterations: maxIterations) }
        return try checked(a, b)
    }

    private static func checked(_ a: Double, _ b: Double) throws(CalibrationError) -> (slope: Double, intercept: Double) {
        guard a.isFinite, b.isFinite else { throw .didNotConverge(iterations: maxIterations) }
        guard a >= 0 else { throw .reversed(slope: a) }
        return (a, b)
    }

    /// Total negative log-likelihood, each term `log(1 + e^−z)` or `log(1 + e^z)` written not to overflow.
    private static func loss(_ m: [Double], _ y: [UInt8], _ a: Double, _ b: Double) -> Double {
        var total = 0.0
        for (x, label) in zip(m, y) {
            let z = label == 1 ? a * x + b : -(a * x + b)
            total += z >= 0 ? log1p(exp(-z)) : -z + log1p(exp(z))
        }
        return total
    }

    private static func gradientNorm(_ m: [Double], _ y: [UInt8], _ a: Double, _ b: Double) -> Double {
        var (ga, gb) = (0.0, 0.0)
        for (x, label) in zip(m, y) {
            let r = Sigmoid.of(a * x + b) - Double(label)
            ga += r * x
            gb += r
        }
        return max(abs(ga), abs(gb))
    }
}
