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
/// that does not depend on the row (those ratios and q for o = 1, at every point) is computed when the model loads;
/// a row costs, per edge, a few vector multiply–adds over the G points. An edge whose feature the row already failed
/// higher up changes nothing but z: its ratio is the cover share, and it adds nothing.
///
/// Points are lanes of `Lanes` (unused lanes have weight 0). Nodes are visited in index order (children after their
/// parent), so one pass carries P and o down and one reverse pass sums S up.
struct QuadratureTreeSHAP<Lanes: SIMD & Sendable>: Sendable where Lanes.Scalar == Double {
    let tree: DecisionTree
    /// Per slot (slot 0 is the root, `1..<nodes` internal nodes by index, `nodes + l` leaf l), about the edge into
    /// the slot: the slot below the previous edge on the same feature (0, the root, when there is none; the root
    /// counts as satisfied with q = 0).
    let previous: [Int32]
    /// The edge's cover share: P's factor when the row failed the feature higher up. Times the leaf's value for a
    /// leaf, so that the leaf's P comes out as its S.
    let share: [Double]
    /// P's factor f_after / f_before, two per slot: [2s] when the row does not take this edge, [2s + 1] when it does
    /// (both with the feature satisfied up to here). Times the leaf's value for a leaf.
    let factors: [Lanes]
    /// ω (1 − z) / (z + (1 − z) t) per slot: ω q with the feature satisfied so far; 0 at the root. Then one more,
    /// −ω / (1 − t): ω q once the feature failed (an index to select rather than a branch on the row).
    let terms: [Lanes]

    /// nil when a path holds more than 2 × `Lanes.scalarCount` distinct features.
    init?(_ tree: DecisionTree, leftFraction: [Double]) {
        let nodes = tree.nodes.count, slots = nodes + tree.leafValues.count
        func slot(_ child: Int32) -> Int { child >= 0 ? Int(child) : nodes + Int(~child) }
        var previous = [Int32](repeating: 0, count: slots)
        var share = [Double](repeating: 1, count: slots)
        var zero = [Double](repeating: 1, count: slots)
        // Depth-first: for each feature on the path so far, the slot below its last edge.
        var last: [Int32: Int32] = [:]
        var distinct = 0
        func visit(_ node: Int) {
            let split = tree.nodes[node]
            let before = last[split.feature]
            for (child, childShare) in [(split.left, leftFraction[node]), (split.right, 1 - leftFraction[node])] {
                let c = slot(child)
                previous[c] = before ?? 0
                share[c] = childShare
                zero[c] = (before.map { zero[Int($0)] } ?? 1) * childShare
                last[split.feature] = Int32(c)
                if child >= 0 { visit(Int(child)) } else { distinct = max(distinct, last.count) }
            }
            last[split.feature] = before
        }
        if nodes > 0 { visit(0) }
        let points = max(1, (distinct + 1) / 2)
        guard points <= Lanes.scalarCount else { return nil }

        var t = Lanes(repeating: 0.5), w = Lanes(repeating: 0)
        for (g, (x, weight)) in GaussLegendre.rule(points: points).enumerated() {
            t[g] = (x + 1) / 2
            w[g] = weight / 2
        }
        let one = Lanes(repeating: 1)
        func satisfiedF(_ z: Double) -> Lanes { Lanes(repeating: z) + Lanes(repeating: 1 - z) * t }
        var factors = [Lanes](repeating: one, count: 2 * slots)
        var terms = [Lanes](repeating: .zero, count: slots + 1)
        for c in 1..<max(1, slots) {
            let z = zero[c]
            let before = satisfiedF(previous[c] == 0 ? 1 : zero[Int(previous[c])])
            let value = c >= nodes ? tree.leafValues[c - nodes] : 1
            factors[2 * c] = Lanes(repeating: z) * (one - t) / before * Lanes(repeating: value)
            factors[2 * c + 1] = satisfiedF(z) / before * Lanes(repeating: value)
            share[c] *= value
            terms[c] = w * Lanes(repeating: 1 - z) / satisfiedF(z)
        }
        terms[slots] = -w / (one - t)
        self.tree = tree
        self.previous = previous
        self.share = share
        self.factors = factors
        self.terms = terms
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

    /// Adds this tree's φ for `row` into `phi`. Which term applies is an index, not a branch on the row: a
    /// mispredicted branch per edge cost a third of the time.
    @inline(__always)
    func add(row: UnsafeBufferPointer<Float>, phi: UnsafeMutableBufferPointer<Double>, workspace: Workspace) {
        let nodeCount = tree.nodes.count
        guard nodeCount > 0 else { return }  // a single leaf adds its value to the bias only
        let satisfied = workspace.satisfied, wentLeft = workspace.goesLeft, values = workspace.values
        tree.nodes.withUnsafeBufferPointer { nodes in
            previous.withUnsafeBufferPointer { previous in
                share.withUnsafeBufferPointer { share in
                    factors.withUnsafeBufferPointer { factors in
                        terms.withUnsafeBufferPointer { terms in
                            let failed = terms.count - 1
                            satisfied[0] = true
                            values[0] = Lanes(repeating: 1)
                            // Down: o and P of every internal node. A leaf's are made on the way up, from its
                            // parent's P (they are used once; storing them and reading them back costs more).
                            for n in 0..<nodeCount {
                                let node = nodes[n]
                                let left = tree.goesLeft(node, row[Int(node.feature)])
                                wentLeft[n] = left
                                let p = values[n]
                                @inline(__always) func down(_ child: Int32, taken: Bool) {
                                    guard child >= 0 else { return }
                                    let c = Int(child)
                                    if satisfied[Int(previous[c])] {
                                        satisfied[c] = taken
                                        values[c] = p * factors[2 * c + (taken ? 1 : 0)]
                                    } else {
                                        satisfied[c] = false
                                        values[c] = p * Lanes(repeating: share[c])
                                    }
                                }
                                down(node.left, taken: left)
                                down(node.right, taken: !left)
                            }
                            // Up: S of every node (a leaf's P is its S: its value is in its factors) and each edge's
                            // term: q after the edge minus q before it, nothing when the feature had already failed.
                            var n = nodeCount - 1
                            while n >= 0 {
                                let node = nodes[n]
                                let p = values[n], left = wentLeft[n]
                                @inline(__always) func up(_ child: Int32, taken: Bool) -> (sum: Lanes, term: Lanes) {
                                    let c = child >= 0 ? Int(child) : nodeCount + Int(~child)
                                    let before = Int(previous[c])
                                    let satisfiedBefore = satisfied[before]
                                    let s: Lanes, satisfiedAfter: Bool
                                    if child >= 0 {
                                        s = values[c]
                                        satisfiedAfter = satisfied[c]
                                    } else {
                                        satisfiedAfter = satisfiedBefore && taken
                                        s = satisfiedBefore
                                            ? p * factors[2 * c + (taken ? 1 : 0)] : p * Lanes(repeating: share[c])
                                    }
                                    guard satisfiedBefore else { return (s, .zero) }
                                    return (s, s * (terms[satisfiedAfter ? c : failed] - terms[before]))
                                }
                                let (l, r) = (up(node.left, taken: left), up(node.right, taken: !left))
                                phi[Int(node.feature)] += (l.term + r.term).sum()
                                values[n] = l.sum + r.sum
                                n -= 1
                            }
                        }
                    }
                }
            }
        }
    }
}
