/// A binary-classification tree ensemble: `p = sigmoid(baseScore + Σ trees)`.
///
/// Trees split on raw input values (float32, as the scorer receives them), so a model does not depend on how its
/// trainer binned the data, and models imported from other libraries fit the same shape.
public struct TreeEnsembleModel: Sendable, Equatable {
    public var schema: FeatureSchema
    /// Margin (log-odds) every row starts from.
    public var baseScore: Double
    public var trees: [DecisionTree]
    /// One entry per schema feature.
    public var importance: [FeatureImportance]

    public init(schema: FeatureSchema, baseScore: Double, trees: [DecisionTree], importance: [FeatureImportance]) {
        self.schema = schema
        self.baseScore = baseScore
        self.trees = trees
        self.importance = importance
    }

    /// The margin for one row of raw features (schema order), in double precision: the reference the compiled
    /// scorer is tested against.
    public func margin(_ row: [Float]) -> Double {
        var z = baseScore
        for tree in trees { z += tree.leafValues[tree.leaf(for: row, schema: schema)] }
        return z
    }

    public func probability(_ row: [Float]) -> Double { Sigmoid.of(margin(row)) }

    /// Whether every tree has its covers (see `DecisionTree.covers`).
    public var hasCovers: Bool { trees.allSatisfy(\.hasCovers) }
}

public struct FeatureImportance: Sendable, Equatable {
    /// Total loss reduction of the splits on this feature.
    public var gain: Double
    public var splits: Int

    public init(gain: Double, splits: Int) {
        self.gain = gain
        self.splits = splits
    }
}

/// One tree: internal nodes and leaves in flat arrays. A child index ≥ 0 is an internal node; a negative one is
/// the leaf `~index` (so `-1` is leaf 0). A tree with no internal node is the single leaf 0.
public struct DecisionTree: Sendable, Equatable {
    public var nodes: [Node]
    public var leafValues: [Double]
    /// Bitsets of categorical splits, 32 categories per word; a node's set is `categoryWords[offset ..< offset + count]`.
    public var categoryWords: [UInt32]
    /// How much training data reached each internal node, then each leaf (`nodes.count + leafValues.count` values):
    /// the hessian sum for native and XGBoost models, the row count for LightGBM ones. What TreeSHAP weighs the
    /// paths a row does not take by. Empty when unknown (files written before covers were stored).
    public var covers: [Double]

    public init(nodes: [Node], leafValues: [Double], categoryWords: [UInt32], covers: [Double] = []) {
        self.nodes = nodes
        self.leafValues = leafValues
        self.categoryWords = categoryWords
        self.covers = covers
    }

    /// Whether every node and leaf has its cover, so that contributions can be computed.
    public var hasCovers: Bool { covers.count == nodes.count + leafValues.count }

    public struct Node: Sendable, Equatable {
        public var feature: Int32
        public var kind: SplitKind
        /// Where a missing (NaN) value goes. (Unseen categories always go right.)
        public var defaultLeft: Bool
        /// Numeric splits: 0 (|x| ≤ 1e-35) counts as missing too — LightGBM's `zero_as_missing`.
        public var zeroIsMissing: Bool
        /// Numeric splits: `x <= threshold` goes left.
        public var threshold: Float
        public var left: Int32
        public var right: Int32
        /// Categorical splits: category indices in the set go left.
        public var categoryOffset: UInt32
        public var categoryCount: UInt32

        public init(
            feature: Int32, kind: SplitKind, defaultLeft: Bool, threshold: Float, left: Int32, right: Int32,
            categoryOffset: UInt32 = 0, categoryCount: UInt32 = 0, zeroIsMissing: Bool = false
        ) {
            self.feature = feature
            self.kind = kind
            self.defaultLeft = defaultLeft
            self.zeroIsMissing = zeroIsMissing
            self.threshold = threshold
            self.left = left
            self.right = right
            self.categoryOffset = categoryOffset
            self.categoryCount = categoryCount
        }
    }

    public enum SplitKind: UInt8, Sendable {
        case numeric = 0
        case categorical = 1
    }

    /// The largest magnitude that counts as zero for `zeroIsMissing` (LightGBM's kZeroThreshold).
    public static let zeroThreshold: Float = 1e-35

    /// Whether `node` sends the value `x` left.
    @inlinable
    public func goesLeft(_ node: Node, _ x: Float) -> Bool {
        if x.isNaN || (node.zeroIsMissing && abs(x) <= DecisionTree.zeroThreshold) { return node.defaultLeft }
        switch node.kind {
        case .numeric:
            return x <= node.threshold
        case .categorical:
            guard x >= 0, x < Float(node.categoryCount) * 32, x == x.rounded(.towardZero) else { return false }
            let code = Int(x)
            return categoryWords[Int(node.categoryOffset) + code >> 5] & (1 << UInt32(code & 31)) != 0
        }
    }

    /// The leaf a row of raw features lands in.
    public func leaf(for row: [Float], schema: FeatureSchema) -> Int {
        if nodes.isEmpty { return 0 }
        var index: Int32 = 0
        while index >= 0 {
            let node = nodes[Int(index)]
            index = goesLeft(node, row[Int(node.feature)]) ? node.left : node.right
        }
        return Int(~index)
    }
}
