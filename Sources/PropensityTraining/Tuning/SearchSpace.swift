/// The GBDT parameters `propensity tune` searches and their ranges (docs/tuning.md). Parameters outside the space
/// (trees, bins, constraints, …) come from the base options.
public struct SearchSpace: Sendable, Equatable, CustomStringConvertible {
    public var ranges: [TunedParameter: SearchRange]

    /// The default space: the ranges LightGBM users tune, as in Optuna's LightGBM examples.
    public static let standard = SearchSpace(ranges: [
        .learningRate: SearchRange(0.01, 0.3, log: true),
        .numLeaves: SearchRange(8, 128, log: true),
        .maxDepth: SearchRange(3, 12),
        .minChildWeight: SearchRange(1e-3, 10, log: true),
        .minSamplesLeaf: SearchRange(5, 200, log: true),
        .l2: SearchRange(1e-8, 10, log: true),
        .subsample: SearchRange(0.5, 1),
        .colsample: SearchRange(0.5, 1),
    ])

    /// The first trial: LightGBM's defaults where they lie in the space (clamped to it otherwise), so a search
    /// never ends worse than the usual starting point.
    public static let startingPoint: [TunedParameter: Double] = [
        .learningRate: 0.1, .numLeaves: 31, .maxDepth: 8, .minChildWeight: 1e-3, .minSamplesLeaf: 20, .l2: 1e-8,
        .subsample: 1, .colsample: 1,
    ]

    public init(ranges: [TunedParameter: SearchRange]) {
        self.ranges = ranges
    }

    /// Parameters in a fixed order (the order of `TunedParameter.allCases`), so sampling is reproducible.
    public var parameters: [TunedParameter] { ranges.keys.sorted() }

    /// The starting point, clamped into this space.
    public var start: [TunedParameter: Double] {
        var point: [TunedParameter: Double] = [:]
        for (parameter, range) in ranges {
            point[parameter] = min(max(Self.startingPoint[parameter]!, range.low), range.high)
        }
        return point
    }

    /// `base` with the point's values (leaf-wise growth, as `num_leaves` is searched).
    public func options(_ point: [TunedParameter: Double], base: GBDTOptions) -> GBDTOptions {
        var o = base
        for (parameter, value) in point {
            switch parameter {
            case .learningRate: o.learningRate = value
            case .numLeaves: o.numLeaves = Int(value)
            case .maxDepth: o.maxDepth = Int(value)
            case .minChildWeight: o.minChildWeight = value
            case .minSamplesLeaf: o.minSamplesLeaf = Int(value)
            case .l2: o.l2 = value
            case .subsample: o.subsample = value
            case .colsample: o.colsample = value
            }
        }
        return o
    }

    /// The space as a search-space file says it.
    public var description: String {
        parameters.map { "\($0.rawValue) \(ranges[$0]!)" }.joined(separator: "\n")
    }
}
