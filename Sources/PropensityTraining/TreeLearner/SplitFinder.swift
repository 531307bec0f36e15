/// Sums of gradient statistics over a set of rows.
struct NodeStats: Sendable {
    var g: Double
    var h: Double
    var n: Int

    static let zero = NodeStats(g: 0, h: 0, n: 0)
    static func - (a: NodeStats, b: NodeStats) -> NodeStats { NodeStats(g: a.g - b.g, h: a.h - b.h, n: a.n - b.n) }
    static func + (a: NodeStats, b: HistogramBin) -> NodeStats { NodeStats(g: a.g + b.g, h: a.h + b.h, n: a.n + b.n) }
}

/// The best way found to split a node.
struct Split: Sendable {
    var gain = -Double.infinity
    var feature = -1
    /// Numeric: bins `0...thresholdBin` go left.
    var thresholdBin = 0
    var defaultLeft = false
    var isCategorical = false
    /// Categorical: the bins (= category indices) that go left, ascending.
    var leftBins: [Int] = []
    var left = NodeStats(g: 0, h: 0, n: 0)
    var right = NodeStats(g: 0, h: 0, n: 0)
    /// Leaf outputs (before the learning rate) the split gives its children.
    var leftOutput = 0.0
    var rightOutput = 0.0

    var isValid: Bool { feature >= 0 }

    /// Higher gain wins; equal gains go to the lower feature index, so the choice never depends on evaluation order.
    func isBetter(than other: Split) -> Bool {
        gain > other.gain || (gain == other.gain && other.isValid && feature < other.feature)
    }
}

/// Split-search settings (LightGBM's names in comments where they differ).
struct SplitRules: Sendable {
    var l2: Double
    var minChildWeight: Double  // min_sum_hessian_in_leaf
    var minSamplesLeaf: Int  // min_data_in_leaf
    var minSplitGain: Double
    var catL2 = 10.0
    var catSmooth = 10.0
    var maxCatThreshold = 32
    var maxCatToOneHot = 4
    var minDataPerGroup = 100

    /// Loss reduction of a leaf with these sums: G² / (H + λ) (LightGBM's convention, no ½).
    @inline(__always)
    func score(_ s: NodeStats, l2: Double) -> Double { s.g * s.g / (s.h + l2) }

    @inline(__always)
    func output(_ s: NodeStats, l2: Double) -> Double { -s.g / (s.h + l2) }

    @inline(__always)
    func allowed(_ s: NodeStats) -> Bool { s.n >= minSamplesLeaf && s.h >= minChildWeight }
}

enum SplitFinder {
    /// The best split of a node with totals `total` over `features`, from its histogram.
    static func best(
        histogram: UnsafePointer<HistogramBin>, total: NodeStats, data: BinnedData, features: [Int], rules: SplitRules
    ) -> Split {
        var best = Split()
        for f in features {
            let mapper = data.mappers[f]
            let hist = histogram + data.histogramOffsets[f]
            let candidate = mapper.isCategorical
                ? categorical(hist, mapper: mapper, total: total, rules: rules)
                : numeric(hist, mapper: mapper, total: total, rules: rules)
            if var c = candidate {
                c.feature = f
                if c.isBetter(than: best) { best = c }
            }
        }
        return best.gain > rules.minSplitGain ? best : Split()
    }

    /// Scans thresholds left to right, trying the missing bin on each side (the learned default direction).
    static func numeric(_ hist: UnsafePointer<HistogramBin>, mapper: BinMapper, total: NodeStats, rules: SplitRules)
        -> Split?
    {
        let missing = NodeStats(g: 0, h: 0, n: 0) + hist[mapper.missingBin]
        let parentScore = rules.score(total, l2: rules.l2)
        var best: Split? = nil
        var left = NodeStats(g: 0, h: 0, n: 0)
        for t in 0..<(mapper.valueBins - 1) {
            left = left + hist[t]
            if hist[t].n == 0 && t > 0 { continue }  // same partition as the previous threshold
            for side in 0..<2 {
                let missingLeft = side == 1
                // With no missing rows both directions are the same split; keep one (missing follows the larger side).
                if missing.n == 0 && missingLeft { continue }
                let l = missingLeft ? NodeStats(g: left.g + missing.g, h: left.h + missing.h, n: left.n + missing.n) : left
                let r = total - l
                guard rules.allowed(l), rules.allowed(r) else { continue }
                let gain = rules.score(l, l2: rules.l2) + rules.score(r, l2: rules.l2) - parentScore
                if gain > (best?.gain ?? -Double.infinity) {
                    best = Split(
                        gain: gain, thresholdBin: t, defaultLeft: missing.n == 0 ? l.h >= r.h : missingLeft,
                        left: l, right: r, leftOutput: rules.output(l, l2: rules.l2),
                        rightOutput: rules.output(r, l2: rules.l2))
                }
            }
        }
        return best
    }

    /// LightGBM's categorical split: one-vs-rest for few categories; otherwise categories sorted by their mean
    /// gradient (smoothed), and the best prefix of that order (from either end, at most `maxCatThreshold`) goes left.
    /// Missing values and categories without their own bin go right.
    static func categorical(
        _ hist: UnsafePointer<HistogramBin>, mapper: BinMapper, total: NodeStats, rules: SplitRules
    ) -> Split? {
        let l2 = rules.l2 + rules.catL2
        let parentScore = rules.score(total, l2: l2)
        var best: Split? = nil
        func consider(_ leftBins: [Int], _ l: NodeStats) {
            let r = total - l
            guard rules.allowed(l), rules.allowed(r) else { return }
            let gain = rules.score(l, l2: l2) + rules.score(r, l2: l2) - parentScore
            if gain > (best?.gain ?? -Double.infinity) {
                best = Split(
                    gain: gain, isCategorical: true, leftBins: leftBins.sorted(), left: l, right: r,
                    leftOutput: rules.output(l, l2: l2), rightOutput: rules.output(r, l2: l2))
            }
        }
        let present = (0..<mapper.valueBins).filter { hist[$0].n > 0 }
        if mapper.valueBins <= rules.maxCatToOneHot {
            for b in present { consider([b], NodeStats(g: 0, h: 0, n: 0) + hist[b]) }
            return best
        }
        let eligible = present.filter { hist[$0].n >= rules.minDataPerGroup }
        let order = eligible.sorted {
            let a = hist[$0].g / (hist[$0].h + rules.catSmooth)
            let b = hist[$1].g / (hist[$1].h + rules.catSmooth)
            return a < b || (a == b && $0 < $1)
        }
        let limit = min(rules.maxCatThreshold, (order.count + 1) / 2)
        for direction in 0..<2 {
            let fromEnd = direction == 1
            var left = NodeStats(g: 0, h: 0, n: 0)
            var bins: [Int] = []
            for k in 0..<min(limit, order.count) {
                let b = fromEnd ? order[order.count - 1 - k] : order[k]
                left = left + hist[b]
                bins.append(b)
                consider(bins, left)
            }
        }
        return best
    }
}
