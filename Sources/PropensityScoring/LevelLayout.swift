/// A numeric flat forest's trees padded to perfect binary trees of their own depths and stored level by level: the
/// layout of `LevelForest` (the batch vector walk) and `BinnedForest` (the single-row walk). Node k of level d of tree
/// t is `nodeStarts[t] + 2^d − 1 + k`; its children are nodes 2k and 2k + 1 of level d + 1; after `depths[t]` levels,
/// k indexes `leaves[leafStarts[t]...]`.
///
/// A node's test is `FlatForest`'s (`v[feature] ≤ limit`, NaN goes right). A leaf above its tree's depth becomes nodes
/// that send every row right (limit NaN, feature 0) down to the last level, where every leaf slot below it holds its
/// value: a walk adds the same leaf values in the same tree order as the flat walk, so the same bits.
///
/// Padding costs 2^depth leaves per tree whatever its shape, so forests with a tree deeper than `maxDepth`, or whose
/// layout would take more than `maxGrowth` times the flat forest's bytes (sparse deep trees: a LightGBM tree of 31
/// leaves at depth 10 pads to 2,047 slots), have no level layout. A full depth-6 tree takes a third of its flat bytes.
struct LevelLayout {
    /// The deepest tree the layout takes: 1,023 nodes and 1,024 leaves.
    static let maxDepth = 10
    /// The most the layout may take (8 bytes per node and per leaf), in multiples of the flat forest's bytes (24 per
    /// slot: its node and its value).
    static let maxGrowth = 2

    /// The flat forest's bytes (24 per slot: its node and its value), the measure of `maxGrowth`.
    let flatBytes: Int
    var features: [Int32]
    var limits: [Float]
    var leaves: [Double]
    var nodeStarts: [Int32]
    var leafStarts: [Int32]
    var depths: [Int32]

    /// From a numeric flat forest's tables (`FlatForest`'s properties of the same names); nil when a tree is deeper
    /// than `maxDepth` or the layout would outgrow `maxGrowth`.
    init?(nodes: [FlatForest.Node], values: [Double], roots: [UInt32], depths treeDepths: [Int]) {
        guard treeDepths.allSatisfy({ $0 <= Self.maxDepth }) else { return nil }
        let nodeCount = treeDepths.reduce(0) { $0 + (1 << $1) - 1 }
        let leafCount = treeDepths.reduce(0) { $0 + (1 << $1) }
        flatBytes = nodes.count * (MemoryLayout<FlatForest.Node>.stride + MemoryLayout<Double>.stride)
        guard (nodeCount + leafCount) * 8 <= Self.maxGrowth * flatBytes else { return nil }
        guard nodeCount <= Int(Int32.max) / 2, leafCount <= Int(Int32.max) else { return nil }
        features = [Int32](repeating: 0, count: nodeCount)
        limits = [Float](repeating: .nan, count: nodeCount)
        leaves = [Double](repeating: 0, count: leafCount)
        nodeStarts = []
        leafStarts = []
        depths = treeDepths.map { Int32($0) }
        var nodeStart = 0, leafStart = 0
        for t in roots.indices {
            let depth = treeDepths[t]
            nodeStarts.append(Int32(nodeStart))
            leafStarts.append(Int32(leafStart))
            // Slot `slot` of the flat forest reaches node k of level d.
            func place(_ slot: Int, level d: Int, _ k: Int) {
                let node = nodes[slot]
                let isLeaf = node.limit.isNaN
                if d == depth {
                    precondition(isLeaf, "a flat forest's depth counts every split")
                    leaves[leafStart + k] = values[slot]
                    return
                }
                let n = nodeStart + (1 << d) - 1 + k
                if isLeaf {  // every row goes right, to the same leaf
                    place(slot, level: d + 1, 2 * k)
                    place(slot, level: d + 1, 2 * k + 1)
                } else {
                    features[n] = Int32(node.feature)
                    limits[n] = node.limit
                    place(Int(node.left), level: d + 1, 2 * k)
                    place(Int(node.left) + 1, level: d + 1, 2 * k + 1)
                }
            }
            place(Int(roots[t]), level: 0, 0)
            nodeStart += (1 << depth) - 1
            leafStart += 1 << depth
        }
    }
}
