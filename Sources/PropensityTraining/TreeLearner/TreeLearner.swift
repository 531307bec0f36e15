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
    /// A node's row statistics in its row order: exact pairs, or packed quantized ones (up to 16 bytes a row).
    private let ordered: UnsafeMutableRawPointer
    /// Per bin of the feature being partitioned on: 1 if it goes left (reused by every split).
    private let partitionFlags: UnsafeMutablePointer<Int>
    /// Histogram buffers, each `data.histogramSize` bins, reused across leaves and trees.
    private var histograms: [UnsafeMutablePointer<HistogramBin>] = []
    /// With quantized gradients: each histogram's packed integer sums (16 bytes a bin, the wider layout), from
    /// which `histograms[i]` is decoded for the split search. Subtraction works on these, exactly.
    private var packedHistograms: [UnsafeMutableRawPointer] = []
    /// The current tree's quantized statistics (nil: exact gradients).
    private var quantized: QuantizedGradients?

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
        ordered = .allocate(byteCount: n * MemoryLayout<SIMD2<UInt64>>.stride, alignment: 16)
        partitionFlags = .allocate(capacity: max(1, data.mappers.map(\.totalBins).max() ?? 1))
    }

    deinit {
        indices.deallocate()
        scratch.deallocate()
        ordered.deallocate()
        partitionFlags.deallocate()
        for h in histograms { h.deallocate() }
        for h in packedHistograms { h.deallocate() }
    }

    /// Grows a tree on (gradient, hessian) pairs `gh` for the rows in `bag` (all rows when nil) using `features`. Leaf values are not yet
    /// scaled by the learning rate. `leafRows` gives each leaf's rows (of the bag, when there is one).
    ///
    /// With `quantized` (this iteration's quantized statistics of the same rows), histograms and the split search
    /// use those; the finished tree's leaf values and covers are then recomputed from `gh`.
    func grow(gh: UnsafePointer<SIMD2<Float>>, quantized: QuantizedGradients? = nil, bag: [Int32]?, features: [Int])
        -> (tree: BinTree, leafRows: [UnsafeBufferPointer<Int32>])
    {
        self.quantized = quantized
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
            if let quantized {
                let packed = UnsafeMutableRawPointer.allocate(
                    byteCount: max(1, data.histogramSize) * MemoryLayout<SIMD2<UInt64>>.stride, alignment: 16)
                QuantizedGradients.bind(packed, quantized.layout, count: max(1, data.histogramSize))
                packedHistograms.append(packed)
            }
            return histograms.count - 1
        }

        let root = takeHistogram()
        let rootStats: NodeStats
        if let quantized {
            rootStats = buildQuantized(bag == nil ? nil : 0..<rowCount, quantized, features: features, into: root)
        } else if bag == nil {
            var sum = SIMD2<Double>(0, 0)
            for i in 0..<rowCount { sum += SIMD2<Double>(gh[i]) }
            rootStats = NodeStats(g: sum.x, h: sum.y, n: rowCount)
            HistogramBuilder.build(
                Bin.self, data: data, rows: nil, count: rowCount, values: gh, features: features,
                histogram: histograms[root], threads: threads)
        } else {
            var sum = SIMD2<Double>(0, 0)
            for k in 0..<rowCount { sum += SIMD2<Double>(gh[Int(indices[k])]) }
            rootStats = NodeStats(g: sum.x, h: sum.y, n: rowCount)
            buildGathered(0..<rowCount, values: gh, features: features, into: histograms[root])
        }
        var leaves = [Leaf(
            begin: 0, end: rowCount, stats: rootStats, depth: 0, histogram: root, split: Split(), parent: -1,
            isLeftChild: false, output: rules.output(rootStats, l2: rules.l2))]
        leaves[0].split = findSplits([leaves[0]], features: features)[0]
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
                let smallRange = smallerIsLeft ? left.begin..<left.end : right.begin..<right.end
                if let quantized {
                    _ = buildQuantized(smallRange, quantized, features: features, into: small)
                    subtractQuantized(quantized, parent: parent.histogram, smaller: small, features: features)
                } else {
                    buildGathered(smallRange, values: gh, features: features, into: histograms[small])
                    HistogramBuilder.subtract(
                        parent: histograms[parent.histogram], smaller: histograms[small], data: data, features: features)
                }
                left.histogram = smallerIsLeft ? small : parent.histogram
                right.histogram = smallerIsLeft ? parent.histogram : small
                let splits = findSplits([left, right], features: features)
                left.split = splits[0]
                right.split = splits[1]
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
        if quantized != nil { renew(&tree, leaves: leaves, rows: rows, gh: gh) }
        return (tree, rows)
    }

    /// After a tree grown on quantized statistics: each leaf's value and cover from its rows' exact gradients
    /// (clamped to the leaf's monotone bounds, as the split search clamps), and each node's cover as the sum of its
    /// children's, so the covers TreeSHAP reads are exact hessian sums.
    private func renew(
        _ tree: inout BinTree, leaves: [Leaf], rows: [UnsafeBufferPointer<Int32>], gh: UnsafePointer<SIMD2<Float>>
    ) {
        let sums = UnsafeMutablePointer<SIMD2<Double>>.allocate(capacity: leaves.count)
        defer { sums.deallocate() }
        let slots = UnsafeMutableSendablePointer(sums), source = UnsafeSendablePointer(gh)
        let leafRows = rows.map(UnsafeSendableBuffer.init)
        // Each leaf sums its own rows in their order (the same sums whatever the thread count).
        ParallelFor.run(count: leaves.count, threads: threads) { i in
            var sum = SIMD2<Double>(0, 0)
            for r in leafRows[i].buffer { sum += SIMD2<Double>(source.pointer[Int(r)]) }
            slots.pointer[i] = sum
        }
        for (i, leaf) in leaves.enumerated() {
            let exact = NodeStats(g: sums[i].x, h: sums[i].y, n: rows[i].count)
            tree.leafValues[i] = leaf.bounds.clamp(rules.output(exact, l2: rules.l2))
            tree.leafCovers[i] = exact.h
        }
        // Children come after their parent in node order, so one backward pass sees both children first.
        for node in stride(from: tree.nodeCount - 1, through: 0, by: -1) {
            func cover(_ child: Int32) -> Double { child >= 0 ? tree.nodeCovers[Int(child)] : tree.leafCovers[Int(~child)] }
            tree.nodeCovers[node] = cover(tree.lefts[node]) + cover(tree.rights[node])
        }
    }

    /// Builds the packed histogram of the rows in `range` of `indices` (every row in order when nil) into `slot`
    /// and returns the rows' totals. (The split search decodes the bins it reads.)
    private func buildQuantized(
        _ range: Range<Int>?, _ quantized: QuantizedGradients, features: [Int], into slot: Int
    ) -> NodeStats {
        switch quantized.layout {
        case .word: buildPacked(UInt64.self, range, quantized, features: features, into: slot)
        case .pair: buildPacked(SIMD2<UInt64>.self, range, quantized, features: features, into: slot)
        }
    }

    private func buildPacked<Sums: HistogramSums>(
        _: Sums.Type, _ range: Range<Int>?, _ quantized: QuantizedGradients, features: [Int], into slot: Int
    ) -> NodeStats where Sums.RowStatistics == Sums {
        let all = UnsafePointer(quantized.packed.assumingMemoryBound(to: Sums.self))
        let packed = packedHistograms[slot].assumingMemoryBound(to: Sums.self)
        if let range {
            buildGathered(range, values: all, features: features, into: packed)
        } else {
            HistogramBuilder.build(
                Bin.self, data: data, rows: nil, count: data.rows, values: all, features: features, histogram: packed,
                threads: threads)
        }
        // Every row is in exactly one bin of each feature, so one feature's bins sum (exactly, as integers) to the
        // node's totals.
        var total = Sums.empty
        if let f = features.first {
            for b in data.histogramOffsets[f]..<(data.histogramOffsets[f] + data.mappers[f].totalBins) { total.add(packed[b]) }
        }
        let totals = withUnsafeBytes(of: total) { quantized.decode($0.baseAddress!) }
        return NodeStats(g: totals.g, h: totals.h, n: totals.n)
    }

    /// `parent ← parent − smaller` on the packed sums (exact integers).
    private func subtractQuantized(_ quantized: QuantizedGradients, parent: Int, smaller: Int, features: [Int]) {
        func subtract<Sums: HistogramSums>(_: Sums.Type) {
            HistogramBuilder.subtract(
                parent: packedHistograms[parent].assumingMemoryBound(to: Sums.self),
                smaller: packedHistograms[smaller].assumingMemoryBound(to: Sums.self), data: data, features: features)
        }
        switch quantized.layout {
        case .word: subtract(UInt64.self)
        case .pair: subtract(SIMD2<UInt64>.self)
        }
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

    /// The best split of each of `nodes` (a leaf, or two siblings). The search is serial per node but independent
    /// per feature, so every (node, block of features) is a task, run in parallel; with quantized gradients a task
    /// first decodes the packed bins it reads. Each block keeps its best in feature order and the blocks are
    /// reduced in order, which finds the same split as one pass (`SplitFinder.accepted`).
    private func findSplits(_ nodes: [Leaf], features: [Int]) -> [Split] {
        var tasks: [SplitSearchTask] = []
        for (i, node) in nodes.enumerated() {
            guard node.depth < maxDepth, node.stats.n >= 2 * rules.minSamplesLeaf, node.histogram >= 0 else { continue }
            let allowed = allowed(features, after: node.pathFeatures)
            // A block is ~7 features of ~255 bins: tens of microseconds, against ~1 µs to hand a task to a worker.
            let blocks = threads == 1 ? 1 : min(allowed.count, 4)
            let histogram = UnsafeMutableSendablePointer(histograms[node.histogram])
            let packed = quantized == nil ? nil : UnsafeSendableRawPointer(packedHistograms[node.histogram])
            for b in 0..<blocks {
                let lower = b * allowed.count / blocks, upper = (b + 1) * allowed.count / blocks
                tasks.append(SplitSearchTask(
                    node: i, features: allowed[lower..<upper], histogram: histogram, packed: packed, total: node.stats,
                    bounds: node.bounds))
            }
        }
        let results = ChunkResults<Split>(count: tasks.count)
        let quantized = self.quantized, data = self.data, rules = self.rules
        ParallelFor.run(count: tasks.count, threads: threads) { [tasks] k in
            let task = tasks[k]
            var best = Split()
            for f in task.features {
                if let quantized, let packed = task.packed {
                    quantized.decode(packed.pointer, into: task.histogram.pointer, data: data, feature: f)
                }
                if let c = SplitFinder.candidate(
                    f, histogram: task.histogram.pointer, total: task.total, data: data, rules: rules, bounds: task.bounds),
                    c.isBetter(than: best)
                {
                    best = c
                }
            }
            results.set(k, best)
        }
        var best = [Split](repeating: Split(), count: nodes.count)
        for (task, split) in zip(tasks, results.values()) where split.isBetter(than: best[task.node]) {
            best[task.node] = split
        }
        return best.map { SplitFinder.accepted($0, rules: rules) }
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

    /// Gathers the range's row statistics (exact pairs or packed sums) into contiguous order (in parallel chunks: it
    /// is a random-access pass) and builds its histogram.
    private func buildGathered<Sums: HistogramSums>(
        _ range: Range<Int>, values: UnsafePointer<Sums.RowStatistics>, features: [Int],
        into histogram: UnsafeMutablePointer<Sums>
    ) {
        let rows = UnsafeSendablePointer(indices + range.lowerBound)
        let source = UnsafeSendablePointer(values)
        // Rebinding is free for these trivial types; a learner uses one of them for its whole life anyway.
        let target = UnsafeMutableSendablePointer(ordered.bindMemory(to: Sums.RowStatistics.self, capacity: range.count))
        let n = range.count
        let chunks = n >= Self.parallelRows ? threads : 1
        ParallelFor.run(count: chunks, threads: threads) { c in
            for k in (c * n / chunks)..<((c + 1) * n / chunks) {
                target.pointer[k] = source.pointer[Int(rows.pointer[k])]
            }
        }
        HistogramBuilder.build(
            Bin.self, data: data, rows: rows.pointer, count: n, values: UnsafePointer(target.pointer),
            features: features, histogram: histogram, threads: threads)
    }

    /// Stable partition of `indices[range]`: rows going left first. Returns how many went left.
    ///
    /// With several threads, ranges of `parallelRows` or more are cut into chunks. Each chunk is partitioned into
    /// `scratch` at the same offsets, lefts from the chunk's start and rights from its end (backwards); then every
    /// chunk copies its lefts, and its rights in their order, to their final places. Both passes run in parallel,
    /// and the result is the permutation of one sequential pass, whatever the thread count.
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
        let staging = UnsafeMutableSendablePointer(scratch)
        let n = range.count
        guard threads > 1 && n >= Self.parallelRows else {
            // One pass: lefts compacted in place (never overtaking the read position), rights into `scratch`, then
            // appended. (Any chunking gives this same permutation; one chunk copies only the rights.)
            var leftCount = 0, rightCount = 0
            for p in 0..<n {
                let row = base.pointer[p]
                let isLeft = flags[Int(column.pointer[Int(row)])]
                base.pointer[leftCount] = row
                scratch[rightCount] = row
                leftCount &+= isLeft
                rightCount &+= 1 &- isLeft
            }
            (base.pointer + leftCount).update(from: scratch, count: rightCount)
            return leftCount
        }
        let chunks = 4
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
                    // Branch-free: the direction is data-dependent, so a branch would mispredict half the time. Both
                    // ends get the row; the end it does not belong to is overwritten by a later row (or, for the
                    // chunk's last row, both ends are the same slot).
                    let row = base.pointer[p]
                    let isLeft = goesLeft.pointer[Int(column.pointer[Int(row)])]
                    staging.pointer[lower + leftCount] = row
                    staging.pointer[upper - 1 - rightCount] = row
                    leftCount &+= isLeft
                    rightCount &+= 1 &- isLeft
                }
                leftCounts.pointer[c] = leftCount
            }
            let lefts = (0..<chunks).reduce(0) { $0 + leftCounts.pointer[$1] }
            ParallelFor.run(count: chunks, threads: threads) { c in
                let lower = c * n / chunks
                let upper = (c + 1) * n / chunks
                var leftsBefore = 0
                for i in 0..<c { leftsBefore += leftCounts.pointer[i] }
                let leftCount = leftCounts.pointer[c]
                (base.pointer + leftsBefore).update(from: staging.pointer + lower, count: leftCount)
                let rightsOut = base.pointer + lefts + (lower - leftsBefore)
                for j in 0..<(upper - lower - leftCount) { rightsOut[j] = staging.pointer[upper - 1 - j] }
            }
            return lefts
        }
    }

    /// Rows from which a partition or a gather is split between threads (below, a hand-off costs more than it saves).
    static var parallelRows: Int { 4_096 }
}

/// One block of one node's features to search (`TreeLearner.findSplits`).
private struct SplitSearchTask: Sendable {
    var node: Int
    var features: ArraySlice<Int>
    var histogram: UnsafeMutableSendablePointer<HistogramBin>
    /// With quantized gradients: the node's packed histogram, decoded into `histogram` feature by feature.
    var packed: UnsafeSendableRawPointer?
    var total: NodeStats
    var bounds: OutputBounds
}
