import Foundation
import PropensityMetrics
import PropensityModel
import Testing

@testable import PropensityReport

@Suite struct EvaluationReportTests {
    /// 400 rows: a model that ranks by a noisy latent score and a better one with less noise.
    static func sample(weights: Bool = false) -> EvaluationReport {
        var rng = SystemRandomNumberGenerator.seeded(7)
        var labels: [UInt8] = [], a: [Double] = [], b: [Double] = []
        for _ in 0..<400 {
            let latent = rng.uniform() * 4 - 2
            labels.append(rng.uniform() < 1 / (1 + exp(-(latent - 1))) ? 1 : 0)
            a.append(1 / (1 + exp(-(latent + 2 * (rng.uniform() - 0.5)))))
            b.append(1 / (1 + exp(-(latent + 0.5 * (rng.uniform() - 0.5)))))
        }
        let dataset = DatasetSummary(
            file: "data <&> \"x\".csv", label: "converted", positiveValue: "1", weightColumn: weights ? "w" : nil,
            rows: labels.count, positives: labels.reduce(0) { $0 + Int($1) },
            columns: [ColumnSummary(name: "age", kind: "numeric", missing: 4, rows: labels.count)])
        func description(_ path: String) -> ModelDescription {
            ModelDescription(
                path: path, kind: "tree-ensemble", calibrator: nil, properties: [("label", "converted")],
                recordedMetrics: [("validation_auc", 0.8)], contributionImportance: (400, [("age", 0.5)]),
                gainImportance: [("age", 12.5, 3)])
        }
        return EvaluationReport(
            dataset: dataset, labels: labels, weights: weights ? [Double](repeating: 2, count: labels.count) : nil,
            models: [ScoredModel(description: description("a</script>.model"), scores: a),
                     ScoredModel(description: description("b.model"), scores: b)])
    }

    @Test func oneModelKeepsTheFlatShapeAndSeveralNestUnderModels() throws {
        var report = Self.sample()
        let multi = try #require(try JSONSerialization.jsonObject(with: report.jsonData()) as? [String: Any])
        let models = try #require(multi["models"] as? [[String: Any]])
        #expect(models.count == 2 && multi["auc"] == nil)
        let comparison = try #require((multi["comparisons"] as? [[String: Any]])?.first)
        let delong = try #require(comparison["delong"] as? [String: Any])
        #expect((delong["difference"] as! Double) > 0, "the less noisy model ranks better")
        // The same difference two ways (AUC from ranks, and the mean placement): equal up to rounding.
        #expect(abs(((comparison["differences"] as! [String: Any])["auc"] as! Double) - (delong["difference"] as! Double)) < 1e-12)

        report.models.removeLast()
        report.comparisons = []
        let single = try #require(try JSONSerialization.jsonObject(with: report.jsonData()) as? [String: Any])
        for key in ["auc", "logloss", "brier", "ece", "lift", "calibration", "model", "data", "dataset", "curves", "auc_interval"] {
            #expect(single[key] != nil, "flat key \(key)")
        }
        #expect(single["models"] == nil)
    }

    @Test func weightedRowsGetDifferencesButNoDeLong() throws {
        let report = Self.sample(weights: true)
        #expect(report.comparisons.count == 1 && report.comparisons[0].test == nil)
        #expect(report.comparisonNote?.contains("weighted") == true)
        #expect(report.models[0].aucInterval == nil)
    }

    @Test func nonFiniteNumbersAreNull() throws {
        var report = Self.sample()
        report.models[0].metrics.auc = .nan
        let text = String(decoding: try report.jsonData(), as: UTF8.self)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect((object["models"] as! [[String: Any]])[0]["auc"] is NSNull)
    }

    @Test func pageEmbedsTheJSONAndEscapesText() throws {
        let report = Self.sample()
        let html = try report.html()
        for id in ["chart-roc", "chart-pr", "chart-gain", "chart-lift", "chart-reliability", "chart-reliability-counts",
                   "chart-histogram-0", "chart-histogram-1", "chart-importance-0", "chart-gain-importance-1"] {
            #expect(html.contains("<canvas id=\"\(id)\""), "canvas \(id)")
        }
        // The model path "a</script>.model" must not end a script element early or appear unescaped in the page.
        #expect(html.components(separatedBy: "</script>").count - 1 == 3, "three script elements, no others")
        #expect(html.contains("a&lt;/script&gt;.model"))
        #expect(html.contains("data &lt;&amp;&gt; &quot;x&quot;.csv"))
        let start = try #require(html.range(of: "<script id=\"report-data\" type=\"application/json\">"))
        let end = try #require(html.range(of: "</script>", range: start.upperBound..<html.endIndex))
        let embedded = try JSONSerialization.jsonObject(with: Data(html[start.upperBound..<end.lowerBound].utf8)) as? NSDictionary
        let printed = try JSONSerialization.jsonObject(with: report.jsonData()) as? NSDictionary
        #expect(embedded == printed)
        #expect(!ChartJS.source.contains("</script"), "the vendored library cannot close its element")
    }

    @Test func reportPathInAMissingDirectoryIsRefused() {
        #expect(throws: EvaluationInputError.reportDirectoryMissing(path: "/no/such/dir/r.html", directory: "/no/such/dir")) {
            try EvaluationReport.checkReportPath("/no/such/dir/r.html")
        }
        #expect(throws: Never.self) { try EvaluationReport.checkReportPath(NSTemporaryDirectory() + "/r.html") }
    }

    @Test func modelsThatCannotBeComparedAreRefused() {
        let a = FeatureSchema(features: [.numeric("age"), .categorical("device", ["mobile", "desktop"])])
        let b = FeatureSchema(features: [.numeric("age"), .numeric("device"), .numeric("visits")])
        let difference = SchemaDifference(onlyInFirst: [], onlyInSecond: ["visits"], kindChanged: ["device"])
        #expect(throws: EvaluationInputError.schemasDiffer(champion: "a", challenger: "b", difference: difference)) {
            try EvaluationReport.checkComparable([("a", a, "y"), ("b", b, "y")], labelGiven: false, allowSchemaDifferences: false)
        }
        #expect(throws: Never.self) {
            try EvaluationReport.checkComparable([("a", a, "y"), ("b", b, "y")], labelGiven: false, allowSchemaDifferences: true)
        }
        #expect(throws: EvaluationInputError.labelsDiffer(champion: "a", championLabel: "y", challenger: "c", challengerLabel: "z")) {
            try EvaluationReport.checkComparable([("a", a, "y"), ("c", a, "z")], labelGiven: false, allowSchemaDifferences: false)
        }
        #expect(throws: EvaluationInputError.duplicateModel("a")) {
            try EvaluationReport.checkComparable([("a", a, "y"), ("a", a, "y")], labelGiven: false, allowSchemaDifferences: false)
        }
        // Different category vocabularies are not a different schema.
        let c = FeatureSchema(features: [.numeric("age"), .categorical("device", ["tablet"])])
        #expect(a.difference(to: c).isEmpty)
    }
}

/// A small deterministic generator for the sample data (SplitMix64).
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

extension SystemRandomNumberGenerator {
    static func seeded(_ seed: UInt64) -> SplitMix { SplitMix(state: seed) }
}
