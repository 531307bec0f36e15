import CTreeWalk

/// A numeric flat forest laid out for the vector walks (`TreeWalk.avx2`, `.avx512`): `LevelLayout`'s tables in buffers
/// the C walks read. The node a row reaches at level d of a tree is an index k < 2^d into that level, and its children
/// are 2k and 2k + 1 of the next, so the levels of a depth-6 tree (1 to 32 nodes) fit in one to four vector registers:
/// a step looks its nodes up by permutes, not by gathers. The same leaf values in the same tree order as the scalar
/// walk: the same bits.
final class LevelForest: @unchecked Sendable {  // immutable after init; the buffers are freed with it
    /// The tables as the C walk reads them (pointers into the buffers below).
    let table: propensity_level_forest
    /// `.avx2` or `.avx512`.
    let walk: TreeWalk
    private let features: UnsafeMutableBufferPointer<Int32>
    private let limits: UnsafeMutableBufferPointer<Float>
    private let leaves: UnsafeMutableBufferPointer<Double>
    private let nodeStarts: UnsafeMutableBufferPointer<Int32>
    private let leafStarts: UnsafeMutableBufferPointer<Int32>
    private let depths: UnsafeMutableBufferPointer<Int32>

    init(_ layout: LevelLayout, walk: TreeWalk) {
        precondition(walk != .scalar)
        self.walk = walk
        // The C walk reads shallow levels 8 entries at a time, past a shallow last tree's end.
        features = .copy(layout.features, padding: Self.padding, with: 0)
        limits = .copy(layout.limits, padding: Self.padding, with: .nan)
        leaves = .copy(layout.leaves, padding: 0, with: 0)
        nodeStarts = .copy(layout.nodeStarts, padding: 0, with: 0)
        leafStarts = .copy(layout.leafStarts, padding: 0, with: 0)
        depths = .copy(layout.depths, padding: 0, with: 0)
        table = propensity_level_forest(
            features: UnsafePointer(features.baseAddress!), limits: UnsafePointer(limits.baseAddress!),
            leaves: UnsafePointer(leaves.baseAddress!), node_starts: UnsafePointer(nodeStarts.baseAddress!),
            leaf_starts: UnsafePointer(leafStarts.baseAddress!), depths: UnsafePointer(depths.baseAddress!),
            trees: Int64(layout.depths.count))
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
            // 16-row vectors pay only with 4 of them in flight: with fewer, the latency of each level's step shows
            // (16- and 32-row calls were 15 % slower than the 8-row walk, 64-row blocks 5–20 % faster).
            if walk == .avx512 && rows >= Self.avx512MinimumRows {
                propensity_tree_walk_avx512(table, v, Int64(stride), Int64(rows), scratch, margins)
            } else {
                propensity_tree_walk_avx2(table, v, Int64(stride), Int64(rows), scratch, margins)
            }
        }
    }

    /// Fewer rows than this take the 8-row walk even when the 16-row one was asked for (the same bits).
    static let avx512MinimumRows = 64
}
