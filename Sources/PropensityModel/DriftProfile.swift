/// What the reference data (the training rows) looked like, column by column and in its scores: the baseline that
/// live traffic and new data are compared with by population stability index. Stored in the model file's `DRFT`
/// section (docs/drift.md). Holds only bin edges, category indices and fractions: no row, no identifier.
public struct DriftProfile: Sendable, Equatable {
    /// How many rows the fractions were computed from.
    public var rows: Int
    /// One per schema feature, in schema order.
    public var columns: [DriftBins]
    /// The model's reported probability on the reference rows (numeric bins; its missing bin stays empty).
    public var score: DriftBins

    public init(rows: Int, columns: [DriftBins], score: DriftBins) {
        self.rows = rows
        self.columns = columns
        self.score = score
    }
}

/// The bins of one column and the fraction of reference rows in each. Bins are the value bins, then one for missing
/// values, last.
public struct DriftBins: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Value bin `i` holds `edges[i-1] < x <= edges[i]`; the first holds `x <= edges[0]`, the last (index
        /// `edges.count`) `x > edges.last`. Edges are finite and strictly increasing (at most deciles).
        case numeric(edges: [Float])
        /// Value bin `i` holds category index `categories[i]` (the most frequent reference categories); bin
        /// `categories.count` holds every other value: the rarer known categories and unseen ones.
        case categorical(categories: [Int])
    }

    public let kind: Kind
    /// Fraction of the reference rows in each bin, missing last; non-negative, summing to 1.
    public let fractions: [Double]
    /// Category index → bin, for categorical columns (values past its end go to the "other" bin); empty for numeric.
    public let categoryBins: [Int32]

    public init(kind: Kind, fractions: [Double]) {
        self.kind = kind
        self.fractions = fractions
        if case .categorical(let categories) = kind {
            var lookup = [Int32](repeating: Int32(categories.count), count: (categories.max() ?? -1) + 1)
            for (bin, category) in categories.enumerated() { lookup[category] = Int32(bin) }
            categoryBins = lookup
        } else {
            categoryBins = []
        }
    }

    /// Value bins plus the missing bin.
    public var binCount: Int {
        switch kind {
        case .numeric(let edges): edges.count + 2
        case .categorical(let categories): categories.count + 2
        }
    }

    public var missingBin: Int { binCount - 1 }

    /// A numeric feature's bin of a value that is not NaN: how many edges lie below it. (Edges are few, ≤ 9:
    /// counting them beats a branchy search.)
    @inlinable public static func bin(ofPresent value: Float, edges: UnsafeBufferPointer<Float>) -> Int {
        var bin = 0
        for edge in edges where value > edge { bin &+= 1 }
        return bin
    }

    /// The bin a raw feature value (as the scorer receives it: NaN missing, categories as indices) falls in.
    @inlinable public func bin(of value: Float) -> Int {
        if value.isNaN { return missingBin }
        switch kind {
        case .numeric(let edges): return edges.withUnsafeBufferPointer { Self.bin(ofPresent: value, edges: $0) }
        case .categorical(let categories):
            let other = categories.count
            guard value >= 0, value < Float(categoryBins.count), value == value.rounded(.towardZero) else { return other }
            return Int(categoryBins[Int(value)])
        }
    }
}
