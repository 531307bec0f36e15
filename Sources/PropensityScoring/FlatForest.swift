import PropensityModel

/// The fast evaluation plan for tree ensembles: every split with a finite threshold, numeric or categorical (every
/// model Propensity trains, and most imported ones; zero-as-missing splits take the general plan).
///
/// Each node is 16 bytes and one comparison decides a numeric split, missing values included:
///
///     next = left + (v[feature] ≤ limit ? 0 : 1)
///
/// where `v` is the row followed by its negation (`v[j] = x_j`, `v[width + j] = −x_j`). A NaN input fails every
/// comparison, so it goes to `left + 1`. For a split whose missing values go right that is the right child
/// (`feature = j`, `limit = threshold`). For one whose missing values go left, the children are stored swapped and
/// the test is mirrored: `feature = width + j`, `limit = −nextUp(threshold)`, so `−x ≤ limit` means `x > threshold`
/// — the original right child, now at `left`. A leaf at slot `i` has `limit = NaN` (every comparison fails, so the
/// step always adds 1) and `left = i − 1`: it steps to itself. So any number of steps past a leaf is harmless, trees
/// run a fixed number of steps with no leaf test, and the loop has no data-dependent branch.
///
/// Categorical splits (when the ensemble has any) stay branch-free too. `v` then also holds a zero and, per
/// categorical feature, the row's category code: the category itself when it is a whole number below the feature's
/// code space `C` (the largest category bound among its splits), `C` for a missing value, `C + 1` for anything else.
/// Each categorical node owns a bitset over those codes saying which go right (a category outside its set or beyond
/// its bound, the missing code per its default direction, `C + 1` always), and every node adds one bit:
///
///     next = left + (v[feature] ≤ limit ? 0 : 1) + bit(words, node.words, code(v[codeSlot]))
///
/// A categorical node compares the zero slot with +∞ (adds 0); a numeric node reads code 0 of the all-zero word 0
/// (adds 0). These are the general plan's decisions exactly, so both plans score the same bits.
///
/// Batches evaluate 8 rows per tree pass (independent chains hide the load latency; the tree stays in cache), or, on
/// CPUs with AVX2, 8 rows per vector through `LevelForest` (the same bits). Single rows, and batches too small for
/// that to pay, walk `BinnedForest` (numeric forests that fit the level layout; the same bits) or else evaluate 16
/// trees at a time for the same reason.
struct FlatForest: Sendable {
    struct Node: Sendable {
        var limit: Float
        /// Index into `v` of the value compared with `limit`; with categorical splits, the low 16 bits, and the high
        /// 16 bits index the category code.
        var feature: UInt32
        var left: Int32
        /// With categorical splits: where the node's go-right bitset starts in `words` (0: the all-zero word).
        var words: UInt32 = 0
    }

    /// A categorical feature's code slot in `v` and its code space.
    struct CategoryCodes: Sendable {
        var feature: Int
        var slot: Int
        var space: Int
    }

    let nodes: [Node]
    /// Per slot: the leaf value (0 for internal nodes).
    let values: [Double]
    let roots: [UInt32]
    let depths: [Int]
    let baseScore: Double
    /// Values per row in `v`: the row and its negation, then (with categorical splits) the zero slot and the codes.
    let stride: Int
    let categories: [CategoryCodes]
    /// Go-right bitsets of the categorical nodes; word 0 is zero.
    let words: [UInt32]
    /// The forest laid out for the vector walk, when it was asked for and the forest fits it (numeric, no tree deeper
    /// than `LevelLayout.maxDepth`, padding within `LevelLayout.maxGrowth`); batches then walk with it.
    let levels: LevelForest?
    /// The forest laid out for single rows, when it is numeric and fits the level layout; single rows then walk it.
    let binned: BinnedForest?

    /// The batch walk in use.
    var walk: TreeWalk { levels?.walk ?? .scalar }

    /// Rows scored per pass over the trees: each tree (~2 KB at depth 6) is read once per block from wherever it is in
    /// the cache hierarchy and then serves 64 rows from L1; 64 rows' values (with negations) fit in L1 too.
    static let rowBlock = 64
    /// Rows stepped together through one tree: independent chains that hide load latency.
    static let chains = 8
    /// Trees stepped together for one row (16 chains: the nodes of 500 trees do not fit in L2, so more loads in
    /// flight pay; measured 3.8 µs vs 4.6 µs with 8 on 500 depth-6 trees).
    static let treeBlock = 16
    /// Below this many rows, one row at a time (16 trees interleaved) beats walking the trees level by level
    /// (measured with `propensity-bench scorer --call-sizes`: 8-row blocks were slower than single rows, 16 faster;
    /// with the vector walk 8-row blocks and single rows were alike, 16-row blocks 1.9× faster).
    static let minimumBlockRows = 16

    /// nil when the ensemble has a split this plan cannot express (zero-as-missing, infinite threshold), or so many
    /// features that the packed node fields cannot address them. `walk`: the batch walk wanted (one this CPU runs,
    /// see `TreeWalk.available`); the scalar one when the forest does not fit the other.
    init?(_ ensemble: TreeEnsembleModel, walk: TreeWalk = .scalar) {
        let width = ensemble.schema.count
        var space: [Int: Int] = [:]  // categorical feature → code space
        for tree in ensemble.trees {
            for node in tree.nodes {
                if node.zeroIsMissing { return nil }
                if node.kind == .categorical {
                    space[Int(node.feature), default: 0] = max(space[Int(node.feature)] ?? 0, Int(node.categoryCount) * 32)
                } else if !node.threshold.isFinite {
                    return nil
                }
            }
        }
        let zeroSlot = 2 * width
        let categories = space.keys.sorted().enumerated().map { i, f in
            CategoryCodes(feature: f, slot: zeroSlot + 1 + i, space: space[f]!)
        }
        let stride = categories.isEmpty ? 2 * width : zeroSlot + 1 + categories.count
        if !categories.isEmpty && stride > Int(UInt16.max) { return nil }
        let slotOf = Dictionary(uniqueKeysWithValues: categories.map { ($0.feature, $0) })
        var nodes: [Node] = []
        var values: [Double] = []
        var roots: [UInt32] = []
        var depths: [Int] = []
        var words: [UInt32] = [0]
        // With categorical splits, every other node reads code 0 through the zero slot (see the type's comment).
        let plainCode = categories.isEmpty ? 0 : UInt32(zeroSlot) << 16
        func allocate(_ count: Int) -> Int {
            let start = nodes.count
            for _ in 0..<count {
                nodes.append(Node(limit: .nan, feature: plainCode, left: Int32(nodes.count) - 1))
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
                    if node.kind == .categorical {
                        let codes = slotOf[Int(node.feature)]!
                        let start = words.count
                        words += Self.goRightBits(node, tree: tree, space: codes.space)
                        nodes[slot] = Node(
                            limit: .infinity, feature: UInt32(zeroSlot) | UInt32(codes.slot) << 16,
                            left: Int32(children), words: UInt32(start))
                    } else {
                        var feature = Int(node.feature)
                        var limit = node.threshold
                        if node.defaultLeft {
                            swap(&first, &second)
                            feature += width
                            limit = -node.threshold.nextUp
                        }
                        nodes[slot] = Node(limit: limit, feature: UInt32(feature) | plainCode, left: Int32(children))
                    }
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
        self.stride = stride
        self.categories = categories
        self.words = words
        let layout = categories.isEmpty ? LevelLayout(nodes: nodes, values: values, roots: roots, depths: depths) : nil
        levels = walk == .scalar ? nil : layout.map { LevelForest($0, walk: walk) }
        binned = layout.flatMap { BinnedForest($0, stride: stride, binning: BinnedForest.Binning(walk)) }
    }

    /// A categorical node's bitset over the codes 0…space+1: set where the row goes right.
    static func goRightBits(_ node: DecisionTree.Node, tree: DecisionTree, space: Int) -> [UInt32] {
        var bits = [UInt32](repeating: 0, count: (space + 2 + 31) / 32)
        func setRight(_ code: Int) { bits[code >> 5] |= 1 << UInt32(code & 31) }
        let bound = Int(node.categoryCount) * 32
        for code in 0..<space {
            let inSet = code < bound
                && tree.categoryWords[Int(node.categoryOffset) + code >> 5] & (1 << UInt32(code & 31)) != 0
            if !inSet { setRight(code) }
        }
        if !node.defaultLeft { setRight(space) }  // missing
        setRight(space + 1)  // negative, fractional or beyond every bound: not in the set
        return bits
    }

    /// The code of a categorical value (see the type's comment).
    @inline(__always)
    static func code(_ x: Float, space: Int) -> Float {
        if x.isNaN { return Float(space) }
        return x >= 0 && x < Float(space) && x == x.rounded(.towardZero) ? x : Float(space + 1)
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

    /// Batch: blocks of 64 rows; each tree is evaluated for the whole block, 8 rows at a time, before the next tree.
    func score<Link: ScoreLink>(
        rows input: UnsafeRawBufferPointer, rowCount: Int, width: Int, into output: UnsafeMutableRawBufferPointer,
        link: Link
    ) {
        if categories.isEmpty {
            score(rows: input, rowCount: rowCount, width: width, into: output, step: NumericStep.self, link: link)
        } else {
            score(rows: input, rowCount: rowCount, width: width, into: output, step: CategoricalStep.self, link: link)
        }
    }

    private func score<Step: FlatStep, Link: ScoreLink>(
        rows input: UnsafeRawBufferPointer, rowCount: Int, width: Int, into output: UnsafeMutableRawBufferPointer,
        step: Step.Type, link: Link
    ) {
        let stride = self.stride
        nodes.withUnsafeBufferPointer { nodes in
            values.withUnsafeBufferPointer { values in
              words.withUnsafeBufferPointer { words in
                let tables = Tables(nodes: nodes.baseAddress!, values: values.baseAddress!, words: words.baseAddress!)
                // Sized to the call: a single row's block (a few hundred bytes) stays on the stack; a full 64-row
                // block of a wide model may come from the heap, once per call. The vector walks take as much again
                // for the block transposed.
                let blockFloats = min(Self.rowBlock, max(1, rowCount)) * max(1, stride)
                withUnsafeTemporaryAllocation(of: Float.self, capacity: blockFloats * (levels == nil ? 1 : 2)) { block in
                    var start = 0
                    while start < rowCount {
                        let count = min(Self.rowBlock, rowCount - start)
                        for r in 0..<count {
                            let v = block.baseAddress! + r * stride
                            for j in 0..<width {
                                let x = loadFeature(input, ((start + r) * width + j) * 4)
                                v[j] = x
                                v[width + j] = -x
                            }
                            if !categories.isEmpty {
                                v[2 * width] = 0
                                for c in categories { v[c.slot] = Self.code(v[c.feature], space: c.space) }
                            }
                        }
                        let full = count >= Self.minimumBlockRows ? count / Self.chains * Self.chains : 0
                        if full > 0 {
                            scoreBlock(block.baseAddress!, rows: full, stride: stride, tables: tables,
                                       scratch: block.baseAddress! + blockFloats, output: output, first: start,
                                       step: Step.self, link: link)
                        }
                        for r in full..<count {
                            let v = block.baseAddress! + r * stride
                            let z = binned?.margin(v, base: baseScore) ?? margin(v, tables: tables, step: Step.self)
                            storeScore(output, start + r, z, link)
                        }
                        start += count
                    }
                }
              }
            }
        }
    }

    /// `rows` (a multiple of 8) rows of a block: tree by tree, 8 rows at a time. Not inlined, like `margin`: each
    /// loop gets a function (and registers) of its own; a call per 64 rows costs nothing measurable.
    @inline(never)
    private func scoreBlock<Step: FlatStep, Link: ScoreLink>(
        _ v: UnsafeMutablePointer<Float>, rows: Int, stride: Int, tables: Tables, scratch: UnsafeMutablePointer<Float>,
        output: UnsafeMutableRawBufferPointer, first: Int, step: Step.Type, link: Link
    ) {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: Self.rowBlock) { margins in
          withUnsafeTemporaryAllocation(of: Int.self, capacity: Self.rowBlock) { cursor in
            for r in 0..<rows { margins[r] = baseScore }
            if let levels {
                levels.addTrees(v, stride: stride, rows: rows, scratch: scratch, margins: margins.baseAddress!)
                for r in 0..<rows { storeScore(output, first + r, margins[r], link) }
                return
            }
            roots.withUnsafeBufferPointer { roots in
                depths.withUnsafeBufferPointer { depths in
                    for t in 0..<roots.count {
                        let root = Int(roots[t])
                        for r in 0..<rows { cursor[r] = root }
                        // Level by level over all rows of the block: every row is an independent chain.
                        for _ in 0..<depths[t] {
                            var row = v
                            for r in 0..<rows {
                                cursor[r] = Step.next(cursor[r], row, tables)
                                row += stride
                            }
                        }
                        for r in 0..<rows { margins[r] += tables.values[cursor[r]] }
                    }
                }
            }
            for r in 0..<rows { storeScore(output, first + r, margins[r], link) }
          }
        }
    }

    /// One row (as its `v` vector) when there is no `binned` layout: trees taken 16 at a time, each group stepped
    /// together to its deepest tree's depth (a tree that reached a leaf stays there).
    // Not inlined: its 16 live chains inside the batch loop's function cost the batch path ~8 % (measured).
    @inline(never)
    func margin<Step: FlatStep>(_ v: UnsafePointer<Float>, tables: Tables, step: Step.Type) -> Double {
        var z = baseScore
        @inline(__always) func step(_ c: Int) -> Int { Step.next(c, v, tables) }
        let values = tables.values
        roots.withUnsafeBufferPointer { roots in
            depths.withUnsafeBufferPointer { depths in
                var t = 0
                while t + Self.treeBlock <= roots.count {
                    var c0 = Int(roots[t]), c1 = Int(roots[t + 1]), c2 = Int(roots[t + 2]), c3 = Int(roots[t + 3])
                    var c4 = Int(roots[t + 4]), c5 = Int(roots[t + 5]), c6 = Int(roots[t + 6]), c7 = Int(roots[t + 7])
                    var c8 = Int(roots[t + 8]), c9 = Int(roots[t + 9]), c10 = Int(roots[t + 10]), c11 = Int(roots[t + 11])
                    var c12 = Int(roots[t + 12]), c13 = Int(roots[t + 13]), c14 = Int(roots[t + 14]), c15 = Int(roots[t + 15])
                    var depth = depths[t]
                    for k in (t + 1)..<(t + Self.treeBlock) { depth = max(depth, depths[k]) }
                    for _ in 0..<depth {
                        c0 = step(c0); c1 = step(c1); c2 = step(c2); c3 = step(c3)
                        c4 = step(c4); c5 = step(c5); c6 = step(c6); c7 = step(c7)
                        c8 = step(c8); c9 = step(c9); c10 = step(c10); c11 = step(c11)
                        c12 = step(c12); c13 = step(c13); c14 = step(c14); c15 = step(c15)
                    }
                    // Added one by one in tree order, as the batch path does: a row scores the same bits whichever
                    // path it takes.
                    z += values[c0]; z += values[c1]; z += values[c2]; z += values[c3]
                    z += values[c4]; z += values[c5]; z += values[c6]; z += values[c7]
                    z += values[c8]; z += values[c9]; z += values[c10]; z += values[c11]
                    z += values[c12]; z += values[c13]; z += values[c14]; z += values[c15]
                    t += Self.treeBlock
                }
                while t < roots.count {
                    var c = Int(roots[t])
                    for _ in 0..<depths[t] { c = step(c) }
                    z += values[c]
                    t += 1
                }
            }
        }
        return z
    }

    /// The arrays a walk reads, as pointers (valid for the duration of a `score` call).
    struct Tables {
        let nodes: UnsafePointer<Node>
        let values: UnsafePointer<Double>
        let words: UnsafePointer<UInt32>
    }
}
