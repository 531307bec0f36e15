import PropensityData
import PropensityModel
import Testing

@testable import PropensityScoring

/// The single-row walk over bins against `FlatForest`'s walk over values, the reference: the same margin, bit for bit.
@Suite struct BinnedForestTests {
    /// Thresholds where binning could go wrong: both zeros (one threshold), the largest finite values (a mirrored
    /// default-left test then compares with −∞), subnormals, and values shared between trees.
    static let specialThresholds: [Float] = [
        0, -0.0, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude,
        -.leastNonzeroMagnitude, .leastNormalMagnitude, 1, -1, 0.5,
    ]

    /// `TreeWalkTests.ensemble`'s trees with a third of their thresholds replaced by special ones.
    static func ensemble(trees: Int, features: Int, maxDepth: Int, seed: UInt64) -> TreeEnsembleModel {
        let plain = TreeWalkTests.ensemble(trees: trees, features: features, maxDepth: maxDepth, seed: seed)
        var rng = SplitMix64(seed: seed &+ 17)
        let list = plain.trees.map { tree in
            var tree = tree
            for n in tree.nodes.indices where rng.nextUnit() < 0.33 {
                tree.nodes[n].threshold = specialThresholds[rng.nextInt(below: specialThresholds.count)]
            }
            return tree
        }
        return TreeEnsembleModel(
            schema: plain.schema, baseScore: plain.baseScore, trees: list, importance: plain.importance)
    }

    /// Each row's margin from both walks, as bit patterns.
    static func margins(_ forest: FlatForest, binned: BinnedForest, _ input: [Float], width: Int) -> (got: [UInt64], want: [UInt64]) {
        var got: [UInt64] = [], want: [UInt64] = []
        var v = [Float](repeating: 0, count: forest.stride)
        forest.nodes.withUnsafeBufferPointer { nodes in
            forest.values.withUnsafeBufferPointer { values in
                forest.words.withUnsafeBufferPointer { words in
                    let tables = FlatForest.Tables(
                        nodes: nodes.baseAddress!, values: values.baseAddress!, words: words.baseAddress!)
                    for r in 0..<(input.count / width) {
                        for j in 0..<width {
                            v[j] = input[r * width + j]
                            v[width + j] = -input[r * width + j]
                        }
                        v.withUnsafeBufferPointer { v in
                            got.append(binned.margin(v.baseAddress!, base: forest.baseScore).bitPattern)
                            want.append(forest.margin(v.baseAddress!, tables: tables, step: NumericStep.self).bitPattern)
                        }
                    }
                }
            }
        }
        return (got, want)
    }

    /// Every tree's margin through both walks, for rows near the thresholds of `near` and at the special ones; with
    /// each walk the CPU has (the vector ones bin rows by compares with their instructions instead of binary searches,
    /// unless a slot has more thresholds than the compares take, `wide` false).
    static func expectSameBits(
        _ ensemble: TreeEnsembleModel, near: TreeEnsembleModel, seed: UInt64, _ label: String, wide: Bool = true
    ) throws {
        let width = ensemble.schema.count
        for walk in TreeWalk.available {
            let forest = try #require(FlatForest(ensemble, walk: walk))
            guard let binned = forest.binned else {
                Issue.record("\(label): no binned layout")
                return
            }
            #expect(binned.binning == (wide ? BinnedForest.Binning(walk) : .search), "\(label), \(walk)")
            let input = TreeWalkTests.rows(500, ensemble: near, seed: seed + 100)
                + specialThresholds.flatMap { t in [t, t.nextUp, t.nextDown].flatMap { Array(repeating: $0, count: width) } }
            let (got, want) = margins(forest, binned: binned, input, width: width)
            let differing = got.indices.filter { got[$0] != want[$0] }
            #expect(differing.isEmpty, "\(label), \(walk): \(differing.count) rows differ, first \(differing.prefix(5))")
        }
    }

    // 46 trees: five full groups of 8 and a last group of 6; 16: full groups only; 5: the last group only.
    @Test(arguments: [(46, 6), (46, 3), (16, 6), (5, 4)])
    func singleRowsScoreTheFlatWalksBits(trees: Int, maxDepth: Int) throws {
        for seed in [UInt64(1), 2] {
            let ensemble = Self.ensemble(trees: trees - 1, features: 6, maxDepth: maxDepth, seed: seed)
            try Self.expectSameBits(ensemble, near: ensemble, seed: seed, "\(trees) trees, depth up to \(maxDepth)")
        }
    }

    /// Trees of the deepest depth the layout takes (full, so that the group's padding fits the budget), and a forest
    /// with no trees at all.
    @Test func theDeepestTreesAndNoTrees() throws {
        var rng = SplitMix64(seed: 5)
        let deep = TreeWalkTests.numeric((0..<9).map { _ in
            var tree = TreeWalkTests.complete(depth: LevelLayout.maxDepth, &rng)
            for n in tree.nodes.indices where rng.nextUnit() < 0.33 {
                tree.nodes[n].threshold = Self.specialThresholds[rng.nextInt(below: Self.specialThresholds.count)]
            }
            return tree
        })
        // 9 × 1,023 nodes over 6 features: more thresholds per slot than the binning by compares takes.
        try Self.expectSameBits(deep, near: deep, seed: 5, "9 trees of depth \(LevelLayout.maxDepth)", wide: false)
        let none = TreeEnsembleModel(
            schema: deep.schema, baseScore: -0.3, trees: [],
            importance: Array(repeating: FeatureImportance(gain: 0, splits: 0), count: deep.schema.count))
        try Self.expectSameBits(none, near: deep, seed: 6, "no trees", wide: false)
    }

    /// One slot with exactly the thresholds the binning by compares takes (every splitter a real block's last entry,
    /// a value above them all in the block of +∞), and one with a threshold more (binary searches instead).
    @Test(arguments: [BinnedForest.wideMaximum, BinnedForest.wideMaximum + 1])
    func theMostThresholdsTheComparesTake(_ count: Int) throws {
        var rng = SplitMix64(seed: 11)
        let thresholds = (0..<count).map { Float($0) * 0.25 - 30 }
        // A full group of 8 complete depth-6 trees: 504 nodes, every threshold used.
        let trees = (0..<BinnedForest.group).map { t in
            var tree = TreeWalkTests.complete(depth: 6, &rng)
            for n in tree.nodes.indices {
                tree.nodes[n].feature = 0
                tree.nodes[n].defaultLeft = false  // all on one slot (a default-left split reads the mirrored one)
                tree.nodes[n].threshold = thresholds[(t * tree.nodes.count + n) % count]
            }
            return tree
        }
        let ensemble = TreeWalkTests.numeric(trees)
        try Self.expectSameBits(
            ensemble, near: ensemble, seed: 12, "one slot of \(count) thresholds",
            wide: count <= BinnedForest.wideMaximum)
    }

    /// Through `Scorer`: a single row (and every call too small for the batch walks) takes the binned walk, and
    /// scores what the same row scores inside a batch.
    @Test(arguments: TreeWalk.available)
    func aSingleRowScoresWhatItScoresInABatch(_ walk: TreeWalk) throws {
        let ensemble = Self.ensemble(trees: 45, features: 6, maxDepth: 6, seed: 3)
        let forest = try #require(FlatForest(ensemble, walk: walk))
        #expect(forest.binned != nil)
        let input = TreeWalkTests.rows(64, ensemble: ensemble, seed: 4)
        let batch = TreeWalkTests.margins(forest, input, width: 6)
        for r in 0..<64 {
            let one = TreeWalkTests.margins(forest, Array(input[(r * 6)..<(r * 6 + 6)]), width: 6)
            #expect(one == [batch[r]], "row \(r)")
        }
    }

    @Test func forestsTheLayoutCannotTakeKeepTheFlatWalk() throws {
        var rng = SplitMix64(seed: 9)
        let tooDeep = TreeWalkTests.numeric([TreeWalkTests.complete(depth: LevelLayout.maxDepth + 1, &rng)])
        #expect(try #require(FlatForest(tooDeep, walk: .scalar)).binned == nil)
        let schema = FeatureSchema(features: [.numeric("x"), .categorical("c", ["a", "b"])])
        let categorical = TreeEnsembleModel(
            schema: schema, baseScore: 0,
            trees: [ScorerTests.randomTree(&rng, features: 2, depth: 3, categorical: [1])],
            importance: Array(repeating: FeatureImportance(gain: 0, splits: 0), count: 2))
        #expect(try #require(FlatForest(categorical, walk: .scalar)).binned == nil)
    }
}
