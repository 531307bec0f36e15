import PropensityModel

/// Exact path-dependent TreeSHAP leaf by leaf, each leaf's terms from a polynomial of its path's zero fractions:
/// O(d²) arithmetic per leaf on O(d) stored numbers, d being the number of distinct features on the leaf's path.
///
/// For a leaf with value v, distinct path features F (|F| = d), each feature's zero fraction z_j (the product of the
/// cover shares of the path's branches on j) and the set P ⊆ F (|P| = q) of features whose every condition on the
/// path the row satisfies, path-dependent TreeSHAP gives
///
///     φ_i = v (1 − z_i) K(P \ {i}) Π_{j ∈ F \ P} z_j      for i ∈ P
///     φ_i = −v K(P) Π_{j ∈ F \ P} z_j                      for i ∉ P
///     K(Q) = Σ_{S ⊆ Q} w(|S|) Π_{j ∈ Q \ S} z_j,   w(s) = s! (d − s − 1)! / d!
///
/// (the Shapley sum over coalitions S of the path's value v Π_{S} o_j Π_{F∖S} z_j with o_j ∈ {0, 1}). With
/// g(t) = Π_{j ∈ P} (1 + z_j t), K(Q) = Σ_s w(s) e_{|Q|−s}(z_Q) reads K(P) = Σ_s w(s) g_{q−s}; and since
/// g / (1 + z_i t) is the polynomial of P \ {i}, K(P \ {i}) = Σ_k A_k (−z_i)^k with A_k = Σ_{m ≥ k} w(q−1−m) g_{m−k}:
/// one set of coefficients per leaf, then one Horner evaluation per satisfied feature. No division, so zero covers
/// need no care; the alternating sum loses at most about 2^q ulps, which `maxDistinctFeatures` bounds.
///
/// An earlier version looked K up in a table of 2^d entries per leaf (Yang 2021, "Fast TreeSHAP" v2): fewer
/// operations, but 16 MB for a 500-tree depth-6 model, so a single row was bound by cache misses (7 ms per row against
/// under 0.5 ms computed here).
///
/// A feature's slot is its order of first appearance on the path, so it is the same for every leaf below a node:
/// one pass over the nodes (children have larger indices) carries each node's mask of satisfied slots to its
/// children, clearing the node's slot on the branch the row does not take; the leaves then read their P.
struct PathPolynomialSHAP: Sendable {
    /// Trees with a path over more distinct features are explained by `TreeSHAP` instead (see `Explainer`).
    static let maxDistinctFeatures = 12

    let tree: DecisionTree
    /// Per internal node: the slot of its feature on its path.
    let nodeSlot: [UInt8]
    /// Per leaf, in leaf order.
    let leaves: [Leaf]
    /// Per leaf slot: the schema feature and its zero fraction, `leaf.slots` of them from `leaf.firstSlot`.
    let slotFeatures: [Int32]
    let slotZero: [Double]

    struct Leaf: Sendable {
        var value: Double
        var firstSlot: Int32
        var slots: Int32
    }

    /// Scratch space and the Shapley weights for `add`, allocated once per batch of rows.
    struct Workspace {
        let nodeMasks: UnsafeMutablePointer<UInt32>
        let leafMasks: UnsafeMutablePointer<UInt32>
        let coefficients: UnsafeMutablePointer<Double>
        let features: UnsafeMutablePointer<Int32>
        let weights: UnsafeMutablePointer<Double>

        init(maxNodes: Int, maxLeaves: Int) {
            nodeMasks = .allocate(capacity: max(1, maxNodes))
            leafMasks = .allocate(capacity: max(1, maxLeaves))
            coefficients = .allocate(capacity: 3 * (PathPolynomialSHAP.maxDistinctFeatures + 1))
            features = .allocate(capacity: 2 * (PathPolynomialSHAP.maxDistinctFeatures + 1))
            let weights = PathPolynomialSHAP.shapleyWeights
            self.weights = .allocate(capacity: weights.count)
            self.weights.initialize(from: weights, count: weights.count)
        }

        func deallocate() {
            nodeMasks.deallocate(); leafMasks.deallocate(); coefficients.deallocate(); features.deallocate(); weights.deallocate()
        }
    }

    /// w(s) = s! (d − s − 1)! / d! = 1 / (d · C(d − 1, s)) for s < d, and 0 for s = d (so K(P) needs no branch when
    /// P = F), d + 1 values from d (d + 1) / 2 for each d up to `maxDistinctFeatures`.
    static let shapleyWeights: [Double] = (0...maxDistinctFeatures).flatMap { d in
        (0...d).map { s -> Double in
            guard s < d else { return 0 }
            var choose = 1.0
            for k in 0..<s { choose = choose * Double(d - 1 - k) / Double(k + 1) }
            return 1 / (Double(d) * choose)
        }
    }

    /// nil when a path holds more than `maxDistinctFeatures` distinct features.
    init?(_ tree: DecisionTree, leftFraction: [Double]) {
        self.tree = tree
        var nodeSlot = [UInt8](repeating: 0, count: tree.nodes.count)
        var leaves = [Leaf](repeating: Leaf(value: 0, firstSlot: 0, slots: 0), count: tree.leafValues.count)
        var slotFeatures: [Int32] = [], slotZero: [Double] = []
        // Depth-first with the path's distinct features and their zero fractions so far.
        var features: [Int32] = [], zero: [Double] = []
        var tooDeep = false
        func visit(_ child: Int32) {
            if tooDeep { return }
            guard child >= 0 else {
                leaves[Int(~child)] = Leaf(
                    value: tree.leafValues[Int(~child)], firstSlot: Int32(slotFeatures.count), slots: Int32(features.count))
                slotFeatures += features
                slotZero += zero
                return
            }
            let node = tree.nodes[Int(child)]
            let seen = features.firstIndex(of: node.feature)
            let slot = seen ?? features.count
            if slot >= Self.maxDistinctFeatures { tooDeep = true; return }
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
        if tooDeep { return nil }
        self.nodeSlot = nodeSlot
        self.leaves = leaves
        self.slotFeatures = slotFeatures
        self.slotZero = slotZero
    }

    /// Adds this tree's φ for `row` into `phi`.
    @inline(__always)
    func add(row: UnsafeBufferPointer<Float>, phi: UnsafeMutableBufferPointer<Double>, workspace: Workspace) {
        guard !tree.nodes.isEmpty else { return }
        let nodeMasks = workspace.nodeMasks, leafMasks = workspace.leafMasks
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
        // g, A, then P's zero fractions and features and F∖P's features, each up to maxDistinctFeatures + 1 long.
        let stride = Self.maxDistinctFeatures + 1
        let g = workspace.coefficients, a = g + stride, inZero = a + stride
        let inFeature = workspace.features, outFeature = inFeature + stride
        leaves.withUnsafeBufferPointer { leaves in
            slotFeatures.withUnsafeBufferPointer { features in
                slotZero.withUnsafeBufferPointer { zero in
                    for l in 0..<leaves.count {
                        let leaf = leaves[l]
                        let d = Int(leaf.slots)
                        let first = Int(leaf.firstSlot)
                        let satisfied = leafMasks[l]
                        // Split the slots into P and F∖P without branching on the row's bits (every slot is written
                        // to both lists; only one count moves).
                        var q = 0, outsideCount = 0
                        var outside = 1.0
                        for u in 0..<d {
                            let inP = satisfied & (1 << UInt32(u)) != 0
                            let z = zero[first + u], feature = features[first + u]
                            inZero[q] = z
                            inFeature[q] = feature
                            outFeature[outsideCount] = feature
                            outside *= inP ? 1 : z
                            q += inP ? 1 : 0
                            outsideCount += inP ? 0 : 1
                        }
                        // g(t) = Π_P (1 + z t).
                        g[0] = 1
                        for u in 0..<q {
                            let z = inZero[u]
                            g[u + 1] = z * g[u]
                            var m = u
                            while m > 0 { g[m] += z * g[m - 1]; m -= 1 }
                        }
                        let w = workspace.weights + d * (d + 1) / 2
                        let scale = leaf.value * outside
                        if outsideCount > 0 {
                            var kP = 0.0
                            for s in 0...q { kP += w[s] * g[q - s] }
                            let notSatisfied = -scale * kP
                            for u in 0..<outsideCount { phi[Int(outFeature[u])] += notSatisfied }
                        }
                        guard q > 0 else { continue }
                        for k in 0..<q {
                            var sum = 0.0
                            for m in k..<q { sum += w[q - 1 - m] * g[m - k] }
                            a[k] = sum
                        }
                        for u in 0..<q {
                            let minusZ = -inZero[u]
                            var h = a[q - 1]
                            var k = q - 2
                            while k >= 0 { h = h * minusZ + a[k]; k -= 1 }
                            phi[Int(inFeature[u])] += scale * (1 + minusZ) * h
                        }
                    }
                }
            }
        }
    }
}
