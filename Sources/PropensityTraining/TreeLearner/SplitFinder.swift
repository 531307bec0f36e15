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
    /// Per feature: +1 (outputs may only rise with the value), −1 (only fall) or 0; empty: no monotone constraints.
    var monotone: [Int8] = []

    /// Loss reduction of a leaf with these sums: G² / (H + λ) (LightGBM's convention, no ½).
    @inline(__always)
    func score(_ s: NodeStats, l2: Double) -> Double { s.g * s.g / (s.h + l2) }

    @inline(__always)
    func output(_ s: NodeStats, l2: Double) -> Double { -s.g / (s.h + l2) }

    @inline(__always)
    func allowed(_ s: NodeStats) -> Bool { s.n >= minSamplesLeaf && s.h >= minChildWeight }

    /// The loss reduction of a leaf with these sums when its output is `w` rather than the optimum:
    /// −(2·G·w + (H + λ)·w²), which is `score` at w = −G / (H + λ).
    @inline(__always)
    func score(_ s: NodeStats, output w: Double, l2: Double) -> Double { -(2 * s.g * w + (s.h + l2) * w * w) }
}

/// The range a node's outputs must stay in (monotone constraints, LightGBM's "basic" method): each monotone split
/// sends its children's outputs to either side of their midpoint, and every descendant stays within that side.
struct OutputBounds: Sendable, Equatable {
    var lower = -Double.infinity
    var upper = Double.infinity

    static let none = OutputBounds()

    var isUnbounded: Bool { lower == -.infinity && upper == .infinity }

    @inline(__always)
    func clamp(_ w: Double) -> Double { min(max(w, lower), upper) }

    /// The children's bounds after a split with outputs `left`, `right` on a feature with constraint `direction`.
    func children(direction: Int8, left: Double, right: Double) -> (left: OutputBounds, right: OutputBounds) {
        guard direction != 0 else { return (self, self) }
        let mid = (left + right) / 2
        return direction > 0
            ? (OutputBounds(lower: lower, upper: min(upper, mid)), OutputBounds(lower: max(lower, mid), upper: upper))
            : (OutputBounds(lower: max(lower, mid), upper: upper), OutputBounds(lower: lower, upper: min(upper, mid)))
    }
}

/// How a candidate split is scored: freely (the common case, one formula), or with outputs clamped to the node's
/// bounds and, on a monotone feature, required to be in order.
struct SplitScoring {
    let rules: SplitRules
    let l2: Double
    let bounds: OutputBounds
    let direction: Int8
    let parentScore: Double
    let constrained: Bool

    init(rules: SplitRules, l2: Double, bounds: OutputBounds, direction: Int8, total: NodeStats) {
        self.rules = rules
        self.l2 = l2
        self.bounds = bounds
        self.direction = direction
        constrained = direction != 0 || !bounds.isUnbounded
        parentScore = constrained
            ? rules.score(total, output: bounds.clamp(rules.output(total, l2: l2)), l2: l2) : rules.score(total, l2: l2)
    }

    /// (gain, left output, right output), or nil when the outputs would break the feature's monotone direction.
    @inline(__always)
    func evaluate(_ l: NodeStats, _ r: NodeStats) -> (gain: Double, left: Double, right: Double)? {
        guard constrained else {
            return (rules.score(l, l2: l2) + rules.score(r, l2: l2) - parentScore, rules.output(l, l2: l2), rules.output(r, l2: l2))
        }
        let lo = bounds.clamp(rules.output(l, l2: l2))
        let ro = bounds.clamp(rules.output(r, l2: l2))
        if (direction > 0 && lo > ro) || (direction < 0 && lo < ro) { return nil }
        return (rules.score(l, output: lo, l2: l2) + rules.score(r, output: ro, l2: l2) - parentScore, lo, ro)
    }
}

enum SplitFinder {
    /// The best split of a node on feature `f` alone, nil when it has none.
    static func candidate(
        _ f: Int, histogram: UnsafePointer<HistogramBin>, total: NodeStats, data: BinnedData, rules: SplitRules,
        bounds: OutputBounds
    ) -> Split? {
        let mapper = data.mappers[f]
        let hist = histogram + data.histogramOffsets[f]
        let direction = rules.monotone.isEmpty ? 0 : rules.monotone[f]
        var c = mapper.isCategorical
            ? categorical(hist, mapper: mapper, total: total, rules: rules, bounds: bounds)
            : numeric(hist, mapper: mapper, total: total, rules: rules, bounds: bounds, direction: direction)
        c?.feature = f
        return c
    }

    /// `best`, the winner over a node's features by `Split.isBetter` (a total order, so features searched in any
    /// grouping give the same one), when its gain passes `minSplitGain`; otherwise no split.
    static func accepted(_ best: Split, rules: SplitRules) -> Split { best.gain > rules.minSplitGain ? best : Split() }

    /// Scans thresholds left to right, trying the missing bin on each side (the learned default direction).
    static func numeric(
        _ hist: UnsafePointer<HistogramBin>, mapper: BinMapper, total: NodeStats, rules: SplitRules,
        bounds: OutputBounds = .none, direction: Int8 = 0
    ) -> Split? {
        let missing = NodeStats(g: 0, h: 0, n: 0) + hist[mapper.missingBin]
        let scoring = SplitScoring(rules: rules, l2: rules.l2, bounds: bounds, direction: direction, total: total)
        // The scan keeps the best candidate as plain numbers (no Split, whose array field costs reference counting
        // per candidate); only the gain is needed per threshold, outputs once at the end.
        var bestGain = -Double.infinity, bestThreshold = -1, bestMissingLeft = false
        var bestLeft = NodeStats.zero
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
                guard rules.allowed(l), rules.allowed(r), let (gain, _, _) = scoring.evaluate(l, r) else { continue }
                if gain > bestGain {
                    bestGain = gain
                    bestThreshold = t
                    bestMissingLeft = missingLeft
                    bestLeft = l
                }
            }
        }
        guard bestThreshold >= 0 else { return nil }
        let l = bestLeft, r = total - l
        let (gain, lo, ro) = scoring.evaluate(l, r)!
        return Split(
            gain: gain, thresholdBin: bestThreshold, defaultLeft: missing.n == 0 ? l.h >= r.h : bestMissingLeft,
            left: l, right: r, leftOutput: lo, rightOutput: ro)
    }

    /// LightGBM's categorical split: one-vs-rest for few categories; otherwise the categories with at least
    /// `catSmooth` rows, sorted by their smoothed mean gradient, and the best prefix of that order (from either end,
    /// at most `maxCatThreshold` categories) goes left. As in LightGBM, the extra `catL2` applies to the sorted
    /// search only, and a prefix is scored only once `minDataPerGroup` rows joined it since the last scored one,
    /// with at least that many rows left on the right. Missing values and categories without their own bin go right.
    /// Categorical features take no monotone constraint (their categories have no order), but their outputs stay
    /// within the node's bounds.
    static func categorical(
        _ hist: UnsafePointer<HistogramBin>, mapper: BinMapper, total: NodeStats, rules: SplitRules,
        bounds: OutputBounds = .none
    ) -> Split? {
        var best: Split? = nil
        /// The bins going left of the best split so far: `order`'s first (or last) `count`, or one bin.
        var bestBins: (fromEnd: Bool, count: Int) = (false, 0)
        func consider(_ l: NodeStats, _ scoring: SplitScoring) -> Bool {
            let r = total - l
            guard rules.allowed(l), rules.allowed(r), let (gain, lo, ro) = scoring.evaluate(l, r) else { return false }
            guard gain > (best?.gain ?? -Double.infinity) else { return false }
            best = Split(gain: gain, isCategorical: true, left: l, right: r, leftOutput: lo, rightOutput: ro)
            return true
        }
        let present = (0..<mapper.valueBins).filter { hist[$0].n > 0 }
        if mapper.valueBins <= rules.maxCatToOneHot {
            let scoring = SplitScoring(rules: rules, l2: rules.l2, bounds: bounds, direction: 0, total: total)
            for b in present {
                if consider(NodeStats.zero + hist[b], scoring) { best!.leftBins = [b] }
            }
            return best
        }
        let scoring = SplitScoring(rules: rules, l2: rules.l2 + rules.catL2, bounds: bounds, direction: 0, total: total)
        // Ascending g / (h + cat_smooth), ties by bin: a total order, so any sort gives the same sequence.
        let order = present.compactMap { b -> (key: Double, bin: Int)? in
            Double(hist[b].n) >= rules.catSmooth ? (hist[b].g / (hist[b].h + rules.catSmooth), b) : nil
        }.sorted { $0.key < $1.key || ($0.key == $1.key && $0.bin < $1.bin) }.map(\.bin)
        let limit = min(rules.maxCatThreshold, (order.count + 1) / 2)
        for direction in 0..<2 {
            let fromEnd = direction == 1
            var left = NodeStats(g: 0, h: 0, n: 0)
            var sinceScored = 0
            for k in 0..<min(limit, order.count) {
                let b = fromEnd ? order[order.count - 1 - k] : order[k]
                left = left + hist[b]
                sinceScored += hist[b].n
                guard rules.allowed(left) else { continue }
                let right = total - left
                if !rules.allowed(right) || right.n < rules.minDataPerGroup { break }
                guard sinceScored >= rules.minDataPerGroup else { continue }
                sinceScored = 0
                if consider(left, scoring) { bestBins = (fromEnd, k + 1) }
            }
        }
        if best != nil {
            let taken = bestBins.fromEnd ? order.suffix(bestBins.count) : order.prefix(bestBins.count)
            best!.leftBins = taken.sorted()
        }
        return best
    }
}
