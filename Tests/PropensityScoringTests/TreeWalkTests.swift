import PropensityData
import PropensityModel
import Testing

@testable import PropensityScoring

/// The vector walk against the scalar walk, the reference: the same leaves, added in the same order.
@Suite struct TreeWalkTests {
    /// Writes the margin itself (as float32), which keeps more of its bits than the sigmoid.
    struct MarginLink: ScoreLink {
        func probability(_ margin: Double) -> Double { margin }
    }

    /// Trees of depth 0…`maxDepth`, dense enough (few early leaves) for the vector layout's padding budget.
    static func ensemble(trees: Int, features: Int, maxDepth: Int, seed: UInt64) -> TreeEnsembleModel {
        var rng = SplitMix64(seed: seed)
        var list = (0..<trees).map { _ in
            ScorerTests.randomTree(&rng, features: features, depth: rng.nextInt(below: maxDepth + 1), earlyLeaf: 0.05)
        }
        list.append(DecisionTree(nodes: [], leafValues: [0.5], categoryWords: []))  // a single leaf: depth 0
        return TreeEnsembleModel(
            schema: FeatureSchema(features: (0..<features).map { .numeric("f\($0)") }), baseScore: -0.3, trees: list,
            importance: Array(repeating: FeatureImportance(gain: 0, splits: 0), count: features))
    }

    /// Rows with missing values, ±0, ±∞, and values on, just above and just below the forest's thresholds (where a
    /// mirrored default-left test must still send them the same way).
    static func rows(_ count: Int, ensemble: TreeEnsembleModel, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        let thresholds = ensemble.trees.flatMap { $0.nodes.map(\.threshold) }
        let special: [Float] = [.nan, 0, -0.0, .infinity, -.infinity]
        return (0..<(count * ensemble.schema.count)).map { _ in
            let u = rng.nextUnit()
            if u < 0.15 { return special[rng.nextInt(below: special.count)] }
            if u < 0.6 {
                let t = thresholds[rng.nextInt(below: thresholds.count)]
                return [t, t.nextUp, t.nextDown][rng.nextInt(below: 3)]
            }
            return Float(rng.nextGaussian())
        }
    }

    static func margins(_ forest: FlatForest, _ input: [Float], width: Int) -> [UInt32] {
        let count = input.count / width
        var out = [Float](repeating: 0, count: count)
        input.withUnsafeBytes { raw in
            out.withUnsafeMutableBytes {
                forest.score(rows: raw, rowCount: count, width: width, into: $0, link: MarginLink())
            }
        }
        return out.map(\.bitPattern)
    }

    @Test(arguments: TreeWalk.available)
    func everyWalkScoresTheScalarWalksBits(_ walk: TreeWalk) throws {
        for (seed, maxDepth) in [(UInt64(1), 6), (2, 3), (3, LevelLayout.maxDepth)] {
            let ensemble = Self.ensemble(trees: 45, features: 6, maxDepth: maxDepth, seed: seed)
            let reference = try #require(FlatForest(ensemble, walk: .scalar))
            let forest = try #require(FlatForest(ensemble, walk: walk))
            #expect(forest.walk == walk)
            let input = Self.rows(1000, ensemble: ensemble, seed: seed + 100)
            // Every block shape: the vector walks take whole groups of 8 rows of blocks of 16 or more (the 16-row walk
            // whole blocks of 64, with the 8-row walk for the rest).
            for count in [8, 16, 17, 24, 63, 64, 72, 1000] {
                let part = Array(input[0..<(count * 6)])
                let got = Self.margins(forest, part, width: 6), want = Self.margins(reference, part, width: 6)
                let differing = got.indices.filter { got[$0] != want[$0] }
                #expect(differing.isEmpty,
                        "\(walk), depth up to \(maxDepth), \(count) rows: \(differing.count) differ, first \(differing.prefix(5))")
            }
        }
    }

    /// An all-numeric ensemble over 12 features (enough for `ExplainerTests.chain` of up to 12 splits).
    static func numeric(_ trees: [DecisionTree]) -> TreeEnsembleModel {
        TreeEnsembleModel(
            schema: FeatureSchema(features: (0..<12).map { .numeric("f\($0)") }), baseScore: 0, trees: trees,
            importance: Array(repeating: FeatureImportance(gain: 0, splits: 0), count: 12))
    }

    /// A complete tree of `depth` levels.
    static func complete(depth: Int, _ rng: inout SplitMix64) -> DecisionTree {
        ScorerTests.randomTree(&rng, features: 2, depth: depth, earlyLeaf: 0)
    }

    @Test func forestsTheVectorLayoutCannotTakeKeepTheScalarWalk() throws {
        guard TreeWalk.available.contains(.avx2) else { return }
        var rng = SplitMix64(seed: 7)
        let deepest = Self.numeric([Self.complete(depth: LevelLayout.maxDepth, &rng)])
        #expect(try #require(FlatForest(deepest, walk: .avx2)).walk == .avx2)
        let tooDeep = Self.numeric([Self.complete(depth: LevelLayout.maxDepth + 1, &rng)])
        #expect(try #require(FlatForest(tooDeep, walk: .avx2)).walk == .scalar)
        // A chain of 10 splits (21 slots) would pad to 2,047: beyond the budget. Of 3 (7 slots, padded to 15), within.
        #expect(try #require(FlatForest(Self.numeric([ExplainerTests.chain(10)]), walk: .avx2)).walk == .scalar)
        #expect(try #require(FlatForest(Self.numeric([ExplainerTests.chain(3)]), walk: .avx2)).walk == .avx2)

        let schema = FeatureSchema(features: [.numeric("x"), .categorical("c", ["a", "b"])])
        let categorical = TreeEnsembleModel(
            schema: schema, baseScore: 0,
            trees: [ScorerTests.randomTree(&rng, features: 2, depth: 3, categorical: [1])],
            importance: Array(repeating: FeatureImportance(gain: 0, splits: 0), count: 2))
        #expect(try #require(FlatForest(categorical, walk: .scalar)).categories.isEmpty == false)
        let scorer = Scorer(
            model: Model(body: .treeEnsemble(categorical), metadata: ModelMetadata()), treeWalk: .avx2)
        #expect(scorer.treeWalk == .scalar)
    }
}
