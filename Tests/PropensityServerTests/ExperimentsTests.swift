import Foundation
import PropensityClient
import PropensityModel
import PropensityProtocol
import PropensityScoring
import PropensityTestSupport
import Testing

@testable import PropensityServer

/// Issue 14's experiments: the file's checks, the split's statistics and stickiness, ROUTE_SCORE through a server,
/// shadows off the path, and a bad file leaving the routes serving.
@Suite struct ExperimentsTests {
    static let file = "experiments.json"

    func parse(_ json: String) throws(ExperimentsError) -> [Route] {
        try ExperimentsFile.parse(Data(json.utf8), file: Self.file)
    }

    func refusal(_ json: String) -> ExperimentsError? {
        do {
            _ = try parse(json)
            return nil
        } catch {
            return error
        }
    }

    @Test func theDocumentedExampleParses() throws {
        let routes = try parse("""
            {"routes": [{"name": "checkout", "salt": "checkout-2026-12",
              "variants": [{"model": "conversion@7", "percent": 90}, {"model": "conversion@8", "percent": 10}],
              "shadows": ["conversion@9"]}]}
            """)
        #expect(routes.count == 1 && routes[0].name == "checkout" && routes[0].shadows == ["conversion@9"])
        #expect(routes[0].variants == [.init(model: "conversion@7", basisPoints: 9000), .init(model: "conversion@8", basisPoints: 1000)])
    }

    @Test func badFilesAreRefusedNamingTheProblem() {
        let f = Self.file
        func route(_ variants: String, salt: String = "\"s\"", shadows: String = "[]") -> String {
            "{\"routes\": [{\"name\": \"r\", \"salt\": \(salt), \"variants\": [\(variants)], \"shadows\": \(shadows)}]}"
        }
        #expect(refusal("not json") == .malformed(file: f, detail: "not valid JSON"))
        #expect(refusal("{\"routes\": [{\"salt\": \"s\", \"variants\": []}]}") == .malformed(file: f, detail: "missing \"name\" at routes[0]"))
        #expect(refusal("{\"routes\": [{\"name\": \"r\", \"salt\": \"s\", \"variants\": [{\"model\": \"m\", \"percent\": \"ten\"}]}]}")
            == .malformed(file: f, detail: "wrong type at routes[0].variants[0].percent"))
        #expect(refusal(route("{\"model\": \"a\", \"percent\": 60}, {\"model\": \"b\", \"percent\": 30}"))
            == .percentagesDoNotSum(file: f, route: "r", total: 90))
        #expect(refusal(route("{\"model\": \"a\", \"percent\": 100.5}")) == .badPercentage(file: f, route: "r", model: "a", value: 100.5))
        #expect(refusal(route("{\"model\": \"a\", \"percent\": 33.333}, {\"model\": \"b\", \"percent\": 66.667}"))
            == .badPercentage(file: f, route: "r", model: "a", value: 33.333))
        #expect(refusal(route("{\"model\": \"a\", \"percent\": 0}, {\"model\": \"b\", \"percent\": 100}"))
            == .badPercentage(file: f, route: "r", model: "a", value: 0))
        #expect(refusal(route("")) == .noVariants(file: f, route: "r"))
        #expect(refusal(route("{\"model\": \"a\", \"percent\": 100}", salt: "\"\"")) == .missingSalt(file: f, route: "r"))
        #expect(refusal(route("{\"model\": \"a\", \"percent\": 100}", shadows: "[\"a\"]")) == .duplicateModel(file: f, route: "r", model: "a"))
        #expect(refusal("{\"routes\": [{\"name\": \"\", \"salt\": \"s\", \"variants\": [{\"model\": \"a\", \"percent\": 100}]}]}")
            == .emptyRouteName(file: f))
        let one = "{\"name\": \"r\", \"salt\": \"s\", \"variants\": [{\"model\": \"a\", \"percent\": 100}]}"
        #expect(refusal("{\"routes\": [\(one), \(one)]}") == .duplicateRoute(file: f, route: "r"))
    }

    @Test func routesMustNameLoadedModelsOfOneSchema() throws {
        let registry = ModelRegistry()
        registry.add(TestModels.logistic, name: "conv")
        registry.add(TestModels.trees, name: "trees")
        let unknown = [Route(name: "r", salt: "s", variants: [.init(model: "nope", basisPoints: 10_000)], shadows: [])]
        #expect(throws: ExperimentsError.unknownModel(file: "f", route: "r", model: "nope")) {
            try RouteTable.check(unknown, against: registry, file: "f")
        }
        let mixed = [Route(name: "r", salt: "s", variants: [.init(model: "conv", basisPoints: 10_000)], shadows: ["trees"])]
        #expect(throws: ExperimentsError.schemaDiffers(file: "f", route: "r", model: "trees")) {
            try RouteTable.check(mixed, against: registry, file: "f")
        }
    }

    /// Over 1,000,000 keys each variant's share is within the binomial 99.9 % bounds (±3.29 σ) of its percentage.
    @Test func theSplitFollowsItsPercentages() {
        let route = Route(
            name: "r", salt: "split-test",
            variants: [.init(model: "a", basisPoints: 7000), .init(model: "b", basisPoints: 2000), .init(model: "c", basisPoints: 1000)],
            shadows: [])
        let n = 1_000_000
        var counts = [0, 0, 0]
        for i in 0..<n { counts[route.variant(for: Array("visitor-\(i)".utf8))] += 1 }
        for (count, share) in zip(counts, [0.7, 0.2, 0.1]) {
            let sd = (Double(n) * share * (1 - share)).squareRoot()
            #expect(abs(Double(count) - Double(n) * share) <= 3.29 * sd, "\(counts)")
        }
    }

    @Test func assignmentIsStickyAndMovesOnlyWhatTheSplitMoves() {
        let before = Route(name: "r", salt: "s1", variants: [.init(model: "a", basisPoints: 9000), .init(model: "b", basisPoints: 1000)], shadows: [])
        let again = Route(name: "r", salt: "s1", variants: before.variants, shadows: [])
        let wider = Route(name: "r", salt: "s1", variants: [.init(model: "a", basisPoints: 8000), .init(model: "b", basisPoints: 2000)], shadows: [])
        let resalted = Route(name: "r", salt: "s2", variants: before.variants, shadows: [])
        var moved = 0, reshuffled = 0
        for i in 0..<20_000 {
            let key = Array("v\(i)".utf8)
            #expect(before.variant(for: key) == again.variant(for: key))
            // Growing b from 10 % to 20 % moves visitors from a to b only.
            if before.variant(for: key) == 1 { #expect(wider.variant(for: key) == 1) }
            if before.variant(for: key) != wider.variant(for: key) { moved += 1 }
            if before.variant(for: key) != resalted.variant(for: key) { reshuffled += 1 }
        }
        #expect(abs(Double(moved) / 20_000 - 0.1) < 0.01)
        #expect(reshuffled > 2000)  // a new salt is a new assignment (≈ 18 % differ)
    }

    /// A directory with two versions of one model, the route file, and a server loading it.
    struct Fleet {
        let dir: String
        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("propensity-exp-\(UUID())").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            guard case .logisticRegression(var lr) = TestModels.logistic.body else { fatalError() }
            try PropensityModelFileBridge.save(TestModels.logistic, to: dir + "/conv@1.model")
            lr.intercept = 0.5
            try PropensityModelFileBridge.save(Model(body: .logisticRegression(lr), metadata: ModelMetadata()), to: dir + "/conv@2.model")
            lr.intercept = -3
            try PropensityModelFileBridge.save(Model(body: .logisticRegression(lr), metadata: ModelMetadata()), to: dir + "/conv@3.model")
            try write("""
                {"routes": [{"name": "checkout", "salt": "checkout-2026-12",
                  "variants": [{"model": "conv@1", "percent": 50}, {"model": "conv@2", "percent": 50}],
                  "shadows": ["conv@3"]}]}
                """)
        }

        func write(_ json: String) throws {
            try Data(json.utf8).write(to: URL(fileURLWithPath: dir + "/experiments.json"), options: .atomic)
        }

        func start() async throws -> (ScoringServer, RouteTable, ModelRegistry) {
            let registry = ModelRegistry()
            try registry.loadDirectory(dir)
            let options = ServerOptions()
            try options.routes.reload(directory: dir, registry: registry)
            let server = try await ScoringServer.start(host: "127.0.0.1", port: 0, registry: registry, options: options)
            return (server, options.routes, registry)
        }
    }

    @Test func routeScoreAnswersWithTheVisitorsVariantInEveryServer() async throws {
        let fleet = try Fleet()
        defer { try? FileManager.default.removeItem(atPath: fleet.dir) }
        let (first, _, registry) = try await fleet.start()
        let (second, _, _) = try await fleet.start()
        let a = try await PropensityClient.connect(host: "127.0.0.1", port: first.port)
        let b = try await PropensityClient.connect(host: "127.0.0.1", port: second.port)
        let info = try await a.modelInfo("checkout")  // a route's name answers with its first variant
        #expect(info.name == "conv" && info.version == "1")
        let row = TestModels.row(3)
        var seen = Set<String>()
        for i in 0..<200 {
            let key = Array("visitor-\(i)".utf8)
            let (variant, scores) = try await a.routeScore(
                route: "checkout", key: key, fingerprint: info.fingerprint, featureCount: 3, features: row)
            let other = try await b.routeScore(
                route: "checkout", key: key, fingerprint: info.fingerprint, featureCount: 3, features: row)
            #expect(other.variant == variant)
            // The answer is the variant's own score, whatever the shadow does.
            let model = try #require(registry.model(named: variant))
            #expect(scores == model.scorer.score(row))
            seen.insert(variant)
        }
        #expect(seen == ["conv@1", "conv@2"])
        // EXPLAIN through the route: the same variant, and the probability SCORE gives.
        for i in 0..<20 {
            let key = Array("visitor-\(i)".utf8)
            let routed = try await a.routeScore(route: "checkout", key: key, fingerprint: info.fingerprint, featureCount: 3, features: row)
            let explained = try await a.routeExplain(
                route: "checkout", key: key, fingerprint: info.fingerprint, featureCount: 3, features: row, top: 2)
            #expect(explained.variant == routed.variant)
            #expect(explained.rows.map(\.probability) == routed.scores && explained.rows[0].reasons.count == 2)
        }
        await expectServerError(.invalidTopK) {
            _ = try await a.routeExplain(route: "checkout", key: [1], fingerprint: info.fingerprint, featureCount: 3, features: row, top: 9)
        }
        await expectServerError(.unknownRoute) {
            _ = try await a.routeScore(route: "nope", key: [1], fingerprint: info.fingerprint, featureCount: 3, features: row)
        }
        await expectServerError(.invalidVisitorKey) {
            _ = try await a.routeScore(route: "checkout", key: [], fingerprint: info.fingerprint, featureCount: 3, features: row)
        }
        await expectServerError(.schemaMismatch) {
            _ = try await a.routeScore(route: "checkout", key: [1], fingerprint: 42, featureCount: 3, features: row)
        }
        try await a.ping()  // the connection survives every refusal
        for client in [a, b] { try await client.close() }
        for server in [first, second] { try await server.close() }
    }

    @Test func shadowsAreScoredOffThePath() async throws {
        let scorer = ShadowScorer(maxPendingRows: 4)
        defer { scorer.stop() }
        let route = Route(name: "r", salt: "s", variants: [.init(model: "conv", basisPoints: 10_000)], shadows: ["conv"])
        let metrics = RouteMetrics(route)
        let served = ServedModel(name: "conv", version: "1", model: TestModels.logistic, path: "")
        let rows = (0..<3).flatMap(TestModels.row)
        let features = rows.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        let job = ShadowScorer.Job(
            metrics: metrics, shadows: [(0, served)], features: features, rowCount: 3, answered: served.scorer.score(rows))
        #expect(scorer.submit(job))
        // Bounded: more rows than the queue holds are dropped, not waited for.
        let big = ShadowScorer.Job(
            metrics: metrics, shadows: [(0, served)], features: features + features, rowCount: 6,
            answered: served.scorer.score(rows + rows))
        #expect(!scorer.submit(big))
        for _ in 0..<200 where scorer.jobsFinished < 1 { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(scorer.jobsFinished == 1)
    }

    @Test func aBadFileKeepsTheRoutesServing() throws {
        let fleet = try Fleet()
        defer { try? FileManager.default.removeItem(atPath: fleet.dir) }
        let registry = ModelRegistry()
        try registry.loadDirectory(fleet.dir)
        let routes = RouteTable()
        #expect(try routes.reload(directory: fleet.dir, registry: registry) == .loaded(["checkout"]))
        #expect(try routes.reload(directory: fleet.dir, registry: registry) == .unchanged)
        try fleet.write("""
            {"routes": [{"name": "checkout", "salt": "s", "variants": [{"model": "conv@1", "percent": 50}, {"model": "conv@9", "percent": 50}]}]}
            """)
        #expect(throws: ExperimentsError.unknownModel(file: fleet.dir + "/experiments.json", route: "checkout", model: "conv@9")) {
            try routes.reload(directory: fleet.dir, registry: registry)
        }
        #expect(routes.route(named: "checkout")?.route.variants.map(\.model) == ["conv@1", "conv@2"])
        // Reported once: the same bad file is not read again...
        #expect(try routes.reload(directory: fleet.dir, registry: registry) == .unchanged)
        // ...until the models change: the model it names has arrived.
        try PropensityModelFileBridge.save(TestModels.logistic, to: fleet.dir + "/conv@9.model")
        try registry.loadDirectory(fleet.dir)
        #expect(try routes.reload(directory: fleet.dir, registry: registry, modelsChanged: true) == .loaded(["checkout"]))
        #expect(routes.route(named: "checkout")?.route.variants.map(\.model) == ["conv@1", "conv@9"])
        try FileManager.default.removeItem(atPath: fleet.dir + "/experiments.json")
        #expect(try routes.reload(directory: fleet.dir, registry: registry) == .removed)
        #expect(routes.names.isEmpty)
    }
}
