/// A GBDT parameter `propensity tune` searches, named as in a search-space file (and as the model's metadata
/// records it).
public enum TunedParameter: String, CaseIterable, Sendable, Comparable {
    case learningRate = "learning_rate"
    case numLeaves = "num_leaves"
    case maxDepth = "max_depth"
    case minChildWeight = "min_child_weight"
    case minSamplesLeaf = "min_samples_leaf"
    case l2
    case subsample
    case colsample

    public var isInteger: Bool { self == .numLeaves || self == .maxDepth || self == .minSamplesLeaf }

    /// The values `GBDTOptions.validate` accepts, as a test and in words.
    var domain: (contains: (Double) -> Bool, words: String) {
        switch self {
        case .learningRate: ({ $0 > 0 }, "positive")
        case .numLeaves: ({ $0 >= 2 }, "at least 2")
        case .maxDepth, .minSamplesLeaf: ({ $0 >= 1 }, "at least 1")
        case .minChildWeight, .l2: ({ $0 >= 0 }, "≥ 0")
        case .subsample, .colsample: ({ $0 > 0 && $0 <= 1 }, "in (0, 1]")
        }
    }

    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
