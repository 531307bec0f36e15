import PropensityModel

/// Exact path-dependent TreeSHAP with a table per leaf, precomputed once per model (the idea of Yang 2021,
/// "Fast TreeSHAP", algorithm v2, in the form derived below): per row, each leaf costs O(d) instead of Algorithm 2's
/// O(d²) path updates, d being the number of distinct features on the leaf's path.
///
/// For a leaf with value v, distinct path features F (|F| = d), each feature's zero fraction z_j (the product of the
/// cover shares of the path's branches on j) and the set P ⊆ F of features whose every condition on the path the row
/// satisfies, path-dependent TreeSHAP gives
///
///     φ_i = v (1 − z_i) K(P \ {i}) Π_{j ∈ F \ P} z_j      for i ∈ P
///     φ_i = −v K(P) Π_{j ∈ F \ P} z_j                      for i ∉ P
///     K(Q) = Σ_{S ⊆ Q} |S|! (d − |S| − 1)! / d! · Π_{j ∈ Q \ S} z_j
///
/// (the Shapley sum over coalitions S of the path's value v Π_{S} o_j Π_{F∖S} z_j with o_j ∈ {0, 1}). The table
/// holds v·K(Q) for every Q ⊆ F, indexed by Q's bit mask over the leaf's slots; a row finds P from the directions it
/// takes at the path's nodes. No division anywhere, so zero covers need no care.
///
/// Tables cost 2^d doubles per leaf: a tree with a leaf deeper than `maxDistinctFeatures` distinct features, or more
/// than `maxTableEntries` entries in all, is explained by `TreeSHAP` instead (see `TreeExplainer`).
struct LeafTableSHAP: Sendable {
    static let maxDistinctFeatures = 12
    static let maxTableEntries = 1 << 15

    let tree: DecisionTree
    /// Per leaf, in leaf order.
    let leaves: [Leaf]
    /// The leaves' path steps, `leaf.steps` of them from `leaf.firstStep`.
    let steps: [Step]
    /// Per leaf slot: the schema feature and its zero fraction, `leaf.slots` of them from `leaf.firstSlot`.
    let slotFeatures: [Int32]
    let slotZero: [Double]
    /// Per leaf, 2^slots entries from `leaf.firstEntry`: v·K(Q).
    let table: [Double]

    struct Leaf: Sendable {
        var firstStep: Int32
        var steps: Int32
        var firstSlot: Int32
        var slots: Int32
        var firstEntry: Int32
    }

    /// A node on a leaf's path and the direction the path takes there; `slot` is the node's feature's slot in the leaf.
    struct Step: Sendable {
        var node: Int32
        var left: Bool
        var slot: UInt8
    }

    /// nil when the tables would be too large (deep paths).
    init?(_ tree: DecisionTree, leftFraction: [Double]) {
        self.tree = tree
        var leaves = [Leaf](repeating: Leaf(firstStep: 0, steps: 0, firstSlot: 0, slots: 0, firstEntry: 0), count: tree.leafValues.count)
        var steps: [Step] = [], slotFeatures: [Int32] = [], slotZero: [Double] = [], table: [Double] = []
        // Depth-first over the tree with the current path; each leaf records its steps, slots and table.
        var path: [(node: Int32, left: Bool)] = []
        var tooLarge = false
        func visit(_ child: Int32) {
            if tooLarge { return }
            guard child >= 0 else {
                var features: [Int32] = [], zero: [Double] = []
                var leafSteps: [Step] = []
                for (node, left) in path {
                    let feature = tree.nodes[Int(node)].feature
                    let share = left ? leftFraction[Int(node)] : 1 - leftFraction[Int(node)]
                    let slot: Int
                    if let seen = features.firstIndex(of: feature) {
                        slot = seen
                        zero[slot] *= share
                    } else {
                        slot = features.count
                        features.append(feature)
                        zero.append(share)
                    }
                    leafSteps.append(Step(node: node, left: left, slot: UInt8(slot)))
                }
                guard features.count <= Self.maxDistinctFeatures, table.count + (1 << features.count) <= Self.maxTableEntries
                else { tooLarge = true; return }
                leaves[Int(~child)] = Leaf(
                    firstStep: Int32(steps.count), steps: Int32(leafSteps.count), firstSlot: Int32(slotFeatures.count),
                    slots: Int32(features.count), firstEntry: Int32(table.count))
                steps += leafSteps
                slotFeatures += features
                slotZero += zero
                table += Self.entries(value: tree.leafValues[Int(~child)], zero: zero)
                return
            }
            let node = tree.nodes[Int(child)]
            path.append((child, true))
            visit(node.left)
            path[path.count - 1].left = false
            visit(node.right)
            path.removeLast()
        }
        visit(tree.nodes.isEmpty ? -1 : 0)
        if tooLarge { return nil }
        self.leaves = leaves
        self.steps = steps
        self.slotFeatures = slotFeatures
        self.slotZero = slotZero
        self.table = table
    }

    /// v·K(Q) for every Q ⊆ the leaf's d slots. K(Q) = Σ_k w(k) e_{|Q|−k}(z_Q), with w(k) = k!(d−k−1)!/d! and e_m
    /// the elementary symmetric polynomials of Q's zero fractions, built up one slot at a time.
    static func entries(value: Double, zero: [Double]) -> [Double] {
        let d = zero.count
        guard d > 0 else { return [value] }
        var factorial = [1.0]
        for k in 1...d { factorial.append(factorial[k - 1] * Double(k)) }
        let w = (0..<d).map { k in factorial[k] * factorial[d - k - 1] / factorial[d] }
        // e[Q * (d + 1) + m] = e_m(z_Q); Q's highest slot joins Q without it.
        var e = [Double](repeating: 0, count: (1 << d) * (d + 1))
        e[0] = 1
        var result = [Double](repeating: 0, count: 1 << d)
        for q in 0..<(1 << d) {
            let size = q.nonzeroBitCount
            if q > 0 {
                let top = Int.bitWidth - 1 - q.leadingZeroBitCount
                let rest = q & ~(1 << top)
                for m in 0...size {
                    let without = m <= size - 1 ? e[rest * (d + 1) + m] : 0
                    let with = m > 0 ? e[rest * (d + 1) + m - 1] * zero[top] : 0
                    e[q * (d + 1) + m] = without + with
                }
            }
            if size < d {
                var k = 0.0
                for s in 0...size { k += w[s] * e[q * (d + 1) + size - s] }
                result[q] = value * k
            }
        }
        return result
    }

    /// Adds this tree's φ for `row` into `phi`. `directions` has room for the tree's node count.
    @inline(__always)
    func add(row: UnsafeBufferPointer<Float>, phi: UnsafeMutableBufferPointer<Double>, directions: UnsafeMutablePointer<Bool>) {
        let nodes = tree.nodes
        guard !nodes.isEmpty else { return }
        nodes.withUnsafeBufferPointer { nodes in
            for n in 0..<nodes.count { directions[n] = tree.goesLeft(nodes[n], row[Int(nodes[n].feature)]) }
        }
        leaves.withUnsafeBufferPointer { leaves in
            steps.withUnsafeBufferPointer { steps in
                slotFeatures.withUnsafeBufferPointer { features in
                    slotZero.withUnsafeBufferPointer { zero in
                        table.withUnsafeBufferPointer { table in
                            for leaf in leaves {
                                let d = Int(leaf.slots)
                                var satisfied = (1 << d) - 1
                                let first = Int(leaf.firstStep)
                                for s in first..<(first + Int(leaf.steps)) where directions[Int(steps[s].node)] != steps[s].left {
                                    satisfied &= ~(1 << Int(steps[s].slot))
                                }
                                let slot0 = Int(leaf.firstSlot)
                                var outside = 1.0  // Π_{j ∉ P} z_j
                                for u in 0..<d where satisfied & (1 << u) == 0 { outside *= zero[slot0 + u] }
                                let entries = table.baseAddress! + Int(leaf.firstEntry)
                                let notSatisfied = -entries[satisfied] * outside
                                for u in 0..<d {
                                    let f = Int(features[slot0 + u])
                                    if satisfied & (1 << u) != 0 {
                                        phi[f] += (1 - zero[slot0 + u]) * entries[satisfied & ~(1 << u)] * outside
                                    } else {
                                        phi[f] += notSatisfied
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
