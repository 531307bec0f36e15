import PropensityClient
import PropensityModel
import PropensityServer
import PropensityTestSupport
import Testing

@testable import PropensityLoad

/// Each generator against a real scorer on loopback, briefly: answers counted, none failed, bad plans refused early.
@Suite(.serialized) struct LoadGeneratorTests {
    func plan(_ mode: LoadPlan.Mode, port: Int) -> LoadPlan {
        var plan = LoadPlan(model: "conv", mode: mode)
        plan.port = port
        plan.connections = 2
        plan.pipeline = 4
        plan.warmup = 0.1
        plan.duration = 0.3
        return plan
    }

    @Test(arguments: [LoadPlan.Mode.closedLoop(rounds: false), .closedLoop(rounds: true), .openLoop(rate: 2000), .blocking])
    func everyModeGetsAnswers(mode: LoadPlan.Mode) async throws {
        let server = try await TestServer.start()
        let result = try await LoadGenerator.run(plan(mode, port: server.port))
        try await server.close()
        #expect(result.completed > 0)
        #expect(result.errors == 0)
        #expect(result.histogram.totalCount == UInt64(result.completed))
        #expect(result.microseconds(atPercentile: 50) > 0)
        #expect(result.spectrum.count == 18)
    }

    /// EXPLAIN frames answered by EXPLANATIONS; asked of a model that cannot explain, every answer is an error.
    @Test(arguments: [LoadPlan.Mode.closedLoop(rounds: false), .openLoop(rate: 2000), .blocking])
    func explainModeGetsExplanations(mode: LoadPlan.Mode) async throws {
        let server = try await TestServer.start(models: ["conv": TestModels.logistic, "bare": TestModels.trees])
        var explaining = plan(mode, port: server.port)
        explaining.explainTop = 2
        let result = try await LoadGenerator.run(explaining)
        explaining.model = "bare"  // no node covers: ERROR 15 for every request
        let refused = try await LoadGenerator.run(explaining)
        try await server.close()
        #expect(result.completed > 0 && result.errors == 0)
        #expect(refused.completed > 0 && refused.errors >= refused.completed)  // errors also count the warm-up's
    }

    @Test func aPlanOutOfRangeIsRefusedBeforeConnecting() async throws {
        var bad = plan(.closedLoop(rounds: false), port: 1)  // nothing listens there
        bad.connections = 0
        await #expect(throws: LoadError.invalidParameter("connections", requirement: "positive")) {
            try await LoadGenerator.run(bad)
        }
        bad = plan(.openLoop(rate: 0), port: 1)
        await #expect(throws: LoadError.invalidParameter("rate", requirement: "positive")) {
            try await LoadGenerator.run(bad)
        }
    }

    @Test func anUnknownModelIsTheServersError() async throws {
        let server = try await TestServer.start()
        var unknown = plan(.blocking, port: server.port)
        unknown.model = "nope"
        await #expect {
            try await LoadGenerator.run(unknown)
        } throws: { error in
            if case ClientError.server(.unknownModel, _) = error { true } else { false }
        }
        try await server.close()
    }

    @Test func theRawSocketReportsARefusedToken() async throws {
        var options = ServerOptions()
        options.token = Array("a-token-of-sixteen-or-more".utf8)
        let server = try await TestServer.start(options: options)
        #expect(throws: LoadError.tokenRefused) {
            try LoadSocket.connect(host: "127.0.0.1", port: server.port, token: Array("wrong".utf8), nonBlocking: false)
        }
        let fd = try LoadSocket.connect(host: "127.0.0.1", port: server.port, token: options.token, nonBlocking: false)
        close(fd)
        try await server.close()
    }
}

#if canImport(Glibc)
import Glibc
#endif
