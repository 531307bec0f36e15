import Foundation

/// Grows one tree on gradient statistics: best-first (leaf-wise) up to `maxLeaves` leaves and `maxDepth` levels,
/// which is depth-wise growth when `maxLeaves = 2^maxDepth`. Rows of each leaf are a contiguous range of a
/// permutation (`indices`); splitting a leaf partitions its range stably, so rows inside a leaf stay in ascending
/// order (bin reads stay sequential) and results are reproducible.
final class TreeLearner<Bin: FixedWidthInteger & UnsignedInteger> {
    let data: BinnedData
    let rules: SplitRules
    let maxLeaves: Int
    let maxDepth: Int
    let threads: Int
    /// Interaction constraints as feature-index groups (empty: none): every feature on one root-to-leaf path must
    /// belong to one group; a feature in no group is a group of its own.
    let interactionGroups: [Set<Int>]

    // Manually managed so hot loops index raw memory: no copy-on-write or exclusivity checks per access.
    private let indices: UnsafeMutablePointer<Int32>
    private let scratch: UnsafeMutablePointer<Int32>
    private let orderedGH: UnsafeMutablePointer<SIMD2<Float>>
    /// Per bin of the feature being partitioned on: 1 if it goes left (reused by every split).
    private let partitionFlags: UnsafeMutablePointer<Int>
    /// Histogram buffers, each `data.histogramSize` bins, reused across leaves and trees.
    private var histograms: [UnsafeMutablePointer<HistogramBin>] = []

    private struct Leaf {
        var begin: Int
        var end: Int
        var stats: NodeStats
        var depth: Int
        var histogram: Int
        var split: Split
        var parent: Int32
        var isLeftChild: Bool
        var output: Double
        /// Monotone constraints: the range this leaf's output, and its descendants', must stay in.
        var bounds: OutputBounds = .none
        /// Interaction constraints: the distinct features split on from the root to here.
        var pathFeatures: Set<Int> = []
    }

    init(
        data: BinnedData, rules: SplitRules, maxLeaves: Int, maxDepth: Int, threads: Int, interactionGroups: [Set<Int>] = []
    ) {
        self.interactionGroups = interactionGroups
        self.data = data
        self.rules = rules
        self.maxLeaves = maxLeaves
        self.maxDepth = maxDepth
        self.threads = threads
        let n = max(1, data.rows)
        indices = .allocate(capacity: n)
        scratch = .allocate(capacity: n)
        orderedGH = .allocate(capacity: n)
        partitionFlags = .allocate(capacity: max(1, data.mappers.map(\.totalBins).max() ?? 1))
    }

    deinit {
        indices.deallocate()
        scratch.deallocate()
        orderedGH.deallocate()
        partitionFlags.deallocate()
        for h in histograms { h.deallocate() }
    }

    /// Grows a tree on (gradient, hessian) pairs `gh` for the rows in `bag` (all rows when nil) using `features`. Leaf values are not yet
    /// scaled by the learning rate. `leafRows` gives each leaf's rows (of the bag, when there is one).
    func grow(gh: UnsafePointer<SIMD2<Float>>, bag: [Int32]?, features: [Int])
        -> (tree: BinTree, leafRows: [UnsafeBufferPointer<Int32>])
    {
        let rowCount = bag?.count ?? data.rows
        if let bag {
            bag.withUnsafeBufferPointer { indices.update(from: $0.baseAddress!, count: bag.count) }
        } else {
            for i in 0..<data.rows { indices[i] = Int32(i) }
        }
        var freeHistograms = Array(histograms.indices.reversed())
        func takeHistogram() -> Int {
            if let i = freeHistograms.popLast() { return i }
            let buffer = UnsafeMutablePointer<HistogramBin>.allocate(capacity: max(1, data.histogramSize))
            buffer.initialize(repeating: HistogramBin(), count: max(1, data.histogramSize))
            histograms.append(buffer)
            return histograms.count - 1
        }

        let root = takeHistogram()
        let rootStats: NodeStats
        if bag == nil {
            var sum = SIMD2<Double>(0, 0)
            for i in 0..<rowCount { sum += SIMD2<Double>(gh[i]) }
            rootStats = NodeStats(g: sum.x, h: sum.y, n: rowCount)
            HistogramBuilder.build(
                Bin.self, data: data, rows: nil, count: rowCount, gh: gh, features: features,
                histogram: histograms[root], threads: threads)
        } else {
            var sum = SIMD2<Double>(0, 0)
            for k in 0..<rowCount { sum += SIMD2<Double>(gh[Int(indices[k])]) }
            rootStats = NodeStats(g: sum.x, h: sum.y, n: rowCount)
            buildGathered(0..<rowCount, gh: gh, features: features, into: root)
        }
        var leaves = [Leaf(
            begin: 0, end: rowCount, stats: rootStats, depth: 0, histogram: root, split: Split(), parent: -1,
            isLeftChild: false, output: rules.output(rootStats, l2: rules.l2))]
        leaves[0].split = findSplit(leaves[0], features: features)
        var tree = BinTree()

        while leaves.count < maxLeaves {
            // Best-first: the leaf whose split reduces the loss most (lowest index on ties).
            var pick = -1
            for (i, leaf) in leaves.enumerated() where leaf.split.isValid {
                if pick < 0 || leaf.split.gain > leaves[pick].split.gain { pick = i }
            }
            if pick < 0 { break }
            let parent = leaves[pick]
            let split = parent.split
            let leftCount = partition(parent.begin..<parent.end, split: split)
            let nodeIndex = Int32(tree.nodeCount)
            append(split, to: &tree, left: ~Int32(pick), right: ~Int32(leaves.count))
            tree.nodeCovers.append(parent.stats.h)
            if parent.parent >= 0 {
                if parent.isLeftChild { tree.lefts[Int(parent.parent)] = nodeIndex } else {
                    tree.rights[Int(parent.parent)] = nodeIndex
                }
            }
            let direction = rules.monotone.isEmpty ? 0 : rules.monotone[split.feature]
            let bounds = parent.bounds.children(direction: direction, left: split.leftOutput, right: split.rightOutput)
            // Paths matter only under interaction constraints (and a set per split is an allocation per split).
            let path = interactionGroups.isEmpty ? parent.pathFeatures : parent.pathFeatures.union([split.feature])
            var left = Leaf(
                begin: parent.begin, end: parent.begin + leftCount, stats: split.left, depth: parent.depth + 1,
                histogram: -1, split: Split(), parent: nodeIndex, isLeftChild: true, output: split.leftOutput,
                bounds: bounds.left, pathFeatures: path)
            var right = Leaf(
                begin: parent.begin + leftCount, end: parent.end, stats: split.right, depth: parent.depth + 1,
                histogram: -1, split: Split(), parent: nodeIndex, isLeftChild: false, output: split.rightOutput,
                bounds: bounds.right, pathFeatures: path)

            if left.depth < maxDepth && leaves.count + 1 < maxLeaves {
                // Build the smaller child's histogram; the larger one is the parent's minus it.
                let smallerIsLeft = left.stats.n <= right.stats.n
                let small = takeHistogram()
                buildGathered(
                    smallerIsLeft ? left.begin..<left.end : right.begin..<right.end, gh: gh, features: features,
                    into: small)
                HistogramBuilder.subtract(
                    parent: histograms[parent.histogram], smaller: histograms[small], data: data, features: features)
                left.histogram = smallerIsLeft ? small : parent.histogram
                right.histogram = smallerIsLeft ? parent.histogram : small
                left.split = findSplit(left, features: features)
                right.split = findSplit(right, features: features)
                // A child that cannot split needs no histogram any more.
                if !left.split.isValid { freeHistograms.append(left.histogram) }
                if !right.split.isValid { freeHistograms.append(right.histogram) }
            } else {
                freeHistograms.append(parent.histogram)
            }
            leaves[pick] = left
            leaves.append(right)
        }

        tree.leafValues = leaves.map(\.output)
        tree.leafCovers = leaves.map(\.stats.h)
        let rows = leaves.map { UnsafeBufferPointer(start: indices + $0.begin, count: $0.end - $0.begin) }
        return (tree, rows)
    }

    private func append(_ split: Split, to tree: inout BinTree, left: Int32, right: Int32) {
        tree.features.append(split.feature)
        tree.thresholdBins.append(split.thresholdBin)
        tree.defaultLefts.append(split.defaultLeft)
        tree.isCategorical.append(split.isCategorical)
        tree.categoryOffsets.append(tree.leftWords.count)
        if split.isCategorical {
            let words = (data.mappers[split.feature].valueBins + 63) / 64
            var bits = [UInt64](repeating: 0, count: words)
            for b in split.leftBins { bits[b >> 6] |= 1 << UInt64(b & 63) }
            tree.leftWords += bits
            tree.categoryWordCounts.append(words)
        } else {
            tree.categoryWordCounts.append(0)
        }
        tree.lefts.append(left)
        tree.rights.append(right)
        tree.gains.append(split.gain)
    }

    private func findSplit(_ leaf: Leaf, features: [Int]) -> Split {
        guard leaf.depth < maxDepth, leaf.stats.n >= 2 * rules.minSamplesLeaf, leaf.histogram >= 0 else { return Split() }
        return SplitFinder.best(
            histogram: histograms[leaf.histogram], total: leaf.stats, data: data,
            features: allowed(features, after: leaf.pathFeatures), rules: rules, bounds: leaf.bounds)
    }

    /// The features a node may split on under the interaction constraints: those sharing a group with every feature
    /// already on its path (all of them at the root, or without constraints).
    private func allowed(_ features: [Int], after path: Set<Int>) -> [Int] {
        guard !interactionGroups.isEmpty, !path.isEmpty else { return features }
        var permitted = Set<Int>()
        var grouped = false
        for group in interactionGroups where path.isSubset(of: group) {
            permitted.formUnion(group)
            grouped = true
        }
        // A feature in no group interacts with nothing: only it may follow itself.
        if !grouped, path.count == 1, !interactionGroups.contains(where: { $0.contains(path.first!) }) { permitted = path }
        return features.filter(permitted.contains)
    }

    /// Gathers the range's gradient pairs into contiguous order (in parallel chunks: it is a random-access pass)
    /// and builds its histogram.
    private func buildGathered(
        _ range: Range<Int>, gh: UnsafePointer<SIMD2<Float>>, features: [Int], into slot: Int
    ) {
        let rows = UnsafeSendablePointer(indices + range.lowerBound)
        let source = UnsafeSendablePointer(gh)
        let target = UnsafeMutableSendablePointer(orderedGH)
        let n = range.count
        let chunks = n >= 1 << 16 ? threads : 1
        ParallelFor.run(count: chunks, threads: threads) { c in
            for k in (c * n / chunks)..<((c + 1) * n / chunks) {
                target.pointer[k] = source.pointer[Int(rows.pointer[k])]
            }
        }
        HistogramBuilder.build(
            Bin.self, data: data, rows: rows.pointer, count: n, gh: orderedGH, features: features,
            histogram: histograms[slot], threads: threads)
    }

    /// Stable partition of `indices[range]`: rows going left first. Returns how many went left.
    ///
    /// Large ranges are cut into a fixed number of chunks, each partitioned on its own (lefts compacted in place at
    /// the chunk's start, which never overtakes the read position; rights into `scratch`), then concatenated in chunk
    /// order — the same permutation as one sequential pass, whatever the thread count.
    private func partition(_ range: Range<Int>, split: Split) -> Int {
        let mapper = data.mappers[split.feature]
        let flags = UnsafeMutableBufferPointer(start: partitionFlags, count: mapper.totalBins)
        flags.update(repeating: 0)
        if split.isCategorical {
            for b in split.leftBins { flags[b] = 1 }
        } else {
            for b in 0...split.thresholdBin { flags[b] = 1 }
            flags[mapper.missingBin] = split.defaultLeft ? 1 : 0
        }
        let column = UnsafeSendablePointer(data.bins(Bin.self) + split.feature * data.rows)
        let base = UnsafeMutableSendablePointer(indices + range.lowerBound)
        let rights = UnsafeMutableSendablePointer(scratch)
        let n = range.count
        let chunks = n >= 1 << 16 ? 4 : 1
        // Each chunk writes its own slot; ParallelFor returns once all are done.
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: chunks) { slots in
            let leftCounts = UnsafeMutableSendablePointer(slots.baseAddress!)
            let goesLeft = UnsafeSendablePointer(flags.baseAddress!)
            ParallelFor.run(count: chunks, threads: threads) { c in
                let lower = c * n / chunks
                let upper = (c + 1) * n / chunks
                var leftCount = 0
                var rightCount = 0
                for p in lower..<upper {
                    // Branch-free: the direction is data-dependent, so a branch would mispredict half the time.
                    let row = base.pointer[p]
                    let isLeft = goesLeft.pointer[Int(column.pointer[Int(row)])]
                    base.pointer[lower + leftCount] = row
                    rights.pointer[lower + rightCount] = row
                    leftCount &+= isLeft
                    rightCount &+= 1 &- isLeft
                }
                leftCounts.pointer[c] = leftCount
            }
            var out = 0
            for c in 0..<chunks {
                let lower = c * n / chunks
                // Chunk 0's lefts are in place; later ones move down (overlapping ranges, so memmove).
                if out != lower {
                    memmove(base.pointer + out, base.pointer + lower, leftCounts.pointer[c] * MemoryLayout<Int32>.stride)
                }
                out += leftCounts.pointer[c]
            }
            let totalLeft = out
            for c in 0..<chunks {
                let lower = c * n / chunks
                let rightCount = (c + 1) * n / chunks - lower - leftCounts.pointer[c]
                (base.pointer + out).update(from: scratch + lower, count: rightCount)
                out += rightCount
            }
            return totalLeft
        }
    }
}
