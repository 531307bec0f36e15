import PropensityModel

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// All trees of an ensemble in one set of flat node arrays. A child ≥ 0 is a node; a negative child is the leaf
/// `~child` in the global leaf array. Handles every split kind (categorical sets, zero-as-missing); `FlatForest` is
/// the fast path for every ensemble without zero-as-missing splits, numeric and categorical alike.
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

    func score<Link: ScoreLink>(
        rows input: UnsafeRawBufferPointer, rowCount: Int, width: Int, into output: UnsafeMutableRawBufferPointer,
        link: Link
    ) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, width)) { row in
            for r in 0..<rowCount {
                for j in 0..<width { row[j] = loadFeature(input, (r * width + j) * 4) }
                storeScore(output, r, margin(UnsafeBufferPointer(row)), link)
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
