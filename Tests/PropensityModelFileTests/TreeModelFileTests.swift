import PropensityModel
import Testing

@testable import PropensityModelFile

@Suite struct TreeModelFileTests {
    static let schema = FeatureSchema(features: [.numeric("x"), .categorical("c", ["a", "b", "c"])])

    static func model(_ trees: [DecisionTree]) -> Model {
        Model(
            body: .treeEnsemble(TreeEnsembleModel(
                schema: schema, baseScore: -1.5, trees: trees,
                importance: [FeatureImportance(gain: 3.5, splits: 2), FeatureImportance(gain: 1, splits: 1)])),
            metadata: ModelMetadata(properties: [("created", "t")]))
    }

    /// x ≤ 0.5 (missing left) → [c ∈ {a, c} → leaf 0 | leaf 2], else leaf 1.
    static let tree = DecisionTree(
        nodes: [
            .init(feature: 0, kind: .numeric, defaultLeft: true, threshold: 0.5, left: 1, right: -2),
            .init(feature: 1, kind: .categorical, defaultLeft: false, threshold: 0, left: -1, right: -3,
                  categoryOffset: 0, categoryCount: 1),
        ],
        leafValues: [0.25, -0.5, 0.125], categoryWords: [0b101])

    @Test func roundTripAndEvaluation() throws {
        let m = Self.model([Self.tree, DecisionTree(nodes: [], leafValues: [0.01], categoryWords: [])])
        let decoded = try ModelFile.decode(ModelFile.encode(m), source: "t.model")
        #expect(decoded == m)
        guard case .treeEnsemble(let e) = decoded.body else { Issue.record("kind"); return }
        #expect(e.margin([0.2, 0]) == -1.5 + 0.25 + 0.01)
        #expect(e.margin([0.2, 1]) == -1.5 + 0.125 + 0.01)
        #expect(e.margin([.nan, 2]) == -1.5 + 0.25 + 0.01)  // missing x goes left; c is in the set
        #expect(e.margin([0.2, 7]) == -1.5 + 0.125 + 0.01)  // unseen category goes right
        #expect(e.margin([0.2, .nan]) == -1.5 + 0.125 + 0.01)
        #expect(e.margin([0.9, 0]) == -1.5 - 0.5 + 0.01)
    }

    func expectRefused(_ tree: DecisionTree, containing text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try ModelFile.decode(ModelFile.encode(Self.model([tree])), source: "t.model")
            Issue.record("accepted a broken tree", sourceLocation: sourceLocation)
        } catch {
            guard case .malformedSection("ENSM", let detail) = error.reason else {
                Issue.record("refused for another reason: \(error.reason)", sourceLocation: sourceLocation)
                return
            }
            #expect(detail.contains(text), "\(detail)", sourceLocation: sourceLocation)
        }
    }

    @Test func brokenTreesAreRefused() {
        var cycle = Self.tree
        cycle.nodes[1].left = 0
        expectRefused(cycle, containing: "invalid child")
        var twice = Self.tree
        twice.nodes[1].right = -1
        expectRefused(twice, containing: "invalid leaf")
        var leaves = Self.tree
        leaves.leafValues.append(1)
        expectRefused(leaves, containing: "need 3 leaves")
        var wrongKind = Self.tree
        wrongKind.nodes[1].kind = .numeric
        wrongKind.nodes[1].categoryCount = 0  // a numeric split carries no category set
        expectRefused(wrongKind, containing: "numeric split on categorical")
        var noFeature = Self.tree
        noFeature.nodes[0].feature = 5
        expectRefused(noFeature, containing: "splits on feature 5")
        var words = Self.tree
        words.nodes[1].categoryOffset = 3
        expectRefused(words, containing: "category set outside")
        var nan = Self.tree
        nan.nodes[0].threshold = .nan
        expectRefused(nan, containing: "NaN threshold")
        var infinite = Self.tree
        infinite.leafValues[0] = .infinity
        expectRefused(infinite, containing: "not a finite number")
    }

    @Test func everyTruncationAndFlipOfATreeFileIsRefused() {
        let bytes = ModelFile.encode(Self.model([Self.tree]))
        for length in stride(from: 0, to: bytes.count, by: 7) {
            #expect(throws: ModelFileError.self) { try ModelFile.decode(Array(bytes[0..<length]), source: "t") }
        }
        for i in stride(from: 0, to: bytes.count, by: 3) {
            var b = bytes
            b[i] ^= 0x10
            #expect(throws: ModelFileError.self) { try ModelFile.decode(b, source: "t") }
        }
    }
}
