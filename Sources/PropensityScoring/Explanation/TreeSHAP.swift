import PropensityModel

/// Exact path-dependent TreeSHAP (Lundberg, Erion & Lee 2018, Algorithm 2) for one tree, with the tree prepared
/// once: child fractions from the covers, the tree's expected value, and its depth (to size the path storage).
///
/// A row follows its own path (missing values, zero-as-missing and unseen categories go where `goesLeft` sends them);
/// the other branch of every node is weighed by the share of training cover that went there. Fractions are the
/// child's cover over the two children's covers, so they sum to one at every node even when an importer's covers
/// do not add up exactly: that is what makes `bias + Σ φ` equal the margin.
struct TreeSHAP: Sendable {
    let tree: DecisionTree
    /// Per internal node: the share of its cover that went left (right: 1 − it).
    let leftFraction: [Double]
    /// E[f] over the training data, by the same fractions.
    let expectedValue: Double
    /// Longest root-to-leaf path, in internal nodes.
    let depth: Int
    /// The most distinct features on one root-to-leaf path (what sizes `QuadratureTreeSHAP`'s rule: `points`).
    let distinctFeatures: Int

    init(_ tree: DecisionTree) {
        self.tree = tree
        let nodes = tree.nodes.count
        func cover(_ child: Int32) -> Double { child >= 0 ? tree.covers[Int(child)] : tree.covers[nodes + Int(~child)] }
        let fractions = tree.nodes.map { node in
            let (l, r) = (cover(node.left), cover(node.right))
            return l + r > 0 ? l / (l + r) : 0.5
        }
        func expected(_ child: Int32) -> Double {
            guard child >= 0 else { return tree.leafValues[Int(~child)] }
            let node = tree.nodes[Int(child)]
            let f = fractions[Int(child)]
            return f * expected(node.left) + (1 - f) * expected(node.right)
        }
        func depthOf(_ child: Int32) -> Int {
            child < 0 ? 0 : 1 + max(depthOf(tree.nodes[Int(child)].left), depthOf(tree.nodes[Int(child)].right))
        }
        func distinct(_ child: Int32, _ above: Set<Int32>) -> Int {
            guard child >= 0 else { return above.count }
            let node = tree.nodes[Int(child)]
            let here = above.union([node.feature])
            return max(distinct(node.left, here), distinct(node.right, here))
        }
        leftFraction = fractions
        distinctFeatures = nodes == 0 ? 0 : distinct(0, [])
        expectedValue = nodes == 0 ? tree.leafValues[0] : expected(0)
        depth = nodes == 0 ? 0 : depthOf(0)
    }

    /// Path elements needed by `add`: one segment per recursion level, each one longer than its parent's.
    var pathCapacity: Int { (depth + 2) * (depth + 3) / 2 + 1 }

    struct PathElement {
        var feature: Int32 = -1
        var zero: Double = 0
        var one: Double = 0
        var weight: Double = 0
    }

    /// Adds this tree's φ for `row` into `phi` (one slot per schema feature). `path` has `pathCapacity` elements.
    /// `reciprocals[k]` = 1/k for k up to `depth + 2`.
    func add(row: UnsafeBufferPointer<Float>, phi: UnsafeMutableBufferPointer<Double>,
             path: UnsafeMutablePointer<PathElement>, reciprocals: UnsafePointer<Double>)
    {
        guard !tree.nodes.isEmpty else { return }  // a single leaf adds its value to the bias only
        recurse(0, row: row, phi: phi, parentPath: path, reciprocals: reciprocals, uniqueDepth: 0, zero: 1, one: 1, feature: -1)
    }

    private func recurse(
        _ index: Int32, row: UnsafeBufferPointer<Float>, phi: UnsafeMutableBufferPointer<Double>,
        parentPath: UnsafeMutablePointer<PathElement>, reciprocals: UnsafePointer<Double>, uniqueDepth: Int,
        zero: Double, one: Double, feature: Int32
    ) {
        let path = parentPath + uniqueDepth + 1
        path.update(from: parentPath, count: uniqueDepth + 1)
        Self.extend(path, uniqueDepth, zero: zero, one: one, feature: feature)
        guard index >= 0 else {
            let value = tree.leafValues[Int(~index)]
            if uniqueDepth >= 1 {
                for i in 1...uniqueDepth {
                    let w = Self.unwoundSum(path, uniqueDepth, i, reciprocals: reciprocals)
                    phi[Int(path[i].feature)] += w * (path[i].one - path[i].zero) * value
                }
            }
            return
        }
        let node = tree.nodes[Int(index)]
        let goesLeft = tree.goesLeft(node, row[Int(node.feature)])
        let (hot, cold) = goesLeft ? (node.left, node.right) : (node.right, node.left)
        let left = leftFraction[Int(index)]
        let (hotFraction, coldFraction) = goesLeft ? (left, 1 - left) : (1 - left, left)
        var incomingZero = 1.0
        var incomingOne = 1.0
        var depth = uniqueDepth
        // A feature already on the path is taken off it and its fractions carried into the children.
        var k = 0
        while k <= depth && path[k].feature != node.feature { k += 1 }
        if k <= depth {
            incomingZero = path[k].zero
            incomingOne = path[k].one
            Self.unwind(path, depth, k)
            depth -= 1
        }
        recurse(hot, row: row, phi: phi, parentPath: path, reciprocals: reciprocals, uniqueDepth: depth + 1,
                zero: hotFraction * incomingZero, one: incomingOne, feature: node.feature)
        recurse(cold, row: row, phi: phi, parentPath: path, reciprocals: reciprocals, uniqueDepth: depth + 1,
                zero: coldFraction * incomingZero, one: 0, feature: node.feature)
    }

    // In path-dependent TreeSHAP a path element's `one` fraction is always 0 (the branch the row did not take) or 1
    // (the one it took: the root's is 1, a hot child inherits its feature's, a cold child gets 0), so the divisions
    // by it in Algorithm 2 are skipped, and the divisions by `depth + 1` and `depth − i` become multiplications by
    // reciprocals. This is where explanations spend their time (the leaves' O(depth²) loops).

    private static func extend(_ path: UnsafeMutablePointer<PathElement>, _ depth: Int, zero: Double, one: Double, feature: Int32) {
        path[depth] = PathElement(feature: feature, zero: zero, one: one, weight: depth == 0 ? 1 : 0)
        let inverse = 1 / Double(depth + 1)
        var i = depth - 1
        if one != 0 {
            while i >= 0 {
                let w = path[i].weight * inverse
                path[i + 1].weight += w * Double(i + 1)
                path[i].weight = zero * w * Double(depth - i)
                i -= 1
            }
        } else {
            while i >= 0 {
                path[i].weight = zero * path[i].weight * inverse * Double(depth - i)
                i -= 1
            }
        }
    }

    private static func unwind(_ path: UnsafeMutablePointer<PathElement>, _ depth: Int, _ index: Int) {
        let one = path[index].one
        let zero = path[index].zero
        let n = Double(depth + 1)
        let inverse = 1 / n
        var next = path[depth].weight
        var i = depth - 1
        if one != 0 {
            while i >= 0 {
                let t = path[i].weight
                path[i].weight = next * n / Double(i + 1)
                next = t - path[i].weight * zero * Double(depth - i) * inverse
                i -= 1
            }
        } else {
            let scale = n / zero
            while i >= 0 {
                path[i].weight = path[i].weight * scale / Double(depth - i)
                i -= 1
            }
        }
        for j in index..<depth {
            path[j].feature = path[j + 1].feature
            path[j].zero = path[j + 1].zero
            path[j].one = path[j + 1].one
        }
    }

    /// Σ of the weights `unwind(path, depth, index)` would leave, without changing the path.
    @inline(__always)
    private static func unwoundSum(
        _ path: UnsafeMutablePointer<PathElement>, _ depth: Int, _ index: Int, reciprocals: UnsafePointer<Double>
    ) -> Double {
        let one = path[index].one
        let zero = path[index].zero
        let n = Double(depth + 1)
        var total = 0.0
        var i = depth - 1
        if one != 0 {
            let zeroOverN = zero / n
            var next = path[depth].weight
            while i >= 0 {
                let t = next * n * reciprocals[i + 1]
                total += t
                next = path[i].weight - t * zeroOverN * Double(depth - i)
                i -= 1
            }
        } else if zero != 0 {
            let scale = n / zero
            while i >= 0 {
                total += path[i].weight * scale * reciprocals[depth - i]
                i -= 1
            }
        }
        return total
    }
}
