import CTreeSHAP
import PropensityModel

/// Exact path-dependent TreeSHAP for one tree in O(edges × G) per row, G = ⌈d / 2⌉ and d the most distinct features
/// on one of the tree's paths: Linear TreeSHAP's edge-by-edge sums (Yu et al. 2022), with the Shapley weights
/// integrated by Gauss–Legendre quadrature, which is exact for these polynomials.
///
/// For a leaf with value v, distinct path features F, each feature's zero fraction z_j (the product of the cover
/// shares of the path's branches on j) and one fraction o_j ∈ {0, 1} (whether the row satisfies all of them),
///
///     φ_i = v (o_i − z_i) Σ_S w(|S|) Π_{j∈S} o_j Π_{j∈F∖S∖i} z_j = v (o_i − z_i) ∫₀¹ Π_{j∈F∖i} f_j(t) dt,
///     f_j(t) = z_j + (o_j − z_j) t,
///
/// since w(s) = s! (d − s − 1)! / d! = ∫₀¹ tˢ (1 − t)^(d−s−1) dt. The integrand has degree d − 1, so G points give it
/// exactly: φ_i = Σ_g ω_g v P(t_g) q_i(t_g) with P = Π_{j∈F} f_j and q_i = (o_i − z_i) / f_i, which is
/// (1 − z_i) / (z_i + (1 − z_i) t) when o_i = 1 and −1 / (1 − t) when o_i = 0 (no division by a zero cover).
///
/// Summed over leaves, per edge: along a path a feature's z and o change at each edge on it, and q at the leaf is the
/// sum over those edges of (q after the edge − q before it). So each edge e into node c adds
/// Σ_g ω_g (q_e − q_before)(t_g) · S_c(t_g) to its feature, where S_c = Σ_{leaves under c} v P is summed bottom-up,
/// and P is carried top-down: each edge multiplies its parent's P by f_after / f_before of its feature. Everything
/// that does not depend on the row (those ratios, and ω (q after − q before) for both outcomes of the edge, at every
/// point) is computed when the model loads; a row costs, per edge, a few vector multiply–adds over the G points. An
/// edge whose feature the row already failed higher up changes nothing but z: its ratio is the cover share, and it
/// adds nothing.
///
/// Points are lanes of `Lanes` (unused lanes have weight 0). Nodes are visited in index order (children after their
/// parent), so one pass carries P and o down and one reverse pass sums S up. Those two passes are C
/// (`propensity_quadrature_shap_add`, compiled for the baseline target, AVX2 and AVX-512F: `ExplainKernel`); Swift
/// builds the tables.
///
/// Every tree given is stored in one array of `Record`s, a node's split beside its two edges' tables, trees back to
/// back, so that a row reads one stream front to back (down) and back to front (up) per tree. One row's explanation
/// reads the whole table (10 MB for 500 depth-6 trees), and a row that comes after an idle gap (a server at a low
/// rate) finds it out of the caches: with separate small arrays per tree, too short for the hardware prefetcher, one
/// such row of that model cost 1.5 ms; in one stream, 0.85 ms (`propensity-bench explain --single-rows
/// --evict-megabytes 64`). An edge stores its term's step (q after − q before) for both outcomes rather than q, which
/// made each edge read the previous edge on its feature, elsewhere in the table: 25 % more bytes, but 3,530 rows/s
/// instead of 2,200 in blocks, a row in cache 0.50–0.60 ms instead of 0.64, out of the caches 0.76 instead of 0.79.
struct QuadratureTreeSHAP<Lanes: SIMD & Sendable>: Sendable where Lanes.Scalar == Double {
    /// Each tree's records in node order, tree after tree.
    let records: [Record]
    /// Per tree its first record, then one past the last tree's records.
    let starts: [Int]
    /// Only the categorical splits' bitsets, of every tree, which the records' splits point into (so that a split is
    /// decided by `DecisionTree.goesLeft` without touching the tree it came from).
    let categories: DecisionTree

    /// Bytes ahead of the record being read that the down pass prefetches: most of a depth-6 tree (63 records of 320
    /// bytes), so the next tree is loading while this one is computed.
    /// Past the table's end the prefetches are hints to addresses never read, which x86 ignores.
    static var prefetchDistance: Int { 16_384 }

    /// The Gauss–Legendre points a tree needs: exact for paths of up to 2 × points distinct features.
    static func points(_ paths: TreeSHAP) -> Int { max(1, (paths.distinctFeatures + 1) / 2) }

    /// Whether `Lanes` has the points `paths` needs.
    static func takes(_ paths: TreeSHAP) -> Bool { points(paths) <= Lanes.scalarCount }

    /// nil when one of the trees needs more points than `Lanes` has (see `takes`).
    init?(_ trees: [TreeSHAP]) {
        guard trees.allSatisfy(Self.takes) else { return nil }
        precondition(Self.layoutMatches, "QuadratureTreeSHAP.Record is not laid out as quadrature_shap.c reads it")
        var records: [Record] = []
        var starts: [Int] = []
        var categories = DecisionTree(nodes: [], leafValues: [], categoryWords: [])
        for paths in trees {
            starts.append(records.count)
            var tree = paths.tree
            for n in tree.nodes.indices { tree.nodes[n].categoryOffset += UInt32(categories.categoryWords.count) }
            categories.categoryWords += tree.categoryWords
            Self.append(tree, leftFraction: paths.leftFraction, points: Self.points(paths), to: &records)
        }
        starts.append(records.count)
        self.records = records
        self.starts = starts
        self.categories = categories
    }

    /// Appends one tree's records.
    private static func append(_ tree: DecisionTree, leftFraction: [Double], points: Int, to records: inout [Record]) {
        let nodes = tree.nodes.count
        guard nodes > 0 else { return }
        var previous = [Int32](repeating: 0, count: nodes + tree.leafValues.count)
        var share = [Double](repeating: 1, count: previous.count)
        var zero = [Double](repeating: 1, count: previous.count)
        func slot(_ child: Int32) -> Int { child >= 0 ? Int(child) : nodes + Int(~child) }
        // Depth-first: for each feature on the path so far, the slot below its last edge.
        var last: [Int32: Int32] = [:]
        func visit(_ node: Int) {
            let split = tree.nodes[node]
            let before = last[split.feature]
            for (child, childShare) in [(split.left, leftFraction[node]), (split.right, 1 - leftFraction[node])] {
                let c = slot(child)
                previous[c] = before ?? 0
                share[c] = childShare
                zero[c] = (before.map { zero[Int($0)] } ?? 1) * childShare
                last[split.feature] = Int32(c)
                if child >= 0 { visit(Int(child)) }
            }
            last[split.feature] = before
        }
        visit(0)

        var t = Lanes(repeating: 0.5), w = Lanes(repeating: 0)
        for (g, (x, weight)) in GaussLegendre.rule(points: points).enumerated() {
            t[g] = (x + 1) / 2
            w[g] = weight / 2
        }
        let one = Lanes(repeating: 1)
        func satisfiedF(_ z: Double) -> Lanes { Lanes(repeating: z) + Lanes(repeating: 1 - z) * t }
        /// ω q at a slot with its feature satisfied down to it; 0 at the root.
        func satisfiedTerm(_ slot: Int) -> Lanes {
            slot == 0 ? .zero : w * Lanes(repeating: 1 - zero[slot]) / satisfiedF(zero[slot])
        }
        let failedTerm = -w / (one - t)
        func edgeTables(_ c: Int) -> Edge {
            let z = zero[c], b = Int(previous[c])
            let before = satisfiedF(b == 0 ? 1 : zero[b])
            let value = c >= nodes ? tree.leafValues[c - nodes] : 1
            return Edge(
                notTaken: Lanes(repeating: z) * (one - t) / before * Lanes(repeating: value),
                taken: satisfiedF(z) / before * Lanes(repeating: value),
                failedStep: failedTerm - satisfiedTerm(b),
                satisfiedStep: satisfiedTerm(c) - satisfiedTerm(b),
                share: share[c] * value,
                previous: previous[c])
        }
        for split in tree.nodes {
            records.append(Record(split: split, left: edgeTables(slot(split.left)), right: edgeTables(slot(split.right))))
        }
    }

    /// Scratch space for `add`, per internal node: whether the row satisfies every condition on the node's feature
    /// down to it, which way the row goes, and P (down pass) then S (up pass).
    struct Workspace {
        let satisfied: UnsafeMutablePointer<Bool>
        let goesLeft: UnsafeMutablePointer<Bool>
        let values: UnsafeMutablePointer<Lanes>

        init(maxNodes: Int) {
            satisfied = .allocate(capacity: max(1, maxNodes))
            goesLeft = .allocate(capacity: max(1, maxNodes))
            values = .allocate(capacity: max(1, maxNodes))
        }

        func deallocate() {
            satisfied.deallocate()
            goesLeft.deallocate()
            values.deallocate()
        }
    }

    /// Whether the C kernel reads `Record` where Swift lays it out (checked once per table; a mismatch is a build
    /// problem, not an input one).
    static var layoutMatches: Bool {
        let lanes = Int32(Lanes.scalarCount)
        func c(_ field: Int32) -> Int { Int(propensity_quadrature_shap_layout(lanes, field)) }
        let split = MemoryLayout<DecisionTree.Node>.self, edge = MemoryLayout<Edge>.self
        return [MemoryLayout<Record>.stride, MemoryLayout<Record>.offset(of: \.left)!,
                MemoryLayout<Record>.offset(of: \.right)!, edge.offset(of: \.taken)!, edge.offset(of: \.failedStep)!,
                edge.offset(of: \.satisfiedStep)!, edge.offset(of: \.share)!, edge.offset(of: \.previous)!,
                split.offset(of: \.threshold)!, split.offset(of: \.left)!, split.offset(of: \.right)!,
                split.offset(of: \.categoryOffset)!, split.offset(of: \.categoryCount)!]
            == (0...12).map { c(Int32($0)) }
            && edge.offset(of: \.notTaken) == 0 && split.offset(of: \.feature) == 0 && split.offset(of: \.kind) == 4
            && split.offset(of: \.defaultLeft) == 5 && split.offset(of: \.zeroIsMissing) == 6
            && (Lanes.scalarCount == 4 || Lanes.scalarCount == 8)
    }

    /// Adds tree `t`'s φ for `row` into `phi`, by `kernel` (`propensity_quadrature_shap_add`: a down pass for P and
    /// o, an up pass for S and the edges' terms). `prefetch`: also start loading the records a tree ahead (for the
    /// first row of a block; the others find them in the cache).
    @inline(__always)
    func add(tree t: Int, row: UnsafeBufferPointer<Float>, phi: UnsafeMutableBufferPointer<Double>, workspace: Workspace,
             kernel: ExplainKernel, prefetch: Bool) {
        let nodeCount = starts[t + 1] - starts[t]
        guard nodeCount > 0 else { return }  // a single leaf adds its value to the bias only
        records.withUnsafeBufferPointer { all in
            categories.categoryWords.withUnsafeBufferPointer { words in
                let first = all.baseAddress! + starts[t]
                propensity_quadrature_shap_add(
                    kernel.path, Int32(Lanes.scalarCount), first, nodeCount, row.baseAddress, words.baseAddress,
                    propensity_shap_workspace(
                        went_left: workspace.goesLeft, satisfied: workspace.satisfied,
                        values: UnsafeMutableRawPointer(workspace.values).assumingMemoryBound(to: Double.self)),
                    phi.baseAddress, prefetch ? Self.prefetchDistance : 0)
            }
        }
    }
}
