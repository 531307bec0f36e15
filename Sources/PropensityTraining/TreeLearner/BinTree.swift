/// A tree as the trainer sees it: splits on bins, in flat arrays. Converted to raw-value thresholds for the model.
struct BinTree: Sendable {
    var features: [Int] = []
    var thresholdBins: [Int] = []
    var defaultLefts: [Bool] = []
    var isCategorical: [Bool] = []
    /// Categorical splits: bins going left, as a bitset `leftWords[categoryOffsets[i] ...]` of `categoryWordCounts[i]` words.
    var categoryOffsets: [Int] = []
    var categoryWordCounts: [Int] = []
    var leftWords: [UInt64] = []
    var lefts: [Int32] = []
    var rights: [Int32] = []
    var gains: [Double] = []
    var leafValues: [Double] = [0]
    /// Hessian sums of the rows that reached each internal node and each leaf (TreeSHAP's covers).
    var nodeCovers: [Double] = []
    var leafCovers: [Double] = [0]

    var nodeCount: Int { features.count }

    /// Adds each row's leaf value to `margins[row]` for all rows of `data` (rows spread over `threads` workers).
    func addLeafValues<Bin: FixedWidthInteger & UnsignedInteger>(
        _: Bin.Type, data: BinnedData, margins: UnsafeMutablePointer<Double>, threads: Int
    ) {
        addLeafValues(Bin.self, data: data, rows: nil, count: data.rows, margins: margins, threads: threads)
    }

    /// The same for the given rows only (e.g. the rows a bagged tree was not grown on).
    func addLeafValues<Bin: FixedWidthInteger & UnsignedInteger>(
        _: Bin.Type, data: BinnedData, rows: UnsafeBufferPointer<Int32>, margins: UnsafeMutablePointer<Double>,
        threads: Int
    ) {
        addLeafValues(Bin.self, data: data, rows: rows.baseAddress, count: rows.count, margins: margins, threads: threads)
    }

    /// `rows[0 ..< count]`, or rows 0 ..< count when `rows` is nil. Eight rows walk together, each a fixed number of
    /// steps (the tree's depth; a leaf steps to itself) with no branch on the data (`WalkTables`): which child a row
    /// takes is a coin flip to the branch predictor, and eight independent chains hide the loads' latency. Byte bins
    /// step through `LeftMasks` (one lookup per step), 16-bit bins through the node's tests.
    private func addLeafValues<Bin: FixedWidthInteger & UnsignedInteger>(
        _: Bin.Type, data: BinnedData, rows: UnsafePointer<Int32>?, count: Int, margins: UnsafeMutablePointer<Double>,
        threads: Int
    ) {
        if nodeCount == 0 {
            for k in 0..<count { margins[rows.map { Int($0[k]) } ?? k] += leafValues[0] }
            return
        }
        let walk = WalkTables(self, data: data)
        let bins = UnsafeSendableBuffer(UnsafeBufferPointer(start: data.bins(Bin.self), count: data.rows * data.features))
        let out = UnsafeMutableSendablePointer(margins)
        let list = rows.map { UnsafeSendableBuffer(UnsafeBufferPointer(start: $0, count: count)) }
        let chunks = min(32, max(1, count / 8192))
        if Bin.bitWidth == 8 {
            let masks = LeftMasks(walk)
            ParallelFor.run(count: chunks, threads: threads) { c in
                walk.withPointers { nodes, children, _, values in
                    masks.words.withUnsafeBufferPointer { m in
                        let m = m.baseAddress!
                        // One bit per byte value says "left", whatever the split kind: a load and a shift per step.
                        @inline(__always) func next(_ slot: Int, _ r: Int) -> Int {
                            let bin = Int(bins.buffer[nodes[slot].column &+ r])
                            let left = Int((m[slot &* 4 &+ bin &>> 6] &>> UInt64(bin & 63)) & 1)
                            return Int(children[2 &* slot &+ 1 &- left])
                        }
                        Self.walkRows(count: count, chunk: c, of: chunks, depth: walk.depth, list: list, out: out,
                                      values: values, next: next)
                    }
                }
            }
            return
        }
        ParallelFor.run(count: chunks, threads: threads) { c in
            walk.withPointers { nodes, children, words, values in
                @inline(__always) func next(_ slot: Int, _ r: Int) -> Int {
                    let n = nodes[slot]
                    let bin = Int(bins.buffer[n.column &+ r])
                    let word = words[Int(n.wordBase) &+ min(bin &>> 6, Int(n.wordCount))]
                    let categoryLeft = Int((word &>> UInt64(bin & 63)) & 1)
                    let numericLeft = bin == Int(n.missing) ? Int(n.defaultLeft) : (bin <= Int(n.threshold) ? 1 : 0)
                    return Int(children[2 &* slot &+ 1 &- (numericLeft | categoryLeft)])
                }
                Self.walkRows(count: count, chunk: c, of: chunks, depth: walk.depth, list: list, out: out,
                              values: values, next: next)
            }
        }
    }

    /// Walks chunk `c` of `chunks` of the rows, eight at a time, each `depth` steps of `next(slot, row)`, and adds
    /// the leaf values reached to `out`.
    @inline(__always)
    private static func walkRows(
        count: Int, chunk c: Int, of chunks: Int, depth: Int, list: UnsafeSendableBuffer<Int32>?,
        out: UnsafeMutableSendablePointer<Double>, values: UnsafePointer<Double>, next: (Int, Int) -> Int
    ) {
        var k = c * count / chunks
        let end = (c + 1) * count / chunks
        while k + 8 <= end {
            var r0 = k, r1 = k + 1, r2 = k + 2, r3 = k + 3, r4 = k + 4, r5 = k + 5, r6 = k + 6, r7 = k + 7
            if let list {
                r0 = Int(list.buffer[k]); r1 = Int(list.buffer[k + 1]); r2 = Int(list.buffer[k + 2])
                r3 = Int(list.buffer[k + 3]); r4 = Int(list.buffer[k + 4]); r5 = Int(list.buffer[k + 5])
                r6 = Int(list.buffer[k + 6]); r7 = Int(list.buffer[k + 7])
            }
            var s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0
            for _ in 0..<depth {
                s0 = next(s0, r0); s1 = next(s1, r1); s2 = next(s2, r2); s3 = next(s3, r3)
                s4 = next(s4, r4); s5 = next(s5, r5); s6 = next(s6, r6); s7 = next(s7, r7)
            }
            out.pointer[r0] += values[s0]; out.pointer[r1] += values[s1]
            out.pointer[r2] += values[s2]; out.pointer[r3] += values[s3]
            out.pointer[r4] += values[s4]; out.pointer[r5] += values[s5]
            out.pointer[r6] += values[s6]; out.pointer[r7] += values[s7]
            k += 8
        }
        while k < end {
            let r = list.map { Int($0.buffer[k]) } ?? k
            var s = 0
            for _ in 0..<depth { s = next(s, r) }
            out.pointer[r] += values[s]
            k += 1
        }
    }

    /// For byte bins: per walk slot, four words whose bit b says whether bin b goes left. The numeric test (with
    /// the missing bin's default direction) and the category bitset reduce to the same lookup; leaf slots are all
    /// zero, so they step "right" to themselves.
    struct LeftMasks: Sendable {
        var words: [UInt64]

        init(_ walk: WalkTables) {
            words = [UInt64](repeating: 0, count: 4 * walk.nodes.count)
            for (slot, n) in walk.nodes.enumerated() {
                let base = 4 * slot
                for w in 0..<min(4, Int(n.wordCount)) { words[base + w] = walk.words[Int(n.wordBase) + w] }
                let t = Int(n.threshold)
                for w in 0..<4 where t >= 64 * w {
                    words[base + w] |= t >= 64 * w + 63 ? ~0 : (1 << UInt64(t - 64 * w + 1)) - 1
                }
                let missing = Int(n.missing)
                if (0..<256).contains(missing) {
                    let bit: UInt64 = 1 << UInt64(missing & 63)
                    if n.defaultLeft == 1 { words[base + missing >> 6] |= bit } else { words[base + missing >> 6] &= ~bit }
                }
            }
        }
    }

    /// The tree as slots for the branch-free walk: internal nodes first (slot = node), then one slot per leaf that
    /// steps to itself. A numeric node's category word is the zero word at 0; a categorical node never goes left by
    /// the numeric test (threshold and missing bin −1) and its category words are followed by a zero word, which a
    /// bin beyond them reads. A leaf slot goes "right" to itself.
    struct WalkNode {
        var column: Int
        var threshold: Int32 = -1
        var missing: Int32 = -1
        var wordBase: Int32 = 0
        var wordCount: Int32 = 0
        var defaultLeft: Int32 = 0
    }

    struct WalkTables: Sendable {
        var nodes: [WalkNode] = []
        /// Left then right child slot of each slot.
        var children: [Int32] = []
        var words: [UInt64] = [0]
        /// Per slot: the leaf's value (0 for internal nodes).
        var values: [Double] = []
        /// The longest root-to-leaf path: steps every row takes.
        var depth = 0

        init(_ tree: BinTree, data: BinnedData) {
            let nodeSlots = tree.nodeCount, slots = nodeSlots + tree.leafValues.count
            nodes.reserveCapacity(slots)
            children.reserveCapacity(2 * slots)
            values = [Double](repeating: 0, count: nodeSlots) + tree.leafValues
            func slot(_ child: Int32) -> Int32 { child >= 0 ? child : Int32(nodeSlots) + ~child }
            var depths = [Int](repeating: 0, count: nodeSlots)
            for i in 0..<nodeSlots {
                let f = tree.features[i]
                var node = WalkNode(column: f * data.rows)
                if tree.isCategorical[i] {
                    node.wordBase = Int32(words.count)
                    node.wordCount = Int32(tree.categoryWordCounts[i])
                    let first = tree.categoryOffsets[i]
                    words += tree.leftWords[first..<(first + tree.categoryWordCounts[i])]
                    words.append(0)
                } else {
                    node.threshold = Int32(tree.thresholdBins[i])
                    node.missing = Int32(data.missingBins[f])
                    node.defaultLeft = tree.defaultLefts[i] ? 1 : 0
                }
                nodes.append(node)
                children += [slot(tree.lefts[i]), slot(tree.rights[i])]
                // Children come after their parent (nodes are numbered as they are split).
                for child in [tree.lefts[i], tree.rights[i]] {
                    if child >= 0 { depths[Int(child)] = depths[i] + 1 } else { depth = max(depth, depths[i] + 1) }
                }
            }
            for leaf in nodeSlots..<slots {
                nodes.append(WalkNode(column: 0))
                children += [Int32(leaf), Int32(leaf)]
            }
        }

        func withPointers<R>(
            _ body: (UnsafePointer<WalkNode>, UnsafePointer<Int32>, UnsafePointer<UInt64>, UnsafePointer<Double>) -> R
        ) -> R {
            nodes.withUnsafeBufferPointer { n in
                children.withUnsafeBufferPointer { c in
                    words.withUnsafeBufferPointer { w in
                        values.withUnsafeBufferPointer { v in body(n.baseAddress!, c.baseAddress!, w.baseAddress!, v.baseAddress!) }
                    }
                }
            }
        }
    }
}
