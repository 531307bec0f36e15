import Foundation
import PropensityModel
import PropensityModelFile
import PropensityScoring
import Testing

@testable import PropensityImport

/// Imported XGBoost and LightGBM models score exactly as the libraries do (fixtures from
/// Tests/Fixtures/make_import_fixtures.py: models, held-out rows, the libraries' own predictions).
@Suite struct ImportParityTests {
    struct Manifest: Decodable {
        struct Case: Decodable {
            var name: String
            var kind: String
            var model: String
            var rows: String
            var expected: String
            var features: [String]
            /// The library's own per-feature contributions (then the bias) on the same rows.
            var contributions: String?
        }
        struct Refused: Decodable {
            var model: String
            var kind: String
            var message: String
        }
        var cases: [Case]
        var refused: [Refused]
    }

    static func fixture(_ name: String) -> String {
        Bundle.module.path(forResource: name, ofType: nil, inDirectory: "Fixtures")!
    }

    static let manifest: Manifest = {
        try! JSONDecoder().decode(Manifest.self, from: FileManager.default.contents(atPath: fixture("manifest.json"))!)
    }()

    static func load(_ kind: String, _ file: String) throws(ImportError) -> Model {
        try ImportFormat(rawValue: kind)!.load(from: fixture(file))
    }

    @Test(arguments: manifest.cases.map(\.name))
    func probabilitiesMatchTheLibrary(name: String) throws {
        let c = Self.manifest.cases.first { $0.name == name }!
        let model = try Self.load(c.kind, c.model)
        #expect(model.schema.names == c.features)
        // Through the model file too: an imported model is served like a native one.
        let reloaded = try ModelFile.decode(ModelFile.encode(model), source: c.model)
        #expect(reloaded == model)
        let rows = try String(contentsOfFile: Self.fixture(c.rows), encoding: .utf8).split(separator: "\n")
        let expected = try String(contentsOfFile: Self.fixture(c.expected), encoding: .utf8)
            .split(separator: "\n").compactMap { Double($0) }
        #expect(rows.count == expected.count)
        var features: [Float] = []
        for row in rows {
            features += row.split(separator: ",", omittingEmptySubsequences: false).map { Float($0) ?? .nan }
        }
        let scores = Scorer(model: reloaded).score(features)
        var worst = 0.0
        for (k, p) in expected.enumerated() {
            worst = max(worst, abs(Double(scores[k]) - p))
            let reference = model.probability(Array(features[(k * c.features.count)..<((k + 1) * c.features.count)]))
            worst = max(worst, abs(reference - p))
        }
        #expect(worst <= 1e-6, "\(name): largest difference \(worst)")
    }

    /// TreeSHAP on the imported model (through the model file, covers included) equals XGBoost's
    /// `pred_contribs=True` / LightGBM's `pred_contrib=True` (fixtures from Tests/Fixtures/make_contribution_fixtures.py).
    @Test(arguments: manifest.cases.map(\.name))
    func contributionsMatchTheLibrary(name: String) throws {
        let c = Self.manifest.cases.first { $0.name == name }!
        let file = try #require(c.contributions)
        let model = try ModelFile.decode(ModelFile.encode(try Self.load(c.kind, c.model)), source: c.model)
        let explainer = try Explainer(model: model)
        let rows = try String(contentsOfFile: Self.fixture(c.rows), encoding: .utf8).split(separator: "\n")
        let expected = try String(contentsOfFile: Self.fixture(file), encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: " ").compactMap { Double($0) } }
        #expect(rows.count == expected.count)
        var worst = 0.0
        for (row, reference) in zip(rows, expected) {
            let x = row.split(separator: ",", omittingEmptySubsequences: false).map { Float($0) ?? .nan }
            let ours = explainer.explain(x)
            #expect(reference.count == x.count + 1)
            for j in 0..<x.count { worst = max(worst, abs(ours.values[j] - reference[j])) }
            worst = max(worst, abs(ours.bias - reference[x.count]))
        }
        #expect(worst <= 1e-5, "\(name): largest difference \(worst)")
    }

    @Test(arguments: manifest.refused.map(\.model))
    func unsupportedModelsAreRefused(file: String) {
        let r = Self.manifest.refused.first { $0.model == file }!
        do {
            _ = try Self.load(r.kind, r.model)
            Issue.record("\(file) was imported")
        } catch {
            guard case .unsupported(let what) = error.reason else {
                Issue.record("refused for another reason: \(error)")
                return
            }
            #expect(what.contains(r.message), "\(error)")
        }
    }

    @Test func notAModel() {
        func reason(_ body: () throws(ImportError) -> Model) -> ImportError.Reason? {
            do { _ = try body() } catch { return error.reason }
            return nil
        }
        func isWrongFormat(_ r: ImportError.Reason?) -> Bool { if case .wrongFormat = r { true } else { false } }
        #expect(isWrongFormat(reason { () throws(ImportError) in try XGBoostJSONImporter.decode(Data("{}".utf8), source: "x.json") }))
        #expect(isWrongFormat(reason { () throws(ImportError) in try XGBoostJSONImporter.decode(Data("not json".utf8), source: "x.json") }))
        #expect(isWrongFormat(reason { () throws(ImportError) in try LightGBMTextImporter.decode("hello", source: "x.txt") }))
        #expect(reason { () throws(ImportError) in
            try LightGBMTextImporter.decode("tree\nobjective=binary sigmoid:1\n", source: "x.txt")
        } == .malformed("feature_names is missing"))
        #expect(reason { () throws(ImportError) in try ImportFormat.lightgbm.load(from: "/nonexistent.txt") } == .notFound)
    }
}
