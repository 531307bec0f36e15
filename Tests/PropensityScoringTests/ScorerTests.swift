import PropensityData
import PropensityModel
import Testing

@testable import PropensityScoring

/// The compiled plans against the model's own double-precision evaluation, on random trees and inputs.
@Suite struct ScorerTests {
    /// A random tree of up to `depth` levels over `features` features, with both missing directions; below the root each
    /// node is a leaf with probability `earlyLeaf`; the features in `categorical` get categorical splits on random sets
    /// of 32 or 64 categories.
    static func randomTree(
        _ rng: inout SplitMix64, features: Int, depth: Int, categorical: Set<Int> = [], earlyLeaf: Double = 0.25
    ) -> DecisionTree {
        var nodes: [DecisionTree.Node] = []
        var leaves: [Double] = []
        var words: [UInt32] = []
        func build(_ level: Int) -> Int32 {
            if level == depth || (level > 0 && rng.nextUnit() < earlyLeaf) {
                leaves.append(rng.nextGaussian() * 0.1)
                return ~Int32(leaves.count - 1)
            }
            let index = nodes.count
            let feature = rng.nextInt(below: features)
            if categorical.contains(feature) {
                let count = 1 + rng.nextInt(below: 2)
                let offset = words.count
                for _ in 0..<count { words.append(UInt32(truncatingIfNeeded: rng.next())) }
                nodes.append(DecisionTree.Node(
                    feature: Int32(feature), kind: .categorical, defaultLeft: rng.nextUnit() < 0.5, threshold: 0,
                    left: 0, right: 0, categoryOffset: UInt32(offset), categoryCount: UInt32(count)))
            } else {
                let defaultLeft = rng.nextUnit() < 0.5
                nodes.append(DecisionTree.Node(
                    feature: Int32(feature), kind: .numeric, defaultLeft: defaultLeft,
                    threshold: Float(rng.nextGaussian()), left: 0, right: 0))
            }
            let left = build(level + 1)
            let right = build(level + 1)
            nodes[index].left = left
            nodes[index].right = right
            return Int32(index)
        }
        _ = build(0)
        return DecisionTree(nodes: nodes, leafValues: leaves, categoryWords: words)
    }

    static func model(trees: Int, features: Int, seed: UInt64) -> Model {
        var rng = SplitMix64(seed: seed)
        let schema = FeatureSchema(features: (0..<features).map { .numeric("f\($0)") })
        var list = (0..<trees).map { _ in randomTree(&rng, features: features, depth: 1 + rng.nextInt(below: 7)) }
        list.append(DecisionTree(nodes: [], leafValues: [0.5], categoryWords: []))  // a single-leaf tree
        return Model(
            body: .treeEnsemble(TreeEnsembleModel(
                schema: schema, baseScore: -0.3, trees: list,
                importance: Array(repeating: FeatureImportance(gain: 0, splits: 0), count: features))),
            metadata: ModelMetadata())
    }

    static func rows(_ count: Int, features: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<(count * features)).map { _ in
            let u = rng.nextUnit()
            return u < 0.1 ? .nan : (u < 0.15 ? 0 : Float(rng.nextGaussian()))
        }
    }

    @Test func flatForestMatchesTheModelAndIsTheSameWhateverTheBatch() {
        let model = Self.model(trees: 37, features: 5, seed: 3)
        let scorer = Scorer(model: model)
        #expect(scorer.planName == "flat-forest")
        let inputs = Self.rows(200, features: 5, seed: 4)
        let all = scorer.score(inputs)
        for r in 0..<200 {
            let row = Array(inputs[(r * 5)..<((r + 1) * 5)])
            #expect(abs(Double(all[r]) - model.probability(row)) < 1e-6)
            // One row alone takes the single-row path: same bits as in the batch.
            #expect(scorer.score(row)[0].bitPattern == all[r].bitPattern)
        }
        for count in [1, 7, 8, 9, 63, 64, 65, 130] {
            let part = scorer.score(Array(inputs[0..<(count * 5)]))
            #expect(part.map(\.bitPattern) == Array(all[0..<count]).map(\.bitPattern), "batch of \(count)")
        }
    }

    /// Forests mixing numeric and categorical splits compile to the flat forest and score exactly the bits of the
    /// general plan, for every kind of categorical input: listed and unlisted categories, codes beyond a split's
    /// bound or beyond every bound, negative, fractional, −0, ±∞ and missing values; in batches and alone.
    @Test func flatForestScoresCategoricalSplitsExactlyAsTheGeneralPlan() {
        var rng = SplitMix64(seed: 99)
        let features = 5  // 0, 2, 4 numeric; 1 and 3 categorical
        let categorical: Set<Int> = [1, 3]
        let schema = FeatureSchema(features: (0..<features).map {
            categorical.contains($0) ? .categorical("c\($0)", (0..<70).map { "k\($0)" }) : .numeric("x\($0)")
        })
        let trees = (0..<40).map { _ in Self.randomTree(&rng, features: features, depth: 5, categorical: categorical) }
        let ensemble = TreeEnsembleModel(
            schema: schema, baseScore: 0.2, trees: trees,
            importance: Array(repeating: FeatureImportance(gain: 0, splits: 0), count: features))
        let scorer = Scorer(model: Model(body: .treeEnsemble(ensemble), metadata: ModelMetadata()))
        #expect(scorer.planName == "flat-forest")
        let odd: [Float] = [.nan, -1, -0.0, 0.5, 31, 32, 63, 64, 65, 69, 1e9, .infinity, -.infinity, 2.000001]
        let rows = 300
        var input: [Float] = []
        for _ in 0..<rows {
            for j in 0..<features {
                if categorical.contains(j) {
                    input.append(rng.nextUnit() < 0.3 ? odd[rng.nextInt(below: odd.count)] : Float(rng.nextInt(below: 70)))
                } else {
                    input.append(rng.nextUnit() < 0.1 ? .nan : Float(rng.nextGaussian()))
                }
            }
        }
        var general = [Float](repeating: 0, count: rows)
        input.withUnsafeBytes { raw in
            general.withUnsafeMutableBytes { TreePlan(ensemble).score(rows: raw, rowCount: rows, width: features, into: $0, link: SigmoidLink()) }
        }
        #expect(scorer.score(input).map(\.bitPattern) == general.map(\.bitPattern), "batch")
        for r in 0..<rows {
            let alone = scorer.score(Array(input[(r * features)..<((r + 1) * features)]))
            #expect(alone[0].bitPattern == general[r].bitPattern, "row \(r)")
        }
    }

    @Test func generalPlanHandlesCategoriesAndZeroAsMissing() {
        let schema = FeatureSchema(features: [.numeric("x"), .categorical("c", ["a", "b", "c", "d"])])
        let tree = DecisionTree(
            nodes: [
                .init(feature: 0, kind: .numeric, defaultLeft: true, threshold: 0.5, left: 1, right: -3,
                      zeroIsMissing: true),
                .init(feature: 1, kind: .categorical, defaultLeft: true, threshold: 0, left: -1, right: -2,
                      categoryOffset: 0, categoryCount: 1),
            ],
            leafValues: [1, 2, 3], categoryWords: [0b0101])
        let model = Model(
            body: .treeEnsemble(TreeEnsembleModel(
                schema: schema, baseScore: 0, trees: [tree],
                importance: [FeatureImportance(gain: 0, splits: 1), FeatureImportance(gain: 0, splits: 1)])),
            metadata: ModelMetadata())
        let scorer = Scorer(model: model)
        #expect(scorer.planName == "general-trees")
        let cases: [([Float], Double)] = [
            ([0.1, 0], 1), ([0.1, 1], 2), ([0.1, 2], 1), ([0.1, 9], 2), ([0.1, .nan], 1),  // NaN category: default left
            ([0.9, 0], 3), ([0, 1], 2), ([.nan, 0], 1), ([1e-36, 3], 2),  // zero and NaN x: default left
        ]
        for (row, leaf) in cases {
            let expected = Sigmoid.of(leaf)
            #expect(abs(model.probability(row) - expected) < 1e-12, "\(row)")
            #expect(abs(Double(scorer.score(row)[0]) - expected) < 1e-6, "\(row)")
        }
    }
}
