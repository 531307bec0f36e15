import PropensityClient
import PropensityModel
import PropensityProtocol
import PropensityScoring
import PropensityServer
import PropensityTestSupport
import Testing

/// EXPLAIN over the wire answers what `Explainer` computes in process, and refuses what it cannot answer alone.
@Suite struct ExplainRequestTests {
    static let trees: Model = {
        guard case .treeEnsemble(var ensemble) = TestModels.trees.body else { fatalError() }
        ensemble.trees[0].covers = [10, 6, 4, 2.5, 3.5]
        return Model(body: .treeEnsemble(ensemble), metadata: TestModels.trees.metadata)
    }()

    @Test func explanationsMatchTheInProcessExplainer() async throws {
        let server = try await TestServer.start(models: ["conv": TestModels.logistic, "trees": Self.trees])
        let client = try await PropensityClient.connect(host: "127.0.0.1", port: server.port)
        for (name, model) in [("conv", TestModels.logistic), ("trees", Self.trees)] {
            let info = try await client.modelInfo(name)
            let rows: [Float] = [35, 0, 3, .nan, 1, 1, 0.2, 2, .nan]
            let answer = try await client.explain(
                model: name, fingerprint: info.fingerprint, featureCount: 3, features: rows, top: 2)
            let local = try Explainer(model: model).explain(rows: rows)
            let scores = Scorer(model: model).score(rows)
            #expect(answer.count == 3)
            for (r, row) in answer.enumerated() {
                #expect(row.probability == scores[r])
                #expect(row.bias == local[r].bias)
                #expect(row.reasons.map(\.feature) == local[r].top(2).map(\.feature))
                #expect(row.reasons.map(\.contribution) == local[r].top(2).map(\.contribution))
            }
        }
        try await client.close()
        try await server.close()
    }

    /// A calibrated model answers SCORE and EXPLAIN with the calibrated probability; contributions stay on the margin.
    @Test func aCalibratedModelServesCalibratedProbabilities() async throws {
        var calibrated = TestModels.logistic
        calibrated.calibrator = .isotonic(IsotonicCurve(margins: [-3, 0, 2], probabilities: [0.01, 0.1, 0.4])!)
        let server = try await TestServer.start(models: ["bare": TestModels.logistic, "calibrated": calibrated])
        let client = try await PropensityClient.connect(host: "127.0.0.1", port: server.port)
        let info = try await client.modelInfo("calibrated")
        let rows: [Float] = [35, 0, 3, .nan, 1, 1, 0.2, 2, .nan, 70, 1, 8]
        let scored = try await client.score(model: "calibrated", fingerprint: info.fingerprint, featureCount: 3, features: rows)
        let bare = try await client.score(model: "bare", fingerprint: info.fingerprint, featureCount: 3, features: rows)
        let explained = try await client.explain(
            model: "calibrated", fingerprint: info.fingerprint, featureCount: 3, features: rows, top: 3)
        let local = try Explainer(model: TestModels.logistic).explain(rows: rows)
        for r in 0..<4 {
            let row = Array(rows[(3 * r)..<(3 * r + 3)])
            #expect(scored[r] == Float(calibrated.probability(row)) && scored[r] != bare[r])
            #expect(explained[r].probability == scored[r])
            #expect(explained[r].bias == local[r].bias)
            #expect(explained[r].reasons.map(\.contribution) == local[r].top(3).map(\.contribution))
        }
        try await client.close()
        try await server.close()
    }

    @Test func badExplainRequestsFailAlone() async throws {
        var options = ServerOptions()
        options.limits.maxRowsPerExplain = 2
        let server = try await TestServer.start(
            models: ["covered": Self.trees, "bare": TestModels.trees], options: options)
        let client = try await PropensityClient.connect(host: "127.0.0.1", port: server.port)
        let info = try await client.modelInfo("covered")
        let row: [Float] = [0.2, 1, 0]
        for top in [0, 4] {
            await expectServerError(.invalidTopK) {
                _ = try await client.explain(model: "covered", fingerprint: info.fingerprint, featureCount: 3, features: row, top: top)
            }
        }
        await expectServerError(.cannotExplain) {
            _ = try await client.explain(model: "bare", fingerprint: info.fingerprint, featureCount: 3, features: row, top: 1)
        }
        await expectServerError(.tooManyRows) {
            _ = try await client.explain(
                model: "covered", fingerprint: info.fingerprint, featureCount: 3, features: row + row + row, top: 1)
        }
        // The connection keeps serving.
        let ok = try await client.explain(model: "covered", fingerprint: info.fingerprint, featureCount: 3, features: row, top: 3)
        #expect(ok[0].reasons.count == 3)
        try await client.close()
        try await server.close()
    }
}
