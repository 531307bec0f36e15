import PropensityData
import PropensityModel
import Testing

@testable import PropensityScoring

/// Contributions add up to the margin, and TreeSHAP equals the Shapley values computed by brute force: every
/// subset of the features, with the cover-weighted conditional expectation of Algorithm 1 (Lundberg et al. 2018).
@Suite struct ExplainerTests {
    /// A random tree over `schema` with `splits` internal nodes, covers that add up, and some missing directions,
    /// zero-as-missing and categorical splits.
    static func randomTree(_ rng: inout SplitMix64, schema: FeatureSchema, splits: Int) -> DecisionTree {
        var nodes: [DecisionTree.Node] = []
        var words: [UInt32] = []
        var leaves: [Double] = []
        // Grow breadth-first: a queue of open child slots, filled with nodes until `splits`, then leaves.
        func unit() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
        var slots: [(parent: Int, left: Bool)] = [(-1, true)]
        var made = 0
        while !slots.isEmpty {
            let slot = slots.removeFirst()
            let child: Int32
            if made < splits {
                let feature = Int(rng.next() % UInt64(schema.count))
                if let categories = schema.features[feature].kind.categories {
                    let offset = words.count
                    words.append(UInt32(truncatingIfNeeded: rng.next()) & ((1 << UInt32(categories.count)) - 1))
                    nodes.append(.init(
                        feature: Int32(feature), kind: .categorical, defaultLeft: unit() < 0.5, threshold: 0,
                        left: 0, right: 0, categoryOffset: UInt32(offset), categoryCount: 1))
                } else {
                    nodes.append(.init(
                        feature: Int32(feature), kind: .numeric, defaultLeft: unit() < 0.5,
                        threshold: Float(unit() * 4 - 2), left: 0, right: 0, zeroIsMissing: unit() < 0.2))
                }
                child = Int32(nodes.count - 1)
                made += 1
                slots.append((nodes.count - 1, true))
                slots.append((nodes.count - 1, false))
            } else {
                leaves.append(unit() * 2 - 1)
                child = ~Int32(leaves.count - 1)
            }
            if slot.parent >= 0 {
                if slot.left { nodes[slot.parent].left = child } else { nodes[slot.parent].right = child }
            }
        }
        // Leaf covers at random; internal covers the sum of their children's, as a trainer's are.
        let leafCovers = leaves.map { _ in 1 + unit() * 20 }
        var nodeCovers = [Double](repeating: 0, count: nodes.count)
        func cover(_ c: Int32) -> Double {
            if c < 0 { return leafCovers[Int(~c)] }
            nodeCovers[Int(c)] = cover(nodes[Int(c)].left) + cover(nodes[Int(c)].right)
            return nodeCovers[Int(c)]
        }
        if !nodes.isEmpty { _ = cover(0) }
        return DecisionTree(nodes: nodes, leafValues: leaves, categoryWords: words, covers: nodeCovers + leafCovers)
    }

    /// E[f(x) | the features in `known` are x's], by covers (Algorithm 1).
    static func conditional(_ tree: DecisionTree, _ x: [Float], known: Set<Int>, at index: Int32 = 0) -> Double {
        if tree.nodes.isEmpty { return tree.leafValues[0] }
        guard index >= 0 else { return tree.leafValues[Int(~index)] }
        let node = tree.nodes[Int(index)]
        if known.contains(Int(node.feature)) {
            return conditional(tree, x, known: known, at: tree.goesLeft(node, x[Int(node.feature)]) ? node.left : node.right)
        }
        func cover(_ c: Int32) -> Double { c >= 0 ? tree.covers[Int(c)] : tree.covers[tree.nodes.count + Int(~c)] }
        let (l, r) = (cover(node.left), cover(node.right))
        return (l * conditional(tree, x, known: known, at: node.left) + r * conditional(tree, x, known: known, at: node.right))
            / (l + r)
    }

    static func bruteForceShapley(_ trees: [DecisionTree], _ x: [Float], features m: Int) -> [Double] {
        func value(_ s: Set<Int>) -> Double { trees.reduce(0) { $0 + conditional($1, x, known: s) } }
        func factorial(_ n: Int) -> Double { n <= 1 ? 1 : Double(n) * factorial(n - 1) }
        var phi = [Double](repeating: 0, count: m)
        for i in 0..<m {
            let others = (0..<m).filter { $0 != i }
            for mask in 0..<(1 << others.count) {
                let s = Set(others.indices.filter { mask & (1 << $0) != 0 }.map { others[$0] })
                let weight = factorial(s.count) * factorial(m - s.count - 1) / factorial(m)
                phi[i] += weight * (value(s.union([i])) - value(s))
            }
        }
        return phi
    }

    static let schema = FeatureSchema(features: [
        .numeric("a"), .numeric("b"), .categorical("c", ["x", "y", "z", "w"]), .numeric("d"), .numeric("e"),
    ])

    @Test func treeSHAPEqualsBruteForceShapleyValues() throws {
        var rng = SplitMix64(seed: 11)
        for round in 0..<30 {
            let trees = (0..<3).map { t in Self.randomTree(&rng, schema: Self.schema, splits: [0, 3, 7, 12][(round + t) % 4]) }
            let model = Model(
                body: .treeEnsemble(TreeEnsembleModel(
                    schema: Self.schema, baseScore: 0.3, trees: trees,
                    importance: Array(repeating: FeatureImportance(gain: 0, splits: 0), count: Self.schema.count))),
                metadata: ModelMetadata())
            let explainer = try Explainer(model: model)
            for _ in 0..<5 {
                var x: [Float] = (0..<5).map { _ in Float(Int(rng.next() % 9)) / 2 - 2 }
                x[2] = [0, 1, 2, 3, 7, .nan][Int(rng.next() % 6)]  // known, unseen or missing category
                if rng.next() % 3 == 0 { x[Int(rng.next() % 2)] = .nan }
                if rng.next() % 4 == 0 { x[3] = 0 }  // zero-as-missing
                let c = explainer.explain(x)
                let expected = Self.bruteForceShapley(trees, x, features: 5)
                for j in 0..<5 { #expect(abs(c.values[j] - expected[j]) < 1e-9, "round \(round), feature \(j)") }
                guard case .treeEnsemble(let ensemble) = model.body else { return }
                #expect(abs(c.margin - ensemble.margin(x)) < 1e-9)
                #expect(abs(c.bias - (0.3 + trees.reduce(0) { $0 + Self.conditional($1, x, known: []) })) < 1e-12)
            }
        }
    }

    @Test func logisticContributionsAreTheMarginsTerms() throws {
        let schema = FeatureSchema(features: [.numeric("age"), .categorical("device", ["m", "d"]), .numeric("v")])
        let lr = LogisticRegressionModel(
            schema: schema, intercept: -2,
            terms: [
                .numeric(.init(center: 40, scale: 10, imputedValue: 40, weight: 0.5, missingWeight: 0.3)),
                .categorical(categoryWeights: [0.2, -0.4]),
                .numeric(.init(center: 2, scale: 1, imputedValue: 2, weight: 0.8, missingWeight: nil)),
            ])
        let explainer = try Explainer(model: Model(body: .logisticRegression(lr), metadata: ModelMetadata()))
        let rows: [Float] = [50, 1, 3, .nan, 0, 2, 40, 5, .nan]
        let all = explainer.explain(rows: rows)
        #expect(all[0] == Contributions(bias: -2, values: [0.5, -0.4, 0.8]))
        #expect(all[1].values[0] == 0.3 && all[1].values[1] == 0.2 && all[1].values[2] == 0)  // missing, at the mean
        #expect(all[2].values[1] == 0)  // an unseen category adds nothing
        for (r, c) in all.enumerated() {
            let p = lr.probability(rows[(r * 3)..<(r * 3 + 3)])
            #expect(abs(c.margin - log(p / (1 - p))) < 1e-9)
        }
        #expect(all[0].top(2).map(\.feature) == [2, 0])
    }

    /// Quadrature (over 4 and 8 points) and Algorithm 2 agree on larger random trees (repeated features on a path, an
    /// empty leaf), and on a chain of 14 distinct features (too many for 4 points); 18 are too many for 8.
    @Test func quadratureAgreesWithAlgorithmTwo() {
        var rng = SplitMix64(seed: 12)
        let wide = FeatureSchema(features: (0..<16).map { .numeric("f\($0)") } + [.categorical("c", ["x", "y", "z", "w"])])
        for round in 0..<40 {
            var tree = Self.randomTree(&rng, schema: round % 2 == 0 ? Self.schema : wide, splits: [5, 20, 40, 63][round % 4])
            if round % 5 == 0 { tree.covers[tree.nodes.count] = 0 }  // an empty leaf
            let width = round % 2 == 0 ? Self.schema.count : wide.count
            for _ in 0..<10 {
                var x: [Float] = (0..<width).map { _ in rng.next() % 7 == 0 ? .nan : Float(Int(rng.next() % 9)) / 2 - 2 }
                x[2] = [0, 1, 2, 3, 7, .nan][Int(rng.next() % 6)]
                let reference = Self.algorithmTwo(tree, x)
                guard let four = Self.quadrature(SIMD4<Double>.self, tree, x), let eight = Self.quadrature(SIMD8<Double>.self, tree, x)
                else { Issue.record("round \(round): no quadrature for a tree of \(tree.nodes.count) nodes"); break }
                for j in 0..<width {
                    #expect(abs(reference[j] - four[j]) <= 1e-12 * max(1, abs(reference[j])), "round \(round), feature \(j)")
                    #expect(abs(reference[j] - eight[j]) <= 1e-12 * max(1, abs(reference[j])), "round \(round), feature \(j)")
                }
            }
        }
        let x: [Float] = (0..<18).map { $0 % 3 == 0 ? 1 : -1 }
        let fourteen = Self.chain(14)
        #expect(Self.quadrature(SIMD4<Double>.self, fourteen, x) == nil)
        let reference = Self.algorithmTwo(fourteen, x)
        let eight = Self.quadrature(SIMD8<Double>.self, fourteen, x) ?? []
        #expect(eight.count == 18 && (0..<18).allSatisfy { abs(eight[$0] - reference[$0]) <= 1e-12 * max(1, abs(reference[$0])) })
        #expect(Self.quadrature(SIMD8<Double>.self, Self.chain(18), x) == nil)
    }

    /// One ensemble whose trees take every method (4 points, 8 points, Algorithm 2), interleaved, several with
    /// categorical splits: the explainer's shared tables (each tree's records and bitsets found from its index) give
    /// each tree's contributions as Algorithm 2 does on the tree alone.
    @Test func ensemblesMixingMethodsExplainEachTreeAsAlone() throws {
        var rng = SplitMix64(seed: 13)
        let schema = FeatureSchema(features: (0..<18).map { .numeric("f\($0)") } + [.categorical("c", ["x", "y", "z", "w"])])
        var trees: [DecisionTree] = []
        for k in 0..<12 {
            switch k % 4 {
            case 1: trees.append(Self.chain(14))
            case 3: trees.append(Self.chain(18))
            default: trees.append(Self.randomTree(&rng, schema: schema, splits: [7, 40][k % 3 == 0 ? 0 : 1]))
            }
        }
        let model = Model(
            body: .treeEnsemble(TreeEnsembleModel(
                schema: schema, baseScore: -0.2, trees: trees,
                importance: Array(repeating: FeatureImportance(gain: 0, splits: 0), count: schema.count))),
            metadata: ModelMetadata())
        let explainer = try Explainer(model: model)
        var rows: [[Float]] = []
        for _ in 0..<40 {
            var x: [Float] = (0..<schema.count).map { _ in rng.next() % 7 == 0 ? .nan : Float(Int(rng.next() % 9)) / 2 - 2 }
            x[18] = [0, 1, 2, 3, 7, .nan][Int(rng.next() % 6)]
            rows.append(x)
        }
        // Rows one at a time and all together (blocks of rows share the tables tree by tree).
        let together = explainer.explain(rows: rows.flatMap { $0 })
        for kernel in ExplainKernel.available {
            let other = try Explainer(model: model, kernel: kernel).explain(rows: rows.flatMap { $0 })
            #expect(zip(other, together).allSatisfy { $0.values.map(\.bitPattern) == $1.values.map(\.bitPattern) },
                    "\(kernel) kernel")
        }
        for (r, x) in rows.enumerated() {
            let reference = trees.map { Self.algorithmTwo($0, x) }.reduce([Double](repeating: 0, count: x.count)) {
                zip($0, $1).map(+)
            }
            for c in [explainer.explain(x), together[r]] {
                for j in 0..<x.count {
                    #expect(abs(c.values[j] - reference[j]) <= 1e-11 * max(1, abs(reference[j])), "row \(r), feature \(j)")
                }
            }
        }
    }

    /// A chain of `length` nodes on features 0, 1, …: each sends values ≤ 0 on down and the rest to a leaf, so one
    /// path holds every feature.
    static func chain(_ length: Int) -> DecisionTree {
        let nodes = (0..<length).map { i in
            DecisionTree.Node(
                feature: Int32(i), kind: .numeric, defaultLeft: true, threshold: 0,
                left: i == length - 1 ? ~Int32(length) : Int32(i + 1), right: ~Int32(i))
        }
        return DecisionTree(
            nodes: nodes, leafValues: (0...length).map(Double.init), categoryWords: [],
            covers: (0..<length).map { Double(40 - $0) } + [Double](repeating: 1, count: length + 1))
    }

    static func algorithmTwo(_ tree: DecisionTree, _ x: [Float]) -> [Double] {
        let paths = TreeSHAP(tree)
        var path = [TreeSHAP.PathElement](repeating: .init(), count: paths.pathCapacity)
        let reciprocals = (0...paths.pathCapacity).map { $0 == 0 ? 0 : 1 / Double($0) }
        var phi = [Double](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { row in
            phi.withUnsafeMutableBufferPointer { phi in
                path.withUnsafeMutableBufferPointer { p in
                    reciprocals.withUnsafeBufferPointer { r in paths.add(row: row, phi: phi, path: p.baseAddress!, reciprocals: r.baseAddress!) }
                }
            }
        }
        return phi
    }

    static func quadrature<Lanes: SIMD & Sendable>(_: Lanes.Type, _ tree: DecisionTree, _ x: [Float]) -> [Double]?
    where Lanes.Scalar == Double {
        guard let method = QuadratureTreeSHAP<Lanes>([TreeSHAP(tree)]) else { return nil }
        let workspace = QuadratureTreeSHAP<Lanes>.Workspace(maxNodes: tree.nodes.count)
        defer { workspace.deallocate() }
        let phis = ExplainKernel.available.map { kernel in
            var phi = [Double](repeating: 0, count: x.count)
            x.withUnsafeBufferPointer { row in
                phi.withUnsafeMutableBufferPointer {
                    method.add(tree: 0, row: row, phi: $0, workspace: workspace, kernel: kernel, prefetch: true)
                }
            }
            return phi
        }
        // Every kernel the CPU has gives the baseline's bits.
        for (kernel, phi) in zip(ExplainKernel.available, phis) {
            #expect(phi.map(\.bitPattern) == phis[0].map(\.bitPattern), "\(kernel) kernel")
        }
        return phis[0]
    }

    @Test func treesWithoutCoversCannotExplain() {
        let tree = DecisionTree(
            nodes: [.init(feature: 0, kind: .numeric, defaultLeft: true, threshold: 0, left: ~0, right: ~1)],
            leafValues: [1, 2], categoryWords: [])
        let model = Model(
            body: .treeEnsemble(TreeEnsembleModel(
                schema: FeatureSchema(features: [.numeric("a")]), baseScore: 0, trees: [tree],
                importance: [FeatureImportance(gain: 0, splits: 0)])),
            metadata: ModelMetadata())
        #expect(throws: ExplainError.noCovers) { try Explainer(model: model) }
    }
}

#if canImport(Glibc)
import Glibc
#endif
