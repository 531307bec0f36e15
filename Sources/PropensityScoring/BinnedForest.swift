import CTreeWalk
import PropensityMetrics

/// A numeric flat forest laid out for scoring one row at a time: `LevelLayout`'s trees with 4-byte nodes that read
/// the row's bins rather than its values, interleaved by groups of 8 trees.
///
/// A node is the slot of `v` it reads (16 bits) and the index of its threshold among that slot's thresholds, plus one
/// (16 bits): a depth-6 tree's 63 nodes take 252 bytes (`FlatForest`: 127 slots of 24 bytes). The row is binned first:
/// a slot's bin is how many of its distinct thresholds (every limit a node compares it with) are below its value, found
/// by binary search (or, with AVX2 or AVX-512F, by 16-wide compares against blocks of them), and 0xFFFF for NaN. For
/// thresholds t₀ < t₁ < … and a value x, x ≤ t_j exactly when fewer than j + 1 thresholds are below x, so "bin ≥ j + 1"
/// is `FlatForest`'s "goes right", and a NaN (which fails every comparison) goes right at every node. Padding nodes
/// (limit NaN) store 0 in their low half: every row goes right, as in the level layout.
///
/// The 8 trees of a group are padded to the group's deepest and interleaved (node h of tree i at 8 h + i), so the
/// walk steps the 8 together with each tree's position in one register (see `binned_walk.h`). It adds the same leaves
/// in the same order as `FlatForest`: the same bits. On the 500-tree depth-6 benchmark model a single row takes
/// ~3.4 µs against 5.1 µs through `FlatForest` (`propensity-bench scorer`, 1 thread, pinned).
final class BinnedForest: @unchecked Sendable {  // immutable after init; the buffers are freed with it
    /// Trees per group.
    static let group = Int(PROPENSITY_BINNED_GROUP)
    /// The tables as the C walk reads them (pointers into the buffers below).
    let table: propensity_binned_forest
    /// Slots of `v` the walk may read (bins to room for).
    let stride: Int
    private let nodes: UnsafeMutableBufferPointer<UInt32>
    private let leaves: UnsafeMutableBufferPointer<Double>
    private let nodeStarts: UnsafeMutableBufferPointer<Int64>
    private let leafStarts: UnsafeMutableBufferPointer<Int64>
    private let depths: UnsafeMutableBufferPointer<Int32>
    private let slots: UnsafeMutableBufferPointer<Int32>
    private let thresholds: UnsafeMutableBufferPointer<Float>
    private let thresholdStarts: UnsafeMutableBufferPointer<Int32>
    /// The tables of the binning by compares (`binned_walk.h`), or empty.
    private let wide: UnsafeMutableBufferPointer<Float>
    private let wideStarts: UnsafeMutableBufferPointer<Int32>

    /// How a row's values become bins: the same bins either way.
    enum Binning: Sendable, Equatable {
        /// Binary searches, 4 slots stepped together: any CPU, any number of thresholds.
        case search
        /// 16-wide compares against blocks of a slot's thresholds, as two 8-wide AVX2 compares each.
        case avx2
        /// The same compares as one AVX-512F compare each.
        case avx512

        /// The compares the CPU runs for `walk`'s vector instructions (`.search` for the scalar walk, the reference).
        init(_ walk: TreeWalk) {
            switch walk {
            case .scalar: self = .search
            case .avx2: self = .avx2
            case .avx512: self = .avx512
            }
        }
    }

    /// How this forest bins rows.
    var binning: Binning { table.wide == nil ? .search : table.wide_avx512 != 0 ? .avx512 : .avx2 }

    /// Most thresholds of one slot the binning by compares takes: 16 blocks of 16, counted by one compare of splitters.
    static let wideMaximum = 256

    /// From a numeric forest's level layout (`stride`: its values per row); nil when the trees padded to their groups'
    /// depths would outgrow `LevelLayout.maxGrowth` times the flat forest's bytes, or a slot index or a slot's
    /// threshold count does not fit 16 bits (a NaN's bin, 0xFFFF, must be at least every threshold's index plus one).
    /// `binning`: how to bin rows (compares only on a CPU that has their instructions); binary searches whatever it
    /// says when a slot has more than `wideMaximum` thresholds.
    init?(_ layout: LevelLayout, stride: Int, binning: Binning = .search) {
        let group = Self.group
        let trees = layout.depths.count
        guard stride <= Int(UInt16.max) + 1 else { return nil }
        let groupDepths = Swift.stride(from: 0, to: trees, by: group).map {
            Int(layout.depths[$0..<min($0 + group, trees)].max()!)
        }
        let nodeCount = groupDepths.reduce(0) { $0 + group * ((1 << $1) - 1) }
        let leafCount = groupDepths.reduce(0) { $0 + group << $1 }
        guard nodeCount * 4 + leafCount * 8 <= LevelLayout.maxGrowth * layout.flatBytes else { return nil }

        // Each slot's distinct thresholds, ascending (−0 and +0 are one threshold), and each node's index among its
        // slot's plus one (0 for padding: every row goes right), from one radix sort of every node by (slot,
        // threshold): the pair as the integer slot · 2³² + the threshold's order key, exact in a Double.
        let real = layout.limits.indices.filter { !layout.limits[$0].isNaN }
        let keys = real.map { n in
            let limit = layout.limits[n] == 0 ? 0 : layout.limits[n]
            return Double(UInt64(layout.features[n]) << 32 | UInt64(FloatSort.key(limit)))
        }
        var bySlot = [[Float]](repeating: [], count: stride)
        var rightFrom = [UInt32](repeating: 0, count: layout.limits.count)
        var previous = -1.0
        for i in keys.withUnsafeBufferPointer(ScoreOrder.ascendingRows) {
            let node = real[Int(i)]
            let slot = Int(layout.features[node])
            if keys[Int(i)] != previous {
                guard bySlot[slot].count < Int(UInt16.max) - 1 else { return nil }
                bySlot[slot].append(layout.limits[node] == 0 ? 0 : layout.limits[node])
                previous = keys[Int(i)]
            }
            rightFrom[node] = UInt32(bySlot[slot].count)
        }
        // Blocks of 4 slots (the most thresholds first) share one search length: each slot's thresholds padded with
        // +∞ (never below a value) to the block's 2^m − 1 entries.
        let used = bySlot.indices.filter { !bySlot[$0].isEmpty }.sorted { bySlot[$0].count > bySlot[$1].count }
        var thresholds: [Float] = []
        var starts: [Int32] = []
        for block in Swift.stride(from: 0, to: used.count, by: 4) {
            let size = (1 << (Int.bitWidth - bySlot[used[block]].count.leadingZeroBitCount)) - 1
            for slot in used[block..<min(block + 4, used.count)] {
                starts.append(Int32(thresholds.count))
                thresholds += bySlot[slot] + Array(repeating: .infinity, count: size - bySlot[slot].count)
            }
        }
        starts.append(Int32(thresholds.count))
        // The same thresholds for the binning by compares: 16 splitters (each block's last entry), the blocks, then a
        // block of +∞.
        var wide: [Float] = []
        var wideStarts: [Int32] = []
        if binning != .search && used.allSatisfy({ bySlot[$0].count <= Self.wideMaximum }) {
            for slot in used {
                let blocks = (bySlot[slot].count + 15) / 16 + 1
                let padded = bySlot[slot] + Array(repeating: .infinity, count: blocks * 16 - bySlot[slot].count)
                wideStarts.append(Int32(wide.count))
                wide += (0..<16).map { k in k < blocks ? padded[16 * k + 15] : .infinity } + padded
            }
        }

        // Interleaved by groups: node h of the group's tree i at 8 h + i, leaf k at 8 k + i. A tree shallower than its
        // group continues below its leaves with padding nodes (every row goes right, reads a bin the row has), so a
        // leaf k at depth d ends at leaf k·2^(D−d) + 2^(D−d) − 1 of the group's depth D: all that range holds its value.
        let padding = UInt32(used.first ?? 0) << 16
        var nodes = [UInt32](repeating: padding, count: nodeCount)
        var leaves = [Double](repeating: 0, count: leafCount)
        var nodeStarts: [Int64] = []
        var leafStarts: [Int64] = []
        var nodeStart = 0, leafStart = 0
        for (g, depth) in groupDepths.enumerated() {
            nodeStarts.append(Int64(nodeStart))
            leafStarts.append(Int64(leafStart))
            for i in 0..<min(group, trees - g * group) {
                let t = g * group + i
                let own = Int(layout.depths[t])
                let from = Int(layout.nodeStarts[t])
                for h in 0..<((1 << own) - 1) where rightFrom[from + h] != 0 {
                    nodes[nodeStart + group * h + i] = UInt32(layout.features[from + h]) << 16 | rightFrom[from + h]
                }
                let spread = 1 << (depth - own)
                for k in 0..<(1 << own) {
                    let value = layout.leaves[Int(layout.leafStarts[t]) + k]
                    for j in (k * spread)..<((k + 1) * spread) { leaves[leafStart + group * j + i] = value }
                }
            }
            nodeStart += group * ((1 << depth) - 1)
            leafStart += group << depth
        }
        self.stride = stride
        self.nodes = .copy(nodes, padding: 0, with: 0)
        self.leaves = .copy(leaves, padding: 0, with: 0)
        self.nodeStarts = .copy(nodeStarts, padding: 0, with: 0)
        self.leafStarts = .copy(leafStarts, padding: 0, with: 0)
        depths = .copy(groupDepths.map { Int32($0) }, padding: 0, with: 0)
        slots = .copy(used.map { Int32($0) }, padding: 0, with: 0)
        self.thresholds = .copy(thresholds, padding: 0, with: 0)
        thresholdStarts = .copy(starts, padding: 0, with: 0)
        self.wide = .copy(wide, padding: 0, with: 0)
        self.wideStarts = .copy(wideStarts, padding: 0, with: 0)
        table = propensity_binned_forest(
            nodes: UnsafePointer(self.nodes.baseAddress!), leaves: UnsafePointer(self.leaves.baseAddress!),
            node_starts: UnsafePointer(self.nodeStarts.baseAddress!),
            leaf_starts: UnsafePointer(self.leafStarts.baseAddress!), depths: UnsafePointer(depths.baseAddress!),
            trees: Int64(trees), slots: UnsafePointer(slots.baseAddress!),
            thresholds: UnsafePointer(self.thresholds.baseAddress!),
            threshold_starts: UnsafePointer(thresholdStarts.baseAddress!), slot_count: Int64(used.count),
            wide: wide.isEmpty ? nil : UnsafePointer(self.wide.baseAddress!),
            wide_starts: wide.isEmpty ? nil : UnsafePointer(self.wideStarts.baseAddress!),
            wide_avx512: binning == .avx512 ? 1 : 0)
    }

    deinit {
        nodes.deallocate()
        leaves.deallocate()
        nodeStarts.deallocate()
        leafStarts.deallocate()
        depths.deallocate()
        slots.deallocate()
        thresholds.deallocate()
        thresholdStarts.deallocate()
        wide.deallocate()
        wideStarts.deallocate()
    }

    /// One row's margin: `base` plus every tree's leaf value, in tree order. `v`: the row's `FlatForest` values.
    @inline(__always)
    func margin(_ v: UnsafePointer<Float>, base: Double) -> Double {
        withUnsafeTemporaryAllocation(of: UInt16.self, capacity: stride) { bins in
            withUnsafePointer(to: table) { table in propensity_binned_row(table, v, bins.baseAddress!, base) }
        }
    }
}
