import PropensityClient
import PropensityData
import PropensityDrift
import PropensityInput
import PropensityModel
import PropensityScoring
import PropensityTestSupport
import Testing

@testable import PropensityServer

/// Issue 14's drift acceptance through the server: Bank Marketing rows with one column shifted, scored over the
/// wire (batched, single-row pipelined and EXPLAIN), make that column's PSI pass 0.25 while the others stay below 0.1.
@Suite(.enabled(if: SharedDatasets.available, "needs ../shared/datasets"))
struct DriftServerTests {
    /// A logistic model over every Bank Marketing input (only age and campaign weigh), with the profile of the rows
    /// whose index mod 5 is not 0; the other rows, held out, are what the server is sent.
    static let bank: (model: Model, current: [Float]) = {
        let (schema, reference, current) = BankMarketing.inputs
        let terms: [LogisticRegressionModel.Term] = schema.features.map { feature in
            switch feature.kind {
            case .numeric:
                let weight = feature.name == "age" ? 0.5 : feature.name == "campaign" ? -0.3 : 0
                return .numeric(.init(center: 40, scale: 10, imputedValue: 40, weight: weight, missingWeight: nil))
            case .categorical(let categories):
                return .categorical(categoryWeights: [Double](repeating: 0, count: categories.count))
            }
        }
        var model = Model(
            body: .logisticRegression(LogisticRegressionModel(schema: schema, intercept: -2, terms: terms)),
            metadata: ModelMetadata())
        model.drift = DriftProfileBuilder.profile(rows: reference, schema: schema, scores: Scorer(model: model).score(reference))
        return (model, current)
    }()

    @Test func aShiftedColumnShowsInTheServersGauges() async throws {
        let (model, current) = Self.bank
        let width = model.schema.count
        let age = try #require(model.schema.index(of: "age"))
        var shifted = current
        for i in 0..<(shifted.count / width) { shifted[i * width + age] += 8 }
        let rowCount = shifted.count / width

        let registry = ModelRegistry()
        registry.add(model, name: "bank")
        var plain = model
        plain.drift = nil
        registry.add(plain, name: "untracked")
        let server = try await ScoringServer.start(host: "127.0.0.1", port: 0, registry: registry)
        let client = try await PropensityClient.connect(host: "127.0.0.1", port: server.port)
        let fingerprint = try await client.modelInfo("bank").fingerprint
        let served = Scorer(model: model)
        // Single rows (the server's batch path), then 250-row requests; answers are the model's own scores.
        var sent = 0
        for _ in 0..<300 {
            let row = Array(shifted[(sent * width)..<((sent + 1) * width)])
            let score = try await client.score(model: "bank", fingerprint: fingerprint, featureCount: width, features: row)
            #expect(score == served.score(row))
            sent += 1
        }
        while sent < rowCount {
            let end = min(rowCount, sent + 250)
            _ = try await client.score(
                model: "bank", fingerprint: fingerprint, featureCount: width,
                features: Array(shifted[(sent * width)..<(end * width)]))
            sent = end
        }
        _ = try await client.score(
            model: "untracked", fingerprint: fingerprint, featureCount: width, features: Array(shifted.prefix(width)))

        let reports = server.driftReports()
        #expect(reports["untracked@1"] == nil)
        let report = try #require(reports["bank@1"])
        #expect(report.currentRows == UInt64(rowCount))
        for c in report.columns {
            if c.name == "age" {
                #expect(c.psi > 0.25, "age: \(c.psi)")
            } else {
                #expect(c.psi < 0.1, "\(c.name): \(c.psi)")
            }
        }
        // The model weighs age, so its scores moved too.
        #expect(report.scorePSI > 0.1)
        // What the server counted is what the offline command computes from the same rows.
        let offline = DriftReport(
            profile: model.drift!, schema: model.schema,
            counts: DriftCounts.of(rows: shifted, scores: served.score(shifted), profile: model.drift!))
        #expect(report == offline)
        try await client.close()
        try await server.close()
    }

    @Test func driftTrackingCanBeTurnedOff() async throws {
        var settings = DriftSettings()
        settings.enabled = false
        let registry = ModelRegistry(drift: settings)
        registry.add(Self.bank.model, name: "bank")
        #expect(registry.model(named: "bank")?.drift == nil)
    }
}
