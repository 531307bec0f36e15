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
/// holds, for every Q ⊆ F indexed by Q's bit mask over the leaf's slots, v·K(Q) and Π_{j ∉ Q} z_j. No division
/// anywhere, so zero covers need no care.
///
/// A feature's slot is its order of first appearance on the path, so it is the same for every leaf below a node:
/// one pass over the nodes (children have larger indices) carries each node's mask of satisfied slots to its
/// children, clearing the node's slot on the branch the row does not take; the leaves then read their P.
///
/// Tables cost 2^d doubles per leaf: a tree with a leaf deeper than `maxDistinctFeatures` distinct features, or more
/// than `maxTableEntries` entries in all, is explained by `TreeSHAP` instead (see `Explainer`).
struct LeafTableSHAP: Sendable {
    static let maxDistinctFeatures = 12
    static let maxTableEntries = 1 << 15

    let tree: DecisionTree
    /// Per internal node: the slot of its feature on its path.
    let nodeSlot: [UInt8]
    /// Per leaf, in leaf order.
    let leaves: [Leaf]
    /// Per leaf slot: the schema feature and 1 − its zero fraction, `leaf.slots` of them from `leaf.firstSlot`.
    let slotFeatures: [Int32]
    let slotOneMinusZero: [Double]
    /// Per leaf, 2^slots pairs from `leaf.firstEntry`: (v·K(Q), Π_{j ∉ Q} z_j).
    let table: [Double]

    struct Leaf: Sendable {
        var firstSlot: Int32
        var slots: Int32
        var firstEntry: Int32
    }

    /// nil when the tables would be too large (deep paths).
    init?(_ tree: DecisionTree, leftFraction: [Double]) {
        self.tree = tree
        var nodeSlot = [UInt8](repeating: 0, count: tree.nodes.count)
        var leaves = [Leaf](repeating: Leaf(firstSlot: 0, slots: 0, firstEntry: 0), count: tree.leafValues.count)
        var slotFeatures: [Int32] = [], slotOneMinusZero: [Double] = [], table: [Double] = []
        // Depth-first with the path's distinct features and their zero fractions so far.
        var features: [Int32] = [], zero: [Double] = []
        var tooLarge = false
        func visit(_ child: Int32) {
            if tooLarge { return }
            guard child >= 0 else {
                let entries = 1 << features.count
                guard table.count / 2 + entries <= Self.maxTableEntries else { tooLarge = true; return }
                leaves[Int(~child)] = Leaf(
                    firstSlot: Int32(slotFeatures.count), slots: Int32(features.count), firstEntry: Int32(table.count / 2))
                slotFeatures += features
                slotOneMinusZero += zero.map { 1 - $0 }
                table += Self.entries(value: tree.leafValues[Int(~child)], zero: zero)
                return
            }
            let node = tree.nodes[Int(child)]
            let seen = features.firstIndex(of: node.feature)
            let slot = seen ?? features.count
            if slot >= Self.maxDistinctFeatures { tooLarge = true; return }
            if seen == nil { features.append(node.feature); zero.append(1) }
            nodeSlot[Int(child)] = UInt8(slot)
            let before = zero[slot]
            for (next, share) in [(node.left, leftFraction[Int(child)]), (node.right, 1 - leftFraction[Int(child)])] {
                zero[slot] = before * share
                visit(next)
            }
            zero[slot] = before
            if seen == nil { features.removeLast(); zero.removeLast() }
        }
        visit(tree.nodes.isEmpty ? -1 : 0)
        if tooLarge { return nil }
        self.nodeSlot = nodeSlot
        self.leaves = leaves
        self.slotFeatures = slotFeatures
        self.slotOneMinusZero = slotOneMinusZero
        self.table = table
    }

    /// (v·K(Q), Π_{j ∉ Q} z_j) for every Q ⊆ the leaf's d slots, interleaved. K(Q) = Σ_k w(k) e_{|Q|−k}(z_Q), with
    /// w(k) = k!(d−k−1)!/d! and e_m the elementary symmetric polynomials of Q's zero fractions, built up one slot at
    /// a time.
    static func entries(value: Double, zero: [Double]) -> [Double] {
        let d = zero.count
        guard d > 0 else { return [value, 1] }
        var factorial = [1.0]
        for k in 1...d { factorial.append(factorial[k - 1] * Double(k)) }
        let w = (0..<d).map { k in factorial[k] * factorial[d - k - 1] / factorial[d] }
        // e[Q * (d + 1) + m] = e_m(z_Q); Q's highest slot joins Q without it.
        var e = [Double](repeating: 0, count: (1 << d) * (d + 1))
        e[0] = 1
        var result = [Double](repeating: 0, count: 2 << d)
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
                result[2 * q] = value * k
            }
            var outside = 1.0
            for u in 0..<d where q & (1 << u) == 0 { outside *= zero[u] }
            result[2 * q + 1] = outside
        }
        return result
    }

    /// Adds this tree's φ for `row` into `phi`. `nodeMasks` and `leafMasks` have room for the tree's nodes and leaves.
    @inline(__always)
    func add(
        row: UnsafeBufferPointer<Float>, phi: UnsafeMutableBufferPointer<Double>,
        nodeMasks: UnsafeMutablePointer<UInt32>, leafMasks: UnsafeMutablePointer<UInt32>
    ) {
        guard !tree.nodes.isEmpty else { return }
        tree.nodes.withUnsafeBufferPointer { nodes in
            nodeSlot.withUnsafeBufferPointer { slots in
                nodeMasks[0] = UInt32.max
                for n in 0..<nodes.count {
                    let node = nodes[n]
                    let left = tree.goesLeft(node, row[Int(node.feature)])
                    let bit = UInt32(1) << UInt32(slots[n])
                    let mask = nodeMasks[n]
                    let (leftMask, rightMask) = left ? (mask, mask & ~bit) : (mask & ~bit, mask)
                    if node.left >= 0 { nodeMasks[Int(node.left)] = leftMask } else { leafMasks[Int(~node.left)] = leftMask }
                    if node.right >= 0 { nodeMasks[Int(node.right)] = rightMask } else { leafMasks[Int(~node.right)] = rightMask }
                }
            }
        }
        leaves.withUnsafeBufferPointer { leaves in
            slotFeatures.withUnsafeBufferPointer { features in
                slotOneMinusZero.withUnsafeBufferPointer { oneMinusZero in
                    table.withUnsafeBufferPointer { table in
                        for l in 0..<leaves.count {
                            let leaf = leaves[l]
                            let d = Int(leaf.slots)
                            let satisfied = Int(leafMasks[l]) & ((1 << d) - 1)
                            let entries = table.baseAddress! + 2 * Int(leaf.firstEntry)
                            let outside = entries[2 * satisfied + 1]
                            let notSatisfied = -entries[2 * satisfied] * outside
                            let slot0 = Int(leaf.firstSlot)
                            for u in 0..<d {
                                let inP = satisfied & (1 << u) != 0
                                let withoutU = entries[2 * (satisfied & ~(1 << u))]
                                let value = inP ? oneMinusZero[slot0 + u] * withoutU * outside : notSatisfied
                                phi[Int(features[slot0 + u])] += value
                            }
                        }
                    }
                }
            }
        }
    }
}
