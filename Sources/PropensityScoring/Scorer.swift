import PropensityModel

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A model turned into an evaluation plan: preprocessing folded into flat arrays, trees flattened into contiguous
/// node arrays, so scoring a row is one pass with no allocation and no dynamic dispatch per feature or node.
///
/// Inputs are float32 in schema order (see `FeatureSchema`); the probability is computed in double and returned as
/// float32. `propensity predict` and the server both score through this type, so their outputs are identical.
public final class Scorer: Sendable {
    public let schema: FeatureSchema
    public let featureCount: Int
    private let plan: PlanKind
    // One of these is set, per `plan`. Separate properties rather than enum payloads: a call then borrows the plan
    // instead of copying it out of the enum (a retain and release per call, per array of a struct plan).
    private let logistic: LogisticPlan?
    private let forest: FlatForest?
    private let trees: TreePlan?

    /// Which evaluation plan the model compiled to (for benchmarks and `inspect`).
    public var planName: String {
        switch plan {
        case .logistic: "logistic"
        case .forest: "flat-forest"
        case .trees: "general-trees"
        }
    }

    /// The fewest rows for which scoring several rows in one call beats scoring them one by one (nil: never, the
    /// cost per row is the same). The server gathers small pipelined requests into batches of at least this many.
    public var batchingPays: Int? {
        switch plan {
        case .forest: FlatForest.minimumBlockRows
        case .logistic, .trees: nil
        }
    }

    private enum PlanKind: Sendable {
        case logistic, forest, trees
    }

    /// Compiles `model` into its scoring plan: flat arrays for logistic regression, a branch-free flat forest for
    /// ensembles it fits, the general tree walk otherwise. Never fails: a `Model` is valid by construction (files
    /// are checked on load).
    /// - Parameter model: a native or imported model.
    public init(model: Model) {
        schema = model.schema
        featureCount = model.schema.count
        switch model.body {
        case .logisticRegression(let lr):
            (plan, logistic, forest, trees) = (.logistic, LogisticPlan(lr), nil, nil)
        case .treeEnsemble(let ensemble):
            if let flat = FlatForest(ensemble) {
                (plan, logistic, forest, trees) = (.forest, nil, flat, nil)
            } else {
                (plan, logistic, forest, trees) = (.trees, nil, nil, TreePlan(ensemble))
            }
        }
    }

    /// Scores `rowCount` rows of little-endian float32 features (row-major, `featureCount` per row, no alignment
    /// required) into `output` (`rowCount` little-endian float32, no alignment required).
    public func score(rows input: UnsafeRawBufferPointer, rowCount: Int, into output: UnsafeMutableRawBufferPointer) {
        precondition(input.count >= rowCount * featureCount * 4 && output.count >= rowCount * 4)
        switch plan {
        case .logistic: logistic.unsafelyUnwrapped.score(rows: input, rowCount: rowCount, width: featureCount, into: output)
        case .forest: forest.unsafelyUnwrapped.score(rows: input, rowCount: rowCount, width: featureCount, into: output)
        case .trees: trees.unsafelyUnwrapped.score(rows: input, rowCount: rowCount, width: featureCount, into: output)
        }
    }

    /// Convenience for callers holding a float array.
    /// - Parameter features: row-major, `featureCount` float32 per row in schema order (NaN for missing, a
    ///   category's index for a categorical feature); must be whole rows.
    /// - Returns: one probability per row, bit for bit what the server answers for the same rows.
    public func score(_ features: [Float]) -> [Float] {
        precondition(features.count % max(1, featureCount) == 0)
        let rowCount = featureCount == 0 ? 0 : features.count / featureCount
        var out = [Float](repeating: 0, count: rowCount)
        features.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { output in score(rows: input, rowCount: rowCount, into: output) }
        }
        return out
    }
}

@inline(__always)
func loadFeature(_ input: UnsafeRawBufferPointer, _ offset: Int) -> Float {
    Float(bitPattern: UInt32(littleEndian: input.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
}

@inline(__always)
func storeScore(_ output: UnsafeMutableRawBufferPointer, _ row: Int, _ margin: Double) {
    output.storeBytes(of: Float(Sigmoid.of(margin)).bitPattern.littleEndian, toByteOffset: row * 4, as: UInt32.self)
}

/// Logistic regression with scaling folded into the weights, numeric and categorical terms in separate loops so
/// that the numeric one has no branch (a missing value selects its term instead). A class: the scorer's plan enum
/// then hands it over with one reference, not one retain per array (measured: that was a third of a call).
final class LogisticPlan: Sendable {
    struct NumericTerm: Sendable {
        /// Byte offset of the feature within a row.
        var offset: Int
        /// weight / scale, so the term is `slope · x`.
        var slope: Double
        /// The whole contribution of a missing value (imputed term + indicator weight), relative to the folded
        /// intercept.
        var missing: Double
    }

    struct CategoricalTerm: Sendable {
        var offset: Int
        /// Where its weights start in `categoryWeights`, and how many there are.
        var table: Int
        var count: Int
    }

    let numeric: [NumericTerm]
    let categorical: [CategoricalTerm]
    let categoryWeights: [Double]
    let bias: Double

    init(_ lr: LogisticRegressionModel) {
        var numeric: [NumericTerm] = []
        var categorical: [CategoricalTerm] = []
        var table: [Double] = []
        var bias = lr.intercept
        for (j, term) in lr.terms.enumerated() {
            switch term {
            case .numeric(let t):
                let slope = t.weight / t.scale
                bias -= slope * t.center
                numeric.append(NumericTerm(
                    offset: j * 4, slope: slope, missing: slope * t.imputedValue + (t.missingWeight ?? 0)))
            case .categorical(let weights):
                categorical.append(CategoricalTerm(offset: j * 4, table: table.count, count: weights.count))
                table += weights
            }
        }
        self.numeric = numeric
        self.categorical = categorical
        self.categoryWeights = table
        self.bias = bias
    }

    func score(rows input: UnsafeRawBufferPointer, rowCount: Int, width: Int, into output: UnsafeMutableRawBufferPointer) {
        numeric.withUnsafeBufferPointer { numeric in
        categorical.withUnsafeBufferPointer { categorical in
        categoryWeights.withUnsafeBufferPointer { table in
            for r in 0..<rowCount {
                let row = UnsafeRawBufferPointer(rebasing: input[(r * width * 4)...])
                var z = bias
                for term in numeric {
                    let x = loadFeature(row, term.offset)
                    let value = term.slope * Double(x)
                    z += x.isNaN ? term.missing : value
                }
                for term in categorical {
                    if let code = CategoryCode.index(loadFeature(row, term.offset), count: term.count) {
                        z += table[term.table + code]
                    }
                }
                storeScore(output, r, z)
            }
        }}}
    }
}

/// All trees of an ensemble in one set of flat node arrays. A child ≥ 0 is a node; a negative child is the leaf
/// `~child` in the global leaf array. Handles every split kind (categorical sets, zero-as-missing); `FlatForest` is
/// the fast path for the common all-numeric case.
struct TreePlan: Sendable {
    let roots: [Int32]
    let features: [Int32]
    let thresholds: [Float]
    /// Bit 0: categorical split; bit 1: missing goes left; bit 2: zero counts as missing.
    let flags: [UInt8]
    let lefts: [Int32]
    let rights: [Int32]
    let categoryOffsets: [Int32]
    let categoryLimits: [Int32]
    let categoryWords: [UInt32]
    let leafValues: [Double]
    let baseScore: Double

    init(_ ensemble: TreeEnsembleModel) {
        var roots: [Int32] = []
        var features: [Int32] = []
        var thresholds: [Float] = []
        var flags: [UInt8] = []
        var lefts: [Int32] = []
        var rights: [Int32] = []
        var categoryOffsets: [Int32] = []
        var categoryLimits: [Int32] = []
        var words: [UInt32] = []
        var leaves: [Double] = []
        for tree in ensemble.trees {
            let nodeBase = Int32(features.count)
            let leafBase = Int32(leaves.count)
            let wordBase = Int32(words.count)
            func relocate(_ child: Int32) -> Int32 { child >= 0 ? child + nodeBase : ~(~child + leafBase) }
            roots.append(tree.nodes.isEmpty ? ~leafBase : nodeBase)
            for node in tree.nodes {
                features.append(node.feature)
                thresholds.append(node.threshold)
                flags.append((node.kind == .categorical ? 1 : 0) | (node.defaultLeft ? 2 : 0) | (node.zeroIsMissing ? 4 : 0))
                lefts.append(relocate(node.left))
                rights.append(relocate(node.right))
                categoryOffsets.append(wordBase + Int32(node.categoryOffset))
                categoryLimits.append(Int32(node.categoryCount) * 32)
            }
            leaves += tree.leafValues
            words += tree.categoryWords
        }
        self.roots = roots
        self.features = features
        self.thresholds = thresholds
        self.flags = flags
        self.lefts = lefts
        self.rights = rights
        self.categoryOffsets = categoryOffsets
        self.categoryLimits = categoryLimits
        self.categoryWords = words
        self.leafValues = leaves
        self.baseScore = ensemble.baseScore
    }

    func score(rows input: UnsafeRawBufferPointer, rowCount: Int, width: Int, into output: UnsafeMutableRawBufferPointer) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, width)) { row in
            for r in 0..<rowCount {
                for j in 0..<width { row[j] = loadFeature(input, (r * width + j) * 4) }
                storeScore(output, r, margin(UnsafeBufferPointer(row)))
            }
        }
    }

    func margin(_ row: UnsafeBufferPointer<Float>) -> Double {
        var z = baseScore
        for root in roots {
            var node = root
            while node >= 0 {
                let i = Int(node)
                let x = row[Int(features[i])]
                let f = flags[i]
                let goLeft: Bool
                if x.isNaN || (f & 4 != 0 && abs(x) <= DecisionTree.zeroThreshold) {
                    goLeft = f & 2 != 0
                } else if f & 1 == 0 {
                    goLeft = x <= thresholds[i]
                } else if x >= 0, x < Float(categoryLimits[i]), x == x.rounded(.towardZero) {
                    let code = Int(x)
                    goLeft = categoryWords[Int(categoryOffsets[i]) + code >> 5] & (1 << UInt32(code & 31)) != 0
                } else {
                    goLeft = false
                }
                node = goLeft ? lefts[i] : rights[i]
            }
            z += leafValues[Int(~node)]
        }
        return z
    }
}
