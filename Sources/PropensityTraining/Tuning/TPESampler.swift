import Foundation
import PropensityData

/// The Tree-structured Parzen Estimator (Bergstra et al. 2011), univariate, as Optuna's default sampler: after
/// `startupTrials` random points, the finished trials are split into the best γ(n) = min(⌈0.1·n⌉, 25) and the rest;
/// each parameter gets a Parzen density for each group (a truncated Gaussian per observation plus a prior spanning
/// the range), and of `candidates` draws from the good density the one with the largest good/bad ratio is taken.
///
/// Each trial's draws come from a generator seeded by the search seed and the trial number, so a search is
/// reproducible and does not depend on how long trials took.
struct TPESampler: Sendable {
    let space: SearchSpace
    let seed: UInt64
    var startupTrials = 10
    var candidates = 24

    /// A finished or pruned trial as the sampler sees it: its point and, when it ran to the end, its score
    /// (higher is better). Pruned trials count as bad.
    struct Observation {
        var point: [TunedParameter: Double]
        var score: Double?
    }

    func point(trial: Int, history: [Observation]) -> [TunedParameter: Double] {
        var rng = SplitMix64(seed: seed &+ 0xA076_1D64_78BD_642F &* UInt64(trial + 1))
        if trial == 0 { return space.start }
        let ranked = history.indices.filter { history[$0].score != nil }.sorted { history[$0].score! > history[$1].score! }
        let random = history.count < startupTrials || ranked.isEmpty
        let goodCount = min(Int((0.1 * Double(history.count)).rounded(.up)), 25, ranked.count)
        let goodIndices = Set(ranked.prefix(goodCount))
        let good = goodIndices.sorted().map { history[$0] }
        let bad = history.indices.filter { !goodIndices.contains($0) }.map { history[$0] }
        var point: [TunedParameter: Double] = [:]
        for parameter in space.parameters {
            let range = space.ranges[parameter]!
            if range.isFixed {
                point[parameter] = range.low
                continue
            }
            let axis = Axis(parameter: parameter, range: range)
            let u: Double
            if random {
                u = axis.low + rng.nextUnit() * (axis.high - axis.low)
            } else {
                let l = Parzen(axis: axis, points: good.map { axis.internal($0.point[parameter]!) })
                let g = Parzen(axis: axis, points: bad.map { axis.internal($0.point[parameter]!) })
                var best = (u: axis.low, ratio: -Double.infinity)
                for _ in 0..<candidates {
                    let c = l.sample(&rng)
                    let ratio = l.logDensity(c) - g.logDensity(c)
                    if ratio > best.ratio { best = (c, ratio) }
                }
                u = best.u
            }
            point[parameter] = axis.external(u)
        }
        return point
    }
}

/// One parameter's search axis: the log of the value for log ranges, and integers widened by ½ on each side so
/// rounding gives each whole number an equal share.
struct Axis {
    let parameter: TunedParameter
    let range: SearchRange
    let low: Double
    let high: Double

    init(parameter: TunedParameter, range: SearchRange) {
        self.parameter = parameter
        self.range = range
        var (lo, hi) = (range.low, range.high)
        if parameter.isInteger { (lo, hi) = (lo - 0.5, hi + 0.5) }
        if range.log { (lo, hi) = (Foundation.log(max(lo, range.low * 0.5)), Foundation.log(hi)) }
        (low, high) = (lo, hi)
    }

    func `internal`(_ value: Double) -> Double { range.log ? Foundation.log(value) : value }

    func external(_ u: Double) -> Double {
        var x = range.log ? exp(u) : u
        if parameter.isInteger { x = x.rounded() }
        return min(max(x, range.low), range.high)
    }
}

/// A mixture of Gaussians truncated to the axis: one per observation, and a prior at the centre as wide as the axis.
/// Bandwidths follow Optuna's rule: the larger gap to a neighbour, clipped to [width / min(100, n + 1), width].
struct Parzen {
    let axis: Axis
    var mus: [Double] = []
    var sigmas: [Double] = []

    init(axis: Axis, points: [Double]) {
        self.axis = axis
        let width = axis.high - axis.low
        let prior = (axis.low + axis.high) / 2
        var all = points + [prior]
        all.sort()
        let minimum = width / min(100, Double(all.count))
        for (i, mu) in all.enumerated() {
            let left = i > 0 ? mu - all[i - 1] : mu - axis.low
            let right = i + 1 < all.count ? all[i + 1] - mu : axis.high - mu
            mus.append(mu)
            sigmas.append(min(max(max(left, right), minimum), width))
        }
        // The prior keeps its full width: it is what lets the search leave the observed points.
        if let p = mus.firstIndex(of: prior) { sigmas[p] = width }
    }

    func sample(_ rng: inout SplitMix64) -> Double {
        let k = rng.nextInt(below: mus.count)
        for _ in 0..<100 {
            let x = mus[k] + sigmas[k] * rng.nextGaussian()
            if x >= axis.low && x <= axis.high { return x }
        }
        return min(max(mus[k], axis.low), axis.high)
    }

    func logDensity(_ x: Double) -> Double {
        var total = 0.0
        for (mu, sigma) in zip(mus, sigmas) {
            let mass = Self.cdf((axis.high - mu) / sigma) - Self.cdf((axis.low - mu) / sigma)
            let z = (x - mu) / sigma
            total += exp(-0.5 * z * z) / (sigma * (2 * Double.pi).squareRoot() * max(mass, 1e-12))
        }
        return Foundation.log(total / Double(mus.count) + 1e-300)
    }

    static func cdf(_ z: Double) -> Double { 0.5 * (1 + erf(z / 2.0.squareRoot())) }
}
