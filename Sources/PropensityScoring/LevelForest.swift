import CTreeWalk

/// A numeric flat forest laid out for the vector walk (`TreeWalk.avx2`): each tree padded to a perfect binary tree of
/// its own depth and stored level by level, so that the node a row reaches at level d of a tree is an index k < 2^d
/// into that level, and its children are 2k and 2k + 1 of the next. The levels of a depth-6 tree (1 to 32 nodes) fit
/// in one to four vector registers: a step looks its nodes up by permutes, not by gathers.
///
/// A node's test is `FlatForest`'s, unchanged (`v[feature] ≤ limit`, NaN goes right, default-left splits mirrored into
/// the negated half of `v`). A leaf above the tree's depth becomes nodes that send every row right (limit NaN) down
/// to the last level, where every leaf slot below it holds its value. So the vector walk adds the same leaf values
/// in the same tree order as the scalar walk: the same bits.
///
/// Padding costs 2^depth leaves per tree whatever its shape (8 bytes per padded node and per padded leaf), so forests
/// with a tree deeper than `maxDepth`, or whose layout would take more than twice the flat forest's bytes (sparse deep
/// trees: a LightGBM tree of 31 leaves at depth 10 pads to 2,047 slots), keep the scalar walk. A full depth-6 tree
/// takes a third of its flat bytes.
final class LevelForest: @unchecked Sendable {  // immutable after init; the buffers are freed with it
    /// The deepest tree the layout takes: 1,023 nodes and 1,024 leaves (16 KB).
    static let maxDepth = 10
    /// The most the layout may take, in multiples of the flat forest's bytes (24 per slot: its node and its value).
    static let maxGrowth = 2

    /// The tables as the C walk reads them (pointers into the buffers below).
    let table: propensity_level_forest
    private let features: UnsafeMutableBufferPointer<Int32>
    private let limits: UnsafeMutableBufferPointer<Float>
    private let leaves: UnsafeMutableBufferPointer<Double>
    private let nodeStarts: UnsafeMutableBufferPointer<Int32>
    private let leafStarts: UnsafeMutableBufferPointer<Int32>
    private let depths: UnsafeMutableBufferPointer<Int32>

    /// From a numeric flat forest's tables (`FlatForest`'s properties of the same names); nil when a tree is deeper
    /// than `maxDepth` or the layout would outgrow `maxGrowth`.
    init?(nodes: [FlatForest.Node], values: [Double], roots: [UInt32], depths treeDepths: [Int]) {
        guard treeDepths.allSatisfy({ $0 <= Self.maxDepth }) else { return nil }
        let nodeCount = treeDepths.reduce(0) { $0 + (1 << $1) - 1 }
        let leafCount = treeDepths.reduce(0) { $0 + (1 << $1) }
        let flatBytes = nodes.count * (MemoryLayout<FlatForest.Node>.stride + MemoryLayout<Double>.stride)
        guard (nodeCount + leafCount) * 8 <= Self.maxGrowth * flatBytes else { return nil }
        guard nodeCount + Self.padding <= Int(Int32.max), leafCount <= Int(Int32.max) else { return nil }
        // The C walk reads shallow levels 8 entries at a time, past a shallow last tree's end.
        let features = UnsafeMutableBufferPointer<Int32>.allocate(capacity: nodeCount + Self.padding)
        features.initialize(repeating: 0)
        let limits = UnsafeMutableBufferPointer<Float>.allocate(capacity: nodeCount + Self.padding)
        limits.initialize(repeating: .nan)
        let leaves = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(1, leafCount))
        leaves.initialize(repeating: 0)
        let nodeStarts = UnsafeMutableBufferPointer<Int32>.allocate(capacity: max(1, roots.count))
        let leafStarts = UnsafeMutableBufferPointer<Int32>.allocate(capacity: max(1, roots.count))
        let depths = UnsafeMutableBufferPointer<Int32>.allocate(capacity: max(1, roots.count))
        var nodeStart = 0, leafStart = 0
        for t in roots.indices {
            let depth = treeDepths[t]
            nodeStarts[t] = Int32(nodeStart)
            leafStarts[t] = Int32(leafStart)
            depths[t] = Int32(depth)
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
                if isLeaf {
                    features[n] = 0
                    limits[n] = .nan  // every row goes right, to the same leaf
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
        (self.features, self.limits, self.leaves) = (features, limits, leaves)
        (self.nodeStarts, self.leafStarts, self.depths) = (nodeStarts, leafStarts, depths)
        table = propensity_level_forest(
            features: UnsafePointer(features.baseAddress!), limits: UnsafePointer(limits.baseAddress!),
            leaves: UnsafePointer(leaves.baseAddress!), node_starts: UnsafePointer(nodeStarts.baseAddress!),
            leaf_starts: UnsafePointer(leafStarts.baseAddress!), depths: UnsafePointer(depths.baseAddress!),
            trees: Int64(roots.count))
    }

    private static let padding = 16

    deinit {
        features.deallocate()
        limits.deallocate()
        leaves.deallocate()
        nodeStarts.deallocate()
        leafStarts.deallocate()
        depths.deallocate()
    }

    /// Adds every tree's leaf value to `margins[r]` for `rows` rows (a multiple of 8, at most 64) of `v`, tree by tree.
    /// `scratch`: room for `rows * stride` floats.
    @inline(__always)
    func addTrees(
        _ v: UnsafePointer<Float>, stride: Int, rows: Int, scratch: UnsafeMutablePointer<Float>,
        margins: UnsafeMutablePointer<Double>
    ) {
        withUnsafePointer(to: table) { table in
            propensity_tree_walk_avx2(table, v, Int64(stride), Int64(rows), scratch, margins)
        }
    }
}
