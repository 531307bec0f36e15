import PropensityModel

/// The fast evaluation plan for ensembles whose splits are all numeric with finite thresholds (every model
/// Propensity trains without categorical columns, and most imported ones).
///
/// Each node is 16 bytes and one comparison decides it, missing values included:
///
///     next = left + (x · sign ≤ limit ? 0 : 1)
///
/// A NaN input fails every comparison, so it goes to `left + 1`. For a split whose missing values go right that is
/// the right child (`sign = 1`, `limit = threshold`). For one whose missing values go left, the children are stored
/// swapped and the test is mirrored: `sign = −1`, `limit = −nextUp(threshold)`, so `−x ≤ limit` means `x > threshold`
/// — the original right child, now at `left`. A leaf at slot `i` has `limit = NaN` (every comparison fails, so the
/// step always adds 1) and `left = i − 1`: it steps to itself. So any number of steps past a leaf is harmless, trees
/// run a fixed number of steps with no leaf test, and the loop has no data-dependent branch.
///
/// Batches evaluate 16 rows per tree pass (16 independent chains hide the load latency; the tree stays in cache);
/// single rows evaluate 8 trees at a time for the same reason.
struct FlatForest: Sendable {
    struct Node: Sendable {
        var limit: Float
        var sign: Float
        var feature: UInt32
        var left: Int32
    }

    let nodes: [Node]
    /// Per slot: the leaf value (0 for internal nodes).
    let values: [Double]
    let roots: [UInt32]
    let depths: [Int]
    let baseScore: Double
    let maxDepth: Int

    static let rowBlock = 16
    static let treeBlock = 8

    /// nil when the ensemble has a split this plan cannot express (categorical, zero-as-missing, infinite threshold).
    init?(_ ensemble: TreeEnsembleModel) {
        for tree in ensemble.trees {
            for node in tree.nodes where node.kind != .numeric || node.zeroIsMissing || !node.threshold.isFinite {
                return nil
            }
        }
        var nodes: [Node] = []
        var values: [Double] = []
        var roots: [UInt32] = []
        var depths: [Int] = []
        func allocate(_ count: Int) -> Int {
            let start = nodes.count
            for _ in 0..<count {
                nodes.append(Node(limit: .nan, sign: 1, feature: 0, left: Int32(nodes.count) - 1))
                values.append(0)
            }
            return start
        }
        for tree in ensemble.trees {
            let depth = Self.depth(tree)
            let rootSlot = allocate(1)
            // Breadth-first: each internal node's children get two consecutive slots.
            var level: [(ref: Int32, slot: Int, depth: Int)] = [(tree.nodes.isEmpty ? ~0 : 0, rootSlot, 0)]
            while !level.isEmpty {
                var next: [(ref: Int32, slot: Int, depth: Int)] = []
                for (ref, slot, d) in level {
                    if ref < 0 {
                        values[slot] = tree.leafValues[Int(~ref)]  // the slot already loops to itself
                        continue
                    }
                    let node = tree.nodes[Int(ref)]
                    let children = allocate(2)
                    var first = node.left
                    var second = node.right
                    var sign: Float = 1
                    var limit = node.threshold
                    if node.defaultLeft {
                        swap(&first, &second)
                        sign = -1
                        limit = -node.threshold.nextUp
                    }
                    nodes[slot] = Node(limit: limit, sign: sign, feature: UInt32(node.feature), left: Int32(children))
                    next.append((first, children, d + 1))
                    next.append((second, children + 1, d + 1))
                }
                level = next
            }
            roots.append(UInt32(rootSlot))
            depths.append(depth)
        }
        self.nodes = nodes
        self.values = values
        self.roots = roots
        self.depths = depths
        self.baseScore = ensemble.baseScore
        self.maxDepth = depths.max() ?? 0
    }

    /// Number of splits on the longest root-to-leaf path.
    static func depth(_ tree: DecisionTree) -> Int {
        if tree.nodes.isEmpty { return 0 }
        var deepest = 0
        var stack: [(Int32, Int)] = [(0, 0)]
        while let (ref, d) = stack.popLast() {
            if ref < 0 {
                deepest = max(deepest, d)
                continue
            }
            let node = tree.nodes[Int(ref)]
            stack.append((node.left, d + 1))
            stack.append((node.right, d + 1))
        }
        return deepest
    }

    /// Batch: blocks of 16 rows, each tree evaluated for the whole block before the next.
    func score(rows input: UnsafeRawBufferPointer, rowCount: Int, width: Int, into output: UnsafeMutableRawBufferPointer) {
        nodes.withUnsafeBufferPointer { nodes in
            values.withUnsafeBufferPointer { values in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: Self.rowBlock * max(1, width)) { block in
                    var start = 0
                    while start < rowCount {
                        let count = min(Self.rowBlock, rowCount - start)
                        for k in 0..<(count * width) { block[k] = loadFeature(input, (start * width + k) * 4) }
                        if count == Self.rowBlock {
                            scoreBlock(block.baseAddress!, width: width, nodes: nodes.baseAddress!,
                                       values: values.baseAddress!, output: output, first: start)
                        } else {
                            for r in 0..<count {
                                let z = margin(block.baseAddress! + r * width, nodes: nodes.baseAddress!,
                                               values: values.baseAddress!)
                                storeScore(output, start + r, z)
                            }
                        }
                        start += count
                    }
                }
            }
        }
    }

    @inline(__always)
    private func scoreBlock(
        _ rows: UnsafeMutablePointer<Float>, width: Int, nodes: UnsafePointer<Node>, values: UnsafePointer<Double>,
        output: UnsafeMutableRawBufferPointer, first: Int
    ) {
        var margins = (0..<Self.rowBlock).map { _ in baseScore }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: Self.rowBlock) { cursor in
            for t in 0..<roots.count {
                let root = Int(roots[t])
                for r in 0..<Self.rowBlock { cursor[r] = root }
                for _ in 0..<depths[t] {
                    for r in 0..<Self.rowBlock {
                        let node = nodes[cursor[r]]
                        let x = rows[r * width + Int(node.feature)]
                        cursor[r] = Int(node.left) &+ (x * node.sign <= node.limit ? 0 : 1)
                    }
                }
                for r in 0..<Self.rowBlock { margins[r] += values[cursor[r]] }
            }
        }
        for r in 0..<Self.rowBlock { storeScore(output, first + r, margins[r]) }
    }

    /// One row: trees taken 8 at a time, each group stepped together to its deepest tree's depth.
    @inline(__always)
    func margin(_ row: UnsafePointer<Float>, nodes: UnsafePointer<Node>, values: UnsafePointer<Double>) -> Double {
        var z = baseScore
        var t = 0
        var cursor = (0, 0, 0, 0, 0, 0, 0, 0)
        while t + Self.treeBlock <= roots.count {
            cursor = (Int(roots[t]), Int(roots[t + 1]), Int(roots[t + 2]), Int(roots[t + 3]),
                      Int(roots[t + 4]), Int(roots[t + 5]), Int(roots[t + 6]), Int(roots[t + 7]))
            var depth = 0
            for k in t..<(t + Self.treeBlock) { depth = max(depth, depths[k]) }
            @inline(__always) func step(_ c: Int) -> Int {
                let node = nodes[c]
                return Int(node.left) &+ (row[Int(node.feature)] * node.sign <= node.limit ? 0 : 1)
            }
            for _ in 0..<depth {
                cursor = (step(cursor.0), step(cursor.1), step(cursor.2), step(cursor.3),
                          step(cursor.4), step(cursor.5), step(cursor.6), step(cursor.7))
            }
            z += values[cursor.0] + values[cursor.1] + values[cursor.2] + values[cursor.3]
            z += values[cursor.4] + values[cursor.5] + values[cursor.6] + values[cursor.7]
            t += Self.treeBlock
        }
        while t < roots.count {
            var c = Int(roots[t])
            for _ in 0..<depths[t] {
                let node = nodes[c]
                c = Int(node.left) &+ (row[Int(node.feature)] * node.sign <= node.limit ? 0 : 1)
            }
            z += values[c]
            t += 1
        }
        return z
    }
}
